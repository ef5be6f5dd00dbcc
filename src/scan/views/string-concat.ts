/**
 * String literals joined with `+` (JavaScript, TypeScript, Java, C#, Python, Go, Kotlin) or ` . `
 * (PHP, Perl), on one line or over several: `"xoxb-1898" + "55211274-…"`, a token split so that no
 * raw line holds it. Each run of two or more joined literals is one segment: the raw text of its
 * line before the first literal (so `const apiKey = ` still names it), then the literals' contents
 * joined, inside one pair of quotes. Every decoded byte maps to the raw byte it came from.
 *
 * Only literal-to-literal joins count: `"https://" + host` ends a run. Escapes are kept as written
 * (the JSON view decodes escapes; one level each). Linear: each byte is read a bounded number of
 * times (a literal is at most `MAX_LITERAL` bytes and never crosses a line).
 */
import { Buffer } from 'node:buffer';
import { takeBudget, type DecodedSegment, type ViewBudget } from './segments.js';

const MAX_LITERAL = 2048;
/** Literals joined in one run at most (a longer run is cut into runs of this many). */
const MAX_PIECES = 64;
/** Blank space (newlines included) around an operator. */
const MAX_GAP = 128;
/** Raw text kept before the first literal: its line, up to this many bytes. */
const MAX_PREFIX = 160;

const QUOTES = new Uint8Array(256);
for (const c of ['"', "'", '`']) QUOTES[c.charCodeAt(0)] = 1;
const BACKSLASH = 0x5c;
const isBlank = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Whether any literal in the buffer is followed by a join operator: the view's cheap prefilter. */
function worthJoining(bytes: Buffer): boolean {
  // Most files hold no '+' at all: one byte search rules out nine probes.
  if (bytes.indexOf(0x2b) !== -1) for (const probe of ['" +', "' +", '"+', "'+", '` +', '+ "', "+ '", '+"', "+'"]) if (bytes.indexOf(probe) !== -1) return true;
  return bytes.indexOf('" .') !== -1 || bytes.indexOf("' .") !== -1;
}

/**
 * Bytes literal scans may read per buffer byte. A literal that never closes is read again from
 * each quote inside it (up to `MAX_LITERAL` each): a line of `\"` repeated would cost that many
 * times its length. Real code reads each byte about once; past the allowance the view stops.
 */
const WORK_PER_BYTE = 16;

interface Work {
  left: number;
}

/** The index of the closing quote of the literal opened at `open`, or -1 (a newline, too long, the end). */
function literalEnd(bytes: Buffer, open: number, work: Work): number {
  const q = bytes[open]!;
  const n = Math.min(bytes.length, open + 1 + MAX_LITERAL);
  for (let j = open + 1; j < n; j++) {
    const c = bytes[j]!;
    if (c === BACKSLASH) j++;
    else if (c === q) {
      work.left -= j - open;
      return j;
    } else if (c === 0x0a) {
      work.left -= j - open;
      return -1;
    }
  }
  work.left -= n - open;
  return -1;
}

/** After the literal closed at `close`: the next literal's opening quote if a join operator links them, else -1. */
function joinedNext(bytes: Buffer, close: number): number {
  const n = bytes.length;
  let k = close + 1;
  const gapEnd = (from: number): number => {
    let p = from;
    while (p < n && p - from < MAX_GAP && isBlank(bytes[p])) p++;
    return p;
  };
  k = gapEnd(k);
  const op = bytes[k];
  if (op === 0x2b /* + */) {
    if (bytes[k + 1] === 0x2b || bytes[k + 1] === 0x3d) return -1; // `++`, `+=`
    k++;
  } else if (op === 0x2e /* . */) {
    // PHP/Perl concatenation needs blanks or a quote around the dot (not `"a".length`).
    if (!(isBlank(bytes[k - 1]) || isBlank(bytes[k + 1]) || QUOTES[bytes[k + 1]!])) return -1;
    if (bytes[k + 1] === 0x3d) return -1; // `.=`
    k++;
  } else return -1;
  k = gapEnd(k);
  return k < n && QUOTES[bytes[k]!] ? k : -1;
}

/**
 * A closing quote, a join operator and an opening quote, blank space allowed around the operator:
 * a superset of the joins `joinedNext` accepts. Found by the regex engine (native speed); the
 * quote pairing below then runs only from the start of a line holding one.
 */
