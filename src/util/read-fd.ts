/**
 * Reads an open file to its end (at most `size` bytes, the size `fstat` gave): a file that shrinks
 * meanwhile ends early, one that grows is cut at `size`.
 */
import { readSync } from 'node:fs';

export function readFdText(fd: number, size: number): string {
  const buf = Buffer.alloc(size);
  let at = 0;
  while (at < buf.length) {
    const n = readSync(fd, buf, at, buf.length - at, at);
    if (n === 0) break;
    at += n;
  }
  return buf.toString('utf8', 0, at);
}
