/**
 * The detector catalogue as issue 11 states it: at least 250 credential types, each detector
 * with a unique id, prefilter keywords and a link on how to revoke or rotate what it finds.
 */
import { describe, expect, it } from 'vitest';
import { builtinDetectors } from '../../src/scan/detectors/index.js';

describe('detector catalogue', () => {
  it('covers at least 250 credential types, every id unique', () => {
    expect(new Set(builtinDetectors.map((d) => d.type)).size).toBeGreaterThanOrEqual(250);
    expect(new Set(builtinDetectors.map((d) => d.id)).size).toBe(builtinDetectors.length);
  });

  it('gives every detector keywords for the prefilter and a docs link (Keywarden’s own keys are revoked with `keywarden keys`)', () => {
    for (const d of builtinDetectors) {
      expect(d.keywords.length, d.id).toBeGreaterThan(0);
      if (d.keywordCase !== 'exact') for (const k of d.keywords) expect(k, d.id).toBe(k.toLowerCase());
      if (d.id !== 'keywarden-local-key') expect(d.docs, d.id).toMatch(/^https:\/\//);
    }
  });
});
