/**
 * How far a detector's pattern reaches decides how much the pieces of a long window overlap
 * (engine.ts): too little and a match across a piece border is lost. Every built-in pattern must
 * have a finite reach the analyser can read.
 */
import { describe, expect, it } from 'vitest';
import { builtinDetectors } from '../../src/scan/detectors/index.js';
import { patternReach } from '../../src/scan/detectors/pattern-reach.js';

describe('patternReach', () => {
  it.each([
    ['abc', 3, 0],
    ['a{3,7}b?', 8, 0],
    ['(?:ab|c){2,5}x', 11, 0],
    ['(?<![a-z])(ghp_[A-Za-z0-9]{36})(?![a-z])', 41, 1],
    ['(?<=abc)d', 1, 3],
    ['\\bfoo\\b', 4, 1],
    ['(?<q>["\']?)x{2}\\k<q>', 4, 0],
    ['[\\]a-z]{2}', 2, 0],
    ['x(?=(y{10}))\\1', 11, 0],
    ['a{,3}', 5, 0], // not a quantifier in JavaScript: five literal characters
  ])('%s reaches %d ahead and %d behind', (source, ahead, behind) => {
    expect(patternReach(source)).toEqual({ ahead, behind });
  });

  it.each(['a+', 'x*', 'a{2,}', '(a+)+$', '(?i)abc', '(unclosed'])('%s is unbounded (or unreadable, which counts as unbounded)', (source) => {
    expect(patternReach(source).ahead).toBe(Number.POSITIVE_INFINITY);
  });

  it('gives every built-in detector a finite reach that each of its known matches fits in', () => {
    for (const d of builtinDetectors) {
      const r = patternReach(d.pattern.source);
      expect(Number.isFinite(r.ahead), d.id).toBe(true);
      expect(r.ahead, d.id).toBeLessThanOrEqual(70_000);
    }
  });
});
