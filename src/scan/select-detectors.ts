/**
 * Turns a detector selection (built-in ids, `recommended`, custom patterns from a policy or
 * flags) into the list of detectors a scan runs. Data in, detectors out: the same selection
 * is sent to every worker thread, which rebuilds the same ruleset.
 */
import { ErrorCode, KeywardenError } from '../errors.js';
import { builtinDetectors } from './detectors/index.js';
import { createLinearPattern } from './linear-pattern.js';
import type { CustomDetectorSpec, Detector } from './types.js';

export interface DetectorSelection {
  /** Built-in ids, credential types, or `recommended` (all built-ins). Default: `recommended`. */
  include?: string[];
  /** Ids or types to leave out. */
  exclude?: string[];
  custom?: CustomDetectorSpec[];
  /** Set false to run only the custom detectors. */
  builtins?: boolean;
}

export function selectDetectors(selection: DetectorSelection = {}): Detector[] {
  const custom = (selection.custom ?? []).map(compileCustomDetector);
  if (selection.builtins === false) return custom;
  const include = selection.include?.length ? selection.include : ['recommended'];
  const known = new Set(builtinDetectors.flatMap((d) => [d.id, d.type]));
  for (const name of [...include, ...(selection.exclude ?? [])]) {
    if (name !== 'recommended' && !known.has(name)) {
      throw new KeywardenError(ErrorCode.DETECTOR_INVALID, `Unknown detector "${name}".`, {
        hint: 'Run `keywarden scan --list-detectors` to see the built-in ids and types.',
      });
    }
  }
  const exclude = new Set(selection.exclude ?? []);
  const chosen = builtinDetectors.filter(
    (d) => (include.includes('recommended') || include.includes(d.id) || include.includes(d.type)) && !exclude.has(d.id) && !exclude.has(d.type),
  );
  return [...chosen, ...custom];
}

/**
 * Builds a detector from configuration, checking its pattern and deriving keywords if none are
 * given. The pattern is compiled by the linear-time engine (`createLinearPattern`): configuration
 * can never make a scan backtrack. Throws `KW_DETECTOR_INVALID` naming the detector.
 */
export function compileCustomDetector(spec: CustomDetectorSpec): Detector {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(spec.id)) {
    throw new KeywardenError(ErrorCode.DETECTOR_INVALID, `Custom detector id "${spec.id}" must be kebab-case (a-z, 0-9, -).`);
  }
  const pattern = createLinearPattern(spec.pattern, spec.flags ?? '', { detector: spec.id });
  const keywords = (spec.keywords?.length ? spec.keywords : deriveKeywords(spec.pattern)).map((k) => k.toLowerCase());
  if (keywords.length === 0 || keywords.some((k) => !/^[\x20-\x7e]+$/.test(k))) {
    throw new KeywardenError(ErrorCode.DETECTOR_INVALID, `Custom detector "${spec.id}" needs keywords: its pattern has no literal prefix of 3 or more characters.`, {
      hint: 'Add `keywords: [...]` with ASCII words that appear in or just before every match.',
    });
  }
  return {
    id: spec.id,
    type: spec.type ?? spec.id,
    title: spec.title ?? `Custom secret (${spec.id})`,
    severity: spec.severity ?? 'high',
    confidence: spec.confidence ?? 'medium',
    keywords,
    pattern,
    ...(spec.minEntropy === undefined ? {} : { minEntropy: spec.minEntropy }),
  };
}

/** The literal characters a pattern must start with, if 3 or more (`itk_[a-z0-9]{32}` → `itk_`). */
function deriveKeywords(source: string): string[] {
  let lit = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '^' && i === 0) continue;
    if (c === '\\') {
      const nx = source[i + 1] ?? '';
      if (nx === 'b' || nx === 'B') {
        i++; // a word boundary is zero-width: the literal goes on
        continue;
      }
      if (/[^A-Za-z0-9]/.test(nx)) {
        lit += nx;
        i++;
        continue;
      }
      break;
    }
    if ('[](){}.*+?|^$'.includes(c)) {
      // A quantifier makes the last literal optional.
      if ('*?{'.includes(c)) lit = lit.slice(0, -1);
      break;
    }
    lit += c;
  }
  return lit.length >= 3 ? [lit] : [];
}
