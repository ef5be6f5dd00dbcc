/**
 * How a path that is not valid UTF-8 is shown. Git and POSIX file names are bytes; findings carry
 * a string. A valid UTF-8 name is shown as it is. In any other name every byte that is not part
 * of a valid UTF-8 sequence becomes `\xNN` (always 80–ff) and a backslash becomes `\\`, so the
 * form is lossless. Control characters are escaped
 * later, by each output format (text output must not let a name forge lines or drive a terminal).
 */
import { isUtf8 } from 'node:buffer';

export function displayName(bytes: Uint8Array): string {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(b)) return b.toString('utf8');
  let out = '';
  let i = 0;
  while (i < b.length) {
    const n = utf8SequenceLength(b, i);
    if (n === 0) {
      out += `\\x${b[i]!.toString(16).padStart(2, '0')}`;
      i++;
    } else {
      const s = b.toString('utf8', i, i + n);
      out += s === '\\' ? '\\\\' : s;
      i += n;
    }
  }
  return out;
}

/** Length of the valid UTF-8 sequence at `i` (1–4), or 0 if the byte starts none. */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let n: number;
  let min: number;
  if (c >= 0xc2 && c <= 0xdf) [n, min] = [2, 0x80];
  else if (c >= 0xe0 && c <= 0xef) [n, min] = [3, 0x800];
  else if (c >= 0xf0 && c <= 0xf4) [n, min] = [4, 0x10000];
  else return 0;
  if (i + n > b.length) return 0;
  let cp = c & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const cc = b[i + k]!;
    if ((cc & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}
