/**
 * JSON string literals with escapes, unescaped (`\/`, `\uXXXX`, `\n`, `\"`): a token written
 * `ghp_\u0041…` or a URL `https:\/\/user:pass@host` in a JSON file, a notebook's source and
 * outputs (`.ipynb`: arrays of escaped strings). One level: `\\u0041` decodes to `\u0041`, not
 * further. Each string with an escape is one segment, every decoded byte mapped to the escape
 * it came from.
 */
import { Buffer } from 'node:buffer';
import { takeBudget, type DecodedSegment, type ViewBudget } from './segments.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** A string longer than this is not decoded (counted as cut). */
const MAX_STRING = 256 * 1024;

const SIMPLE: Record<number, number> = { 0x6e: 10, 0x74: 9, 0x72: 13, 0x62: 8, 0x66: 12, 0x2f: 0x2f, 0x5c: 0x5c, 0x22: 0x22, 0x27: 0x27 };

/** Whether the buffer holds an escape that can hide a secret's characters (`\/`, `\u`). */
function worthDecoding(bytes: Buffer): boolean {
  return bytes.indexOf('\\/') !== -1 || bytes.indexOf('\\u') !== -1 || bytes.indexOf('\\"') !== -1;
}

export function jsonStringSegments(bytes: Buffer, budget: ViewBudget, out: DecodedSegment[]): void {
  if (!worthDecoding(bytes)) return;
  const n = bytes.length;
  let i = bytes.indexOf(QUOTE);
  while (i !== -1 && i < n) {
    // The string from the quote at i: to the next unescaped quote on the same line.
    let j = i + 1;
    let escaped = false;
    let closed = false;
    for (; j < n && j - i <= MAX_STRING; j++) {
      const c = bytes[j]!;
      if (c === BACKSLASH) {
        escaped = true;
        j++;
      } else if (c === QUOTE) {
        closed = true;
        break;
      } else if (c === 10) break;
    }
    if (!closed) {
      if (j - i > MAX_STRING) budget.cut++;
      // Not a string (or too long): go on from the next quote after it started.
      i = j >= n ? -1 : bytes.indexOf(QUOTE, j);
      continue;
    }
    if (escaped) {
      const seg = decode(bytes, i + 1, j);
      if (takeBudget(budget, seg.text.length)) out.push(seg);
    }
    i = bytes.indexOf(QUOTE, j + 1);
  }
}

function decode(bytes: Buffer, from: number, to: number): DecodedSegment {
  const text = Buffer.allocUnsafe(to - from);
  const offsets = new Int32Array(to - from);
  let k = 0;
  const put = (b: number, at: number): void => {
    text[k] = b;
    offsets[k++] = at;
  };
  for (let p = from; p < to; p++) {
    const c = bytes[p]!;
    if (c !== BACKSLASH || p + 1 >= to) {
      put(c, p);
      continue;
    }
    const e = bytes[p + 1]!;
    const simple = SIMPLE[e];
    if (simple !== undefined) {
      put(simple, p);
      p++;
      continue;
    }
    if (e === 0x75 && p + 5 < to) {
      const hex = bytes.toString('latin1', p + 2, p + 6);
      if (/^[0-9A-Fa-f]{4}$/.test(hex)) {
        // At most three UTF-8 bytes for six input bytes (a lone surrogate becomes U+FFFD).
        for (const b of Buffer.from(String.fromCharCode(parseInt(hex, 16)), 'utf8')) put(b, p);
        p += 5;
        continue;
      }
    }
    put(c, p);
  }
  return { view: 'json-string', rawStart: from, rawEnd: to, text: text.subarray(0, k), offsets: offsets.subarray(0, k) };
}
