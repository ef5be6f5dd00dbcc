/**
 * Offsets to lines and columns: the one helper every parser and scanner uses. Pure.
 * Lines are split on `\n` only (a lone `\r` is part of its line, as in git and the engine).
 */

/** Where each line starts: `starts[i]` is the offset of line i (0-based). Works on text or bytes. */
export function lineStarts(text: string | Uint8Array): number[] {
  const starts = [0];
  if (typeof text === 'string') {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  } else {
    const b = Buffer.isBuffer(text) ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) starts.push(i + 1);
  }
  return starts;
}

/** The 0-based line holding `offset`, by binary search over `lineStarts`. */
export function lineIndexOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** 1-based line and column (in the units of `text`) of one offset, without building an index. */
export function lineColumnOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}
