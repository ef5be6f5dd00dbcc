/**
 * Scans a buffer's decoded views (`segments.ts`) in addition to its raw bytes, never instead:
 * the caller keeps every raw finding and adds these. Pure, no I/O.
 *
 * All segments of a buffer are scanned as one text (each on lines of its own), so the cost is
 * one more engine pass over at most `MAX_VIEW_BYTES`; each finding comes back with the buffer
 * offsets of the encoded text it was decoded from. A finding that runs over several segments
 * (a key split over a notebook's lines) spans from its first segment to its last.
 */
import { Buffer } from 'node:buffer';
import { scanBytes, type Ruleset } from '../engine.js';
import type { Finding } from '../types.js';
import { lineStarts } from '../../util/line-column.js';
import { jsonStringSegments } from './json-strings.js';
import { k8sSecretSegments } from './k8s-secret.js';
import { createViewBudget, rawOffsetOf, type DecodedSegment, type ViewBudget } from './segments.js';
import { stringConcatSegments } from './string-concat.js';
import { urlEncodedSegments } from './url-encoded.js';

export { createViewBudget, MAX_VIEW_BYTES, MAX_VIEW_SEGMENTS, type ViewBudget } from './segments.js';

/** A finding of a decoded view, with the buffer offsets of the encoded text it came from. */
export interface ViewHit {
  f: Finding;
  start: number;
  end: number;
}

export interface ViewScanResult {
  hits: ViewHit[];
  suppressed: number;
  /** Encoded values or strings left out: over the budget, or longer than a view reads. */
  cut: number;
}

/** The decoded segments of `bytes`, in buffer order per view, within `budget`. */
export function decodedSegments(bytes: Buffer, budget: ViewBudget): DecodedSegment[] {
  const out: DecodedSegment[] = [];
  k8sSecretSegments(bytes, budget, out);
  jsonStringSegments(bytes, budget, out);
  urlEncodedSegments(bytes, budget, out);
  stringConcatSegments(bytes, budget, out);
  return out;
}

/**
 * @example
 * const { hits } = scanDecodedViews(Buffer.from(manifest), ruleset, { file: 'secret.yaml' });
 * // hits[0].start: the offset of the base64 value the secret was decoded from
 */
export function scanDecodedViews(
  bytes: Buffer,
  ruleset: Ruleset,
  options: { file: string; inlineAllow?: boolean; budget?: ViewBudget },
): ViewScanResult {
  const budget = options.budget ?? createViewBudget();
  const segments = decodedSegments(bytes, budget);
  if (!segments.length) return { hits: [], suppressed: 0, cut: budget.cut };
  // One text: each segment on its own lines, so a pattern never joins two (a key block split over
  // lines still reads as its lines).
  const starts = new Int32Array(segments.length);
  let size = 0;
  for (let i = 0; i < segments.length; i++) {
    starts[i] = size;
    size += segments[i]!.text.length + 1;
  }
  const text = Buffer.allocUnsafe(size);
  for (let i = 0; i < segments.length; i++) {
    segments[i]!.text.copy(text, starts[i]!);
    text[starts[i]! + segments[i]!.text.length] = 10;
  }
  const r = scanBytes(text, ruleset, { file: options.file, ...(options.inlineAllow === false ? { inlineAllow: false } : {}) });
  if (!r.findings.length) return { hits: [], suppressed: r.suppressed, cut: budget.cut };
  const lines = lineStarts(text);
  const offsetOf = (line: number, column: number): number => Math.min(size, lines[line - 1]! + column - 1);
  const segmentOf = (offset: number): number => {
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const hits: ViewHit[] = [];
  for (const f of r.findings) {
    const s = offsetOf(f.startLine, f.startColumn);
    const e = offsetOf(f.endLine, f.endColumn);
    const a = segmentOf(s);
    const b = segmentOf(Math.max(s, e - 1));
    const start = rawOffsetOf(segments[a]!, s - starts[a]!);
    const last = rawOffsetOf(segments[b]!, Math.max(0, Math.min(segments[b]!.text.length, e - starts[b]!) - 1));
    // The end: past the encoded form of the last decoded byte (a whole escape, a base64 quad).
    const end = segments[b]!.offsets ? Math.min(segments[b]!.rawEnd, nextOffset(segments[b]!, e - starts[b]!, last)) : rawOffsetOf(segments[b]!, e - starts[b]!);
    hits.push({ f, start, end: Math.max(end, start + 1) });
  }
  return { hits, suppressed: r.suppressed, cut: budget.cut };
}

/** The buffer offset just past decoded byte `i - 1` (the start of the next decoded byte's encoding). */
function nextOffset(seg: DecodedSegment, i: number, last: number): number {
  for (let k = i; k < seg.text.length; k++) if (seg.offsets![k]! > last) return seg.offsets![k]!;
  return seg.rawEnd;
}