const JOIN_SITE = /["'`][ \t\r\n]{0,128}[+.][ \t\r\n]{0,128}["'`]/g;

export function stringConcatSegments(bytes: Buffer, budget: ViewBudget, out: DecodedSegment[]): void {
  if (!worthJoining(bytes)) return;
  // Quote pairing from a line's start gives what pairing from the buffer's start would there: a
  // literal never crosses a line, and a run that does holds a join site on an earlier line, whose
  // pairing (below) ran to the run's end. So lines without a join site are never read byte by byte.
  // 'ascii' decodes faster than 'latin1' and clears each byte's high bit: a non-ASCII byte may
  // read as a quote or a blank, which only adds sites (pairing reads the bytes themselves).
  const ascii = bytes.toString('ascii');
  const site = new RegExp(JOIN_SITE.source, 'g');
  const work: Work = { left: WORK_PER_BYTE * bytes.length + 65_536 };
  let i = 0;
  let m: RegExpExecArray | null;
  while ((m = site.exec(ascii)) !== null) {
    const p = m.index;
    if (p < i) continue;
    i = pairFrom(bytes, Math.max(i, p === 0 ? 0 : bytes.lastIndexOf(0x0a, p - 1) + 1), p, budget, out, work);
    if (work.left < 0) {
      budget.cut++;
      return;
    }
    if (site.lastIndex < i) site.lastIndex = i;
  }
}

/** Pairs quotes from `i` (the start of a line, or where a run ended) until past `p`; emits each run that splits a token. */
function pairFrom(bytes: Buffer, i: number, p: number, budget: ViewBudget, out: DecodedSegment[], work: Work): number {
  const n = bytes.length;
  while (i <= p && work.left >= 0) {
    let open = i;
    while (open < n && !QUOTES[bytes[open]!]) open++;
    if (open >= n) return n;
    const close = literalEnd(bytes, open, work);
    if (close === -1) {
      i = open + 1;
      continue;
    }
    const pieces: [number, number][] = [[open + 1, close]];
    let last = close;
    while (pieces.length < MAX_PIECES) {
      const next = joinedNext(bytes, last);
      if (next === -1) break;
      const end = literalEnd(bytes, next, work);
      if (end === -1) break;
      pieces.push([next + 1, end]);
      last = end;
    }
    if (pieces.length >= 2 && splitsAToken(bytes, pieces)) {
      const seg = join(bytes, open, pieces);
      if (takeBudget(budget, seg.text.length)) out.push(seg);
    }
    i = last + 1;
  }
  return i;
}

/** Characters of a token (base64, base64url, hex, the separators of prefixed tokens). */
const TOKEN = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=.~') TOKEN[c.charCodeAt(0)] = 1;
/** Token characters needed on each side of a join for the join to split a token. */
const SPLIT_SIDE = 6;

/**
 * Whether some join cuts through a token: the end of one piece and the start of the next are
 * token characters, at least `SPLIT_SIDE` each. Messages and markup joined with `+` (`"Hello, " +
 * "world"`, `'<div>' + '</div>'`) are not worth a view; a split key always is.
 */
function splitsAToken(bytes: Buffer, pieces: [number, number][]): boolean {
  for (let i = 0; i + 1 < pieces.length; i++) {
    const [as, ae] = pieces[i]!;
    const [bs, be] = pieces[i + 1]!;
    if (ae - as < SPLIT_SIDE || be - bs < SPLIT_SIDE) continue;
    let ok = true;
    for (let k = 1; k <= SPLIT_SIDE && ok; k++) ok = TOKEN[bytes[ae - k]!] === 1 && TOKEN[bytes[bs + k - 1]!] === 1;
    if (ok) return true;
  }
  return false;
}

function join(bytes: Buffer, open: number, pieces: [number, number][]): DecodedSegment {
  const lineStart = Math.max(bytes.lastIndexOf(0x0a, open - 1) + 1, open - MAX_PREFIX);
  let size = open + 1 - lineStart + 1;
  for (const [s, e] of pieces) size += e - s;
  const text = Buffer.allocUnsafe(size);
  const offsets = new Int32Array(size);
  let k = 0;
  const copy = (s: number, e: number): void => {
    for (let p = s; p < e; p++) {
      text[k] = bytes[p]!;
      offsets[k++] = p;
    }
  };
  copy(lineStart, open + 1);
  for (const [s, e] of pieces) copy(s, e);
  const end = pieces[pieces.length - 1]![1];
  text[k] = bytes[open]!;
  offsets[k++] = end;
  return { view: 'string-concat', rawStart: lineStart, rawEnd: end + 1, text, offsets };
}
