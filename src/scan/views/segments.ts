/**
 * Decoded views of a buffer: pieces of text that are encoded in the bytes (a Kubernetes Secret's
 * base64 `data:` values, JSON strings with escapes, URL-encoded runs), decoded so the detectors can
 * read them. Pure: bytes in, segments out.
 *
 * Hostile input is expected, so every view is bounded: each decodes one level only (what a decoded
 * segment itself encodes is not decoded again), and all of a buffer's views share one budget of
 * decoded bytes and segments (`ViewBudget`); what did not fit is counted in `cut`, never silent.
 * Decoding never expands: each decoded byte comes from at least one input byte (base64 gives three
 * bytes for four), so no input can make a view larger than itself.
 */
import type { Buffer } from 'node:buffer';

/** One decoded piece and where it sits in the buffer it was decoded from. */
export interface DecodedSegment {
  /** Which view made it (for warnings). */
  view: ViewName;
  /** The encoded text's byte range in the buffer. */
  rawStart: number;
  rawEnd: number;
  /** The decoded bytes. */
  text: Buffer;
  /**
   * The buffer offset of each decoded byte; absent when decoded bytes map proportionally into
   * [rawStart, rawEnd) (base64: four characters for three bytes).
   */
  offsets?: Int32Array;
}

export type ViewName = 'k8s-secret' | 'json-string' | 'url-encoded' | 'string-concat';

export interface ViewBudget {
  /** Decoded bytes, all views of one buffer together. */
  bytesLeft: number;
  /** Segments, all views of one buffer together. */
  segmentsLeft: number;
  /** Segments (or encoded values) left out because the budget was spent, or longer than a view reads. */
  cut: number;
}

/** Decoded bytes one buffer's views may produce (4 MiB). */
export const MAX_VIEW_BYTES = 4 * 1024 * 1024;
/** Segments one buffer's views may produce. */
export const MAX_VIEW_SEGMENTS = 20_000;

export function createViewBudget(bytes = MAX_VIEW_BYTES, segments = MAX_VIEW_SEGMENTS): ViewBudget {
  return { bytesLeft: bytes, segmentsLeft: segments, cut: 0 };
}

/** Takes room for a segment of `size` decoded bytes; false (and counted) when it does not fit. */
export function takeBudget(budget: ViewBudget, size: number): boolean {
  if (budget.segmentsLeft <= 0 || size > budget.bytesLeft) {
    budget.cut++;
    return false;
  }
  budget.segmentsLeft--;
  budget.bytesLeft -= size;
  return true;
}

/** Where decoded byte `i` of `seg` (0 ≤ i ≤ text.length) sits in the buffer. */
export function rawOffsetOf(seg: DecodedSegment, i: number): number {
  if (seg.offsets) return i >= seg.text.length ? seg.rawEnd : seg.offsets[Math.max(0, i)]!;
  if (seg.text.length === 0) return seg.rawStart;
  return seg.rawStart + Math.min(seg.rawEnd - seg.rawStart, Math.floor((i * (seg.rawEnd - seg.rawStart)) / seg.text.length));
}
