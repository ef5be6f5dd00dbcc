/**
 * Sites to offsets, checked against their fingerprints, and text edits applied in one pass.
 *
 * Security property: a site is patched only when the text at its range hashes to its
 * fingerprint. Positions can be outdated (the file changed since the scan); a patch must never
 * cut the wrong text, so such a site is `stale` and left alone.
 */
import { ErrorCode } from '../errors.js';
import { fingerprintSecret } from '../scan/redact.js';
import { lineIndexOf, lineStarts } from '../util/line-column.js';
import type { PatchSite, Replacement, SiteOutcome } from './types.js';

/** A site whose range was found in the text and whose text hashes to its fingerprint. */
export interface VerifiedSite {
  /** Index into the input's `sites`. */
  index: number;
  site: PatchSite;
  start: number;
  end: number;
  /** The text at the range: the secret. Stays in this process. */
  secret: string;
  replaceWith: Replacement;
}

export interface ResolvedSites {
  /** Verified, sorted by start, without duplicates or overlaps. */
  verified: VerifiedSite[];
  /** Outcomes decided already (stale, unsupported), by input index. */
  outcomes: Map<number, SiteOutcome>;
  /** Input index → the verified site it duplicates (same range and fingerprint). */
  duplicates: Map<number, number>;
  starts: number[];
}

export function resolveSites(text: string, sites: readonly PatchSite[]): ResolvedSites {
  const starts = lineStarts(text);
  const outcomes = new Map<number, SiteOutcome>();
  const candidates: VerifiedSite[] = [];
  sites.forEach((site, index) => {
    const start = offsetOf(text, starts, site.startLine, site.startColumn);
    const end = offsetOf(text, starts, site.endLine, site.endColumn);
    if (start === undefined || end === undefined || end <= start) {
      outcomes.set(index, unsupported(site, 'The range does not fit the text of the file.'));
      return;
    }
    const secret = text.slice(start, end);
    if (fingerprintSecret(secret) !== site.fingerprint) {
      outcomes.set(index, {
        fingerprint: site.fingerprint,
        line: site.startLine,
        outcome: 'stale',
        code: ErrorCode.PATCH_STALE,
        detail: 'The text at this range no longer matches the fingerprint: the file changed since the scan. Scan again.',
      });
      return;
    }
    const replaceWith = site.replaceWith ?? { kind: 'env' };
    if (replaceWith.kind === 'value' && fingerprintSecret(replaceWith.value) === site.fingerprint) {
      outcomes.set(index, unsupported(site, 'The replacement value is the secret itself.'));
      return;
    }
    candidates.push({ index, site, start, end, secret, replaceWith });
  });
  candidates.sort((a, b) => a.start - b.start || a.end - b.end || a.index - b.index);
  const verified: VerifiedSite[] = [];
  const duplicates = new Map<number, number>();
  for (const c of candidates) {
    const last = verified[verified.length - 1];
    if (last && last.start === c.start && last.end === c.end) {
      duplicates.set(c.index, last.index);
    } else if (last && c.start < last.end) {
      outcomes.set(c.index, unsupported(c.site, 'The range overlaps another site; patch it after the first one.'));
    } else {
      verified.push(c);
    }
  }
  return { verified, outcomes, duplicates, starts };
}

/** 0-based offset of a 1-based line and column, or undefined when the position is not in the text. */
function offsetOf(text: string, starts: readonly number[], line: number, column: number): number | undefined {
  if (!Number.isInteger(line) || !Number.isInteger(column) || line < 1 || column < 1 || line > starts.length) return undefined;
  const lineStart = starts[line - 1]!;
  const next = starts[line];
  const lineEnd = next === undefined ? text.length : next - 1;
  const offset = lineStart + column - 1;
  return offset <= lineEnd ? offset : undefined;
}

export function unsupported(site: PatchSite, detail: string): SiteOutcome {
  return { fingerprint: site.fingerprint, line: site.startLine, outcome: 'unsupported', code: ErrorCode.PATCH_UNSUPPORTED, detail };
}

/** One replacement of `[start, end)` by `text`, for the sites it patches. */
export interface TextEdit {
  start: number;
  end: number;
  text: string;
  /** Input indexes of the sites this edit patches. */
  sites: number[];
  /** The variables this edit makes the code read; `at`: where the reference starts in `text` (default 0). */
  env?: Array<{ name: string; fingerprint: string; at?: number }>;
}

/**
 * Applies non-overlapping edits in one pass; returns the new text and where each edit's text
 * starts in it (in the order of `edits`).
 */
export function applyEdits(text: string, edits: readonly TextEdit[]): { text: string; newStarts: number[] } {
  const order = edits.map((_, i) => i).sort((a, b) => edits[a]!.start - edits[b]!.start);
  const parts: string[] = [];
  const newStarts = new Array<number>(edits.length).fill(0);
  let pos = 0;
  let length = 0;
  for (const i of order) {
    const e = edits[i]!;
    if (e.start < pos) throw new RangeError('overlapping edits');
    parts.push(text.slice(pos, e.start));
    length += e.start - pos;
    newStarts[i] = length;
    parts.push(e.text);
    length += e.text.length;
    pos = e.end;
  }
  parts.push(text.slice(pos));
  return { text: parts.join(''), newStarts };
}

/** The variables a set of applied edits introduced, one per name, with their line in the new text. */
export function envVarsOf(newText: string, edits: readonly TextEdit[], newStarts: readonly number[]): Array<{ name: string; fingerprint: string; line: number }> {
  const starts = lineStarts(newText);
  const seen = new Map<string, { name: string; fingerprint: string; line: number }>();
  edits.forEach((e, i) => {
    for (const v of e.env ?? []) {
      const line = lineIndexOf(starts, newStarts[i]! + (v.at ?? 0)) + 1;
      const had = seen.get(v.name);
      if (!had || line < had.line) seen.set(v.name, { name: v.name, fingerprint: v.fingerprint, line });
    }
  });
  return [...seen.values()].sort((a, b) => a.line - b.line || a.name.localeCompare(b.name));
}

/** True when `s` ends inside an escape sequence (an odd run of backslashes at its end). */
export function endsInEscape(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}
