/**
 * URL-encoded text (`%2F`, `%3D`, `%2B` in a query string or a form body), percent-decoded: a
 * token with a `/`, `=` or `+` is written so in a URL, where no detector sees it. Each run of URL
 * characters holding an escape is one segment; `+` stays `+` (a token's `+` is `%2B`, and a
 * space never is part of one).
 */
import { Buffer } from 'node:buffer';
import { takeBudget, type DecodedSegment, type ViewBudget } from './segments.js';

/** The longest run decoded; a longer one is cut into runs of this length. */
const MAX_RUN = 8 * 1024;

const URL_CHARS = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789%._~+/=:@!$&'()*,;?#-") URL_CHARS[c.charCodeAt(0)] = 1;

const hexValue = (b: number): number => (b >= 48 && b <= 57 ? b - 48 : b >= 65 && b <= 70 ? b - 55 : b >= 97 && b <= 102 ? b - 87 : -1);

export function urlEncodedSegments(bytes: Buffer, budget: ViewBudget, out: DecodedSegment[]): void {
  const n = bytes.length;
  let p = bytes.indexOf(0x25);
  let done = 0; // bytes before this belong to a run already taken
  while (p !== -1) {
    if (p + 2 < n && hexValue(bytes[p + 1]!) >= 0 && hexValue(bytes[p + 2]!) >= 0 && p >= done) {
      let s = p;
      while (s > done && p - s < MAX_RUN && URL_CHARS[bytes[s - 1]!]) s--;
      let e = p;
      while (e < n && e - s < MAX_RUN && URL_CHARS[bytes[e]!]) e++;
      const seg = decode(bytes, s, e);
      if (takeBudget(budget, seg.text.length)) out.push(seg);
      done = e;
      p = bytes.indexOf(0x25, e);
      continue;
    }
    p = bytes.indexOf(0x25, Math.max(p + 1, done));
  }
}

function decode(bytes: Buffer, from: number, to: number): DecodedSegment {
  const text = Buffer.allocUnsafe(to - from);
  const offsets = new Int32Array(to - from);
  let k = 0;
  for (let p = from; p < to; p++) {
    const c = bytes[p]!;
    const hi = c === 0x25 && p + 2 < to ? hexValue(bytes[p + 1]!) : -1;
    const lo = hi >= 0 ? hexValue(bytes[p + 2]!) : -1;
    offsets[k] = p;
    if (lo >= 0) {
      text[k++] = hi * 16 + lo;
      p += 2;
    } else text[k++] = c;
  }
  return { view: 'url-encoded', rawStart: from, rawEnd: to, text: text.subarray(0, k), offsets: offsets.subarray(0, k) };
}
