/**
 * The detect stage's core: bytes in, findings out. Pure (no I/O).
 *
 * One pass of the keyword prefilter over the bytes; each detector's regex then runs only in
 * merged windows around its keywords' hits. The raw secret exists only inside `scanBytes`:
 * findings carry its fingerprint and a redacted preview.
 *
 * Time is linear in the input whatever its shape (one line of any length, any density of
 * keywords): line bounds come from a cursor that only moves forward (never a search back to the
 * line start per hit); a merged window longer than a piece is scanned piece by piece, so each
 * regex and `verify` hook sees bounded text, and the pieces overlap by what the pattern can
 * read around an attempt (`patternReach`), so the matches are those of one pass over the
 * window; lines, columns and inline allows come from one forward pass over the kept findings
 * (never a decode or search from the line start per finding). A hit inside a window still
 * extends it, so a keyword near a window's end cannot cut off the secret after it.
 * Memory is bounded too: candidates are three integers each (six for a detector with `identify`),
 * and at most `MAX_FINDINGS` findings leave a buffer (the most severe; the rest are counted in
 * `dropped`). A detector's `identify` hook runs once per reported finding, after overlaps, allows
 * and the cap are resolved: its match is found again from where it started (see `identityOf`).
 */
import { Buffer } from 'node:buffer';
import { createPrefilter, type Prefilter } from './prefilter.js';
import { fingerprintSecret, redactSecret } from './redact.js';
import { shannonEntropy } from './entropy.js';
import { patternReach } from './detectors/pattern-reach.js';
import type { CredentialIdentity, Detector, Finding, LinearPattern, MatchContext, Severity } from './types.js';

const DEFAULT_BEFORE = 256;
const DEFAULT_AFTER = 512;
const MULTILINE_AFTER = 16 * 1024;
/** Reach assumed for a pattern with an unbounded quantifier (or a source we cannot read). */
const UNBOUNDED_REACH = 16 * 1024;
/** Merged windows up to this long (or four times a detector's context, if more) run in one piece. */
const PIECE_MIN = 64 * 1024;
/** Findings one buffer reports at most; beyond, the most severe are kept and the rest counted. */
export const MAX_FINDINGS = 10_000;

export interface Ruleset {
  readonly detectors: readonly Detector[];
  /** @internal */ readonly regexes: readonly (RegExp | LinearPattern)[];
  /** @internal */ readonly prefilter: Prefilter;
  /** @internal keyword index → detector indices */ readonly byKeyword: readonly Int32Array[];
  /** @internal keyword index → per detector index, the exact spellings it needs (null: any case); null when none needs one */
  readonly spellings: readonly ((readonly Buffer[] | null)[] | null)[];
  /** @internal */ readonly before: Int32Array;
  /** @internal */ readonly after: Int32Array;
  /** @internal */ readonly multiline: Uint8Array;
  /** @internal text a piece carries before its first attempt (lookbehinds, `verify` look-back) */ readonly marginBefore: Int32Array;
  /** @internal text a piece carries past its last attempt (the pattern's reach plus `verify` look-ahead) */ readonly marginAfter: Int32Array;
  /** @internal length of a piece's own region */ readonly piece: Int32Array;
  /** @internal per-detector window state, reused by every scan */ readonly scratch: { curStart: Int32Array; curEnd: Int32Array; toLineEnd: Uint8Array };
}

/** Compiles detectors once; reuse the result for every file. */
export function createRuleset(detectors: readonly Detector[]): Ruleset {
  const keywords: string[] = [];
  const keywordIndex = new Map<string, number>();
  const lists: number[][] = [];
  // Per keyword, per entry of its list: the spellings that may open the detector's window
  // (`keywordCase: 'exact'`), or null for any case.
  const spellings: (Buffer[] | null)[][] = [];
  detectors.forEach((d, di) => {
    if (d.keywords.length === 0) throw new Error(`detector ${d.id} has no keywords`);
    for (const raw of d.keywords) {
      const k = raw.toLowerCase();
      let ki = keywordIndex.get(k);
      if (ki === undefined) {
        ki = keywords.length;
        keywords.push(k);
        keywordIndex.set(k, ki);
        lists.push([]);
        spellings.push([]);
      }
      let j = lists[ki]!.indexOf(di);
      if (j === -1) {
        j = lists[ki]!.push(di) - 1;
        spellings[ki]!.push(d.keywordCase === 'exact' ? [] : null);
      }
      spellings[ki]![j]?.push(Buffer.from(raw, 'latin1'));
    }
  });
  const before = Int32Array.from(detectors.map((d) => d.window?.before ?? DEFAULT_BEFORE));
  const after = Int32Array.from(detectors.map((d) => d.window?.after ?? (d.multiline ? MULTILINE_AFTER : DEFAULT_AFTER)));
  // How far each pattern reads around an attempt (the text is latin1, one character per byte).
  const reach = detectors.map((d) => {
    const r = patternReach(d.pattern.source);
    return { ahead: Math.min(r.ahead, UNBOUNDED_REACH), behind: Math.min(r.behind, UNBOUNDED_REACH) };
  });
  // `verify` hooks may look around a match as far as the detector's window reaches around a keyword.
  const marginBefore = Int32Array.from(detectors.map((_, i) => Math.max(reach[i]!.behind, before[i]!, 64) + 64));
  const marginAfter = Int32Array.from(detectors.map((_, i) => reach[i]!.ahead + after[i]! + 64));
  return {
    detectors,
    // A linear-time pattern (custom detectors) is used as given: recompiling it as a RegExp would
    // bring back backtracking.
    regexes: detectors.map((d) =>
      d.pattern instanceof RegExp ? new RegExp(d.pattern.source, d.pattern.flags.includes('g') ? d.pattern.flags : `${d.pattern.flags}g`) : d.pattern,
    ),
    prefilter: createPrefilter(keywords),
    byKeyword: lists.map((l) => Int32Array.from(l)),
    spellings: spellings.map((l) => (l.every((x) => x === null) ? null : l)),
    before,
    after,
    multiline: Uint8Array.from(detectors.map((d) => (d.multiline ? 1 : 0))),
    marginBefore,
    marginAfter,
    piece: Int32Array.from(detectors.map((_, i) => Math.max(PIECE_MIN, 4 * (marginBefore[i]! + marginAfter[i]!)))),
    scratch: { curStart: new Int32Array(detectors.length), curEnd: new Int32Array(detectors.length), toLineEnd: new Uint8Array(detectors.length) },
  };
}

export interface ScanBytesOptions {
  /** Path shown in findings. */
  file: string;
  /** Lines before `bytes[0]` (for chunks of a larger file). */
  lineOffset?: number;
  /** Only keep findings whose secret starts in [emitFrom, emitTo) (chunk overlap). */
  emitFrom?: number;
  emitTo?: number;
  /**
   * Maps a 0-based line index of `bytes` to the real 1-based line number (for added-line
   * buffers of a git diff). Overrides `lineOffset`.
   */
  lineMap?: ArrayLike<number>;
  /** Honour inline allow comments (default true). */
  inlineAllow?: boolean;
  /**
   * Keep only findings that touch one of these (real, 1-based, ascending) lines: the lines a git
   * range added. Applied before the `MAX_FINDINGS` cap, so old secrets cannot crowd out a new one.
   */
  onlyLines?: Uint32Array;
}

export interface ScanBytesResult {
  findings: Finding[];
  /** Findings dropped by an inline allow comment. */
  suppressed: number;
  /** Findings over `MAX_FINDINGS` in this buffer, not reported (the most severe were kept). */
  dropped: number;
}

const NL = 10;

const EMPTY = new Int32Array(0);

/** Candidates as parallel integer columns: a buffer made of secrets costs 12 bytes per match. */
class Candidates {
  length = 0;
  // Allocated on the first match: most buffers have none.
  detector: Int32Array = EMPTY;
  start: Int32Array = EMPTY;
  end: Int32Array = EMPTY;
  // For detectors with `identify` only (allocated on the first such match; other rows unused):
  // the text the match was found in and where it started, so the kept ones can find it again.
  textStart: Int32Array = EMPTY;
  textEnd: Int32Array = EMPTY;
  matchAt: Int32Array = EMPTY;
  /** Records where candidate `length - 1` was matched (call right after its `push`). */
  pushMatch(ts: number, te: number, at: number): void {
    if (this.matchAt.length < this.detector.length) {
      const widen = (a: Int32Array): Int32Array => {
        const b = new Int32Array(this.detector.length);
        b.set(a);
        return b;
      };
      this.textStart = widen(this.textStart);
      this.textEnd = widen(this.textEnd);
      this.matchAt = widen(this.matchAt);
    }
    const i = this.length - 1;
    this.textStart[i] = ts;
    this.textEnd[i] = te;
    this.matchAt[i] = at;
  }
  push(d: number, s: number, e: number): void {
    if (this.length === this.detector.length) {
      const grow = (a: Int32Array): Int32Array => {
        const b = new Int32Array(Math.max(64, a.length * 2));
        b.set(a);
        return b;
      };
      this.detector = grow(this.detector);
      this.start = grow(this.start);
      this.end = grow(this.end);
    }
    this.detector[this.length] = d;
    this.start[this.length] = s;
    this.end[this.length] = e;
    this.length++;
  }
}

/** Scans one buffer. `bytes` is read as UTF-8; invalid sequences do not stop the scan. */
export function scanBytes(input: Uint8Array, ruleset: Ruleset, options: ScanBytesOptions): ScanBytesResult {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const n = bytes.length;
  const dCount = ruleset.detectors.length;
  // Per detector: list of merged windows [s0, e0, s1, e1, ...].
  const windows: number[][] = new Array(dCount);
  // Per-detector state of the current window, in scratch arrays the ruleset owns (a scan never
  // yields, so no two use them at once): allocating them per buffer costs more than small files do.
  const { curStart, curEnd, toLineEnd } = ruleset.scratch;
  curStart.fill(-1);
  curEnd.fill(-1);
  toLineEnd.fill(0);
  const { before, after, multiline, byKeyword } = ruleset;

  // The line around a hit, from a cursor that only moves forward: hits arrive in order of their
  // end, and a keyword holds no newline, so a later hit never sits on an earlier line. Each byte
  // is searched at most twice (back to a new line's start, forward to its end), however many
  // hits a line holds; lines without a hit are never searched one by one.
  let lnStart = 0;
  let lnEnd = -1; // the newline ending the line that starts at lnStart (n if none)
  let hitOffset = -1;
  let hitLs = 0;
  let hitLe = 0;
  const lineAround = (offset: number): void => {
    hitOffset = offset;
    if (offset > lnEnd) {
      // The newline before `offset` is at or after the old lnEnd, so this reads only new bytes.
      lnStart = bytes.lastIndexOf(NL, offset) + 1;
      const le = bytes.indexOf(NL, offset);
      lnEnd = le === -1 ? n : le;
    } else if (offset < lnStart) {
      // Only a keyword that holds a newline (a custom one) can get here.
      hitLs = bytes.lastIndexOf(NL, offset) + 1;
      const le = bytes.indexOf(NL, offset);
      hitLe = le === -1 ? n : le;
      return;
    }
    hitLs = lnStart;
    hitLe = lnEnd;
  };

  // Grows (or starts) detector d's window for a hit at `offset`: the slow path, kept out of the
  // per-hit callback so that stays small.
  const extend = (d: number, offset: number): void => {
    let e = offset + after[d]!;
    if (e > n) e = n;
    if (multiline[d] === 0) {
      if (hitOffset !== offset) lineAround(offset);
      if (hitLe < e) e = hitLe;
    }
    const cs = curStart[d]!;
    const ce = curEnd[d]!;
    // Nothing to do once the window is cut at the line's end. (A hit inside a window must still
    // extend it: a match that starts at this keyword may run past the window's end.)
    if (e <= ce && offset >= cs) return;
    let s = offset - before[d]!;
    if (s < 0) s = 0;
    if (multiline[d] === 0 && hitLs > s) s = hitLs;
    // Do not start a window in the middle of a token: a lookbehind would see a false boundary.
    // (Only where the start counts: a new window, or one that moves back.)
    if (cs === -1 || s > ce || s < cs) {
      for (let guard = 0; s > 0 && guard < 64 && isTokenByte(bytes[s - 1]!); guard++) s--;
    }
    if (cs !== -1 && s <= ce) {
      if (e > ce) curEnd[d] = e;
      // Hits arrive by end offset, so a longer keyword may start before the current window.
      if (s < cs) curStart[d] = s;
    } else {
      if (cs !== -1) (windows[d] ??= []).push(cs, ce);
      curStart[d] = s;
      curEnd[d] = e;
    }
    // A single-line window never spans lines, so once it reaches its line's end no later hit inside can grow it.
    toLineEnd[d] = multiline[d] === 0 && curEnd[d] === hitLe ? 1 : 0;
  };

  const { spellings } = ruleset;
  ruleset.prefilter.scan(bytes, (kw, offset) => {
    const ds = byKeyword[kw]!;
    const sp = spellings[kw] ?? null;
    for (let j = 0; j < ds.length; j++) {
      const d = ds[j]!;
      if (sp !== null && sp[j] !== null && !spelledAs(bytes, offset, sp[j]!)) continue;
      // Inside this detector's window, which already reaches as far after this hit as it may need.
      if (offset >= curStart[d]! && (offset + after[d]! <= curEnd[d]! || (toLineEnd[d] === 1 && offset < curEnd[d]!))) continue;
      extend(d, offset);
    }
  });

  const candidates = new Candidates();
  for (let d = 0; d < dCount; d++) {
    if (curStart[d] === -1) continue;
    const list = (windows[d] ??= []);
    list.push(curStart[d]!, curEnd[d]!);
    const piece = ruleset.piece[d]!;
    for (let w = 0; w < list.length; w += 2) {
      const ws = list[w]!;
      const we = list[w + 1]!;
      if (we - ws <= piece) {
        matchIn(bytes, ruleset, d, ws, we, ws, we, candidates);
        continue;
      }
      // A long merged window (a long line dense with keywords): piece by piece, each piece
      // carrying the text an attempt near its edges can read, and starting where the previous
      // one's last match ended, so the matches are exactly those of one pass over the window.
      const mb = ruleset.marginBefore[d]!;
      const ma = ruleset.marginAfter[d]!;
      let cursor = ws;
      for (let own = ws; own < we; own += piece) {
        const ownEnd = Math.min(own + piece, we);
        if (cursor >= ownEnd) continue;
        cursor = matchIn(bytes, ruleset, d, Math.max(ws, cursor - mb), Math.min(we, ownEnd + ma), cursor, ownEnd, candidates, we, ma);
      }
    }
  }
  if (candidates.length === 0) return { findings: [], suppressed: 0, dropped: 0 };
  return finish(bytes, ruleset, options, candidates);
}

/** Whether `bytes` at `offset` holds one of `forms` exactly (each as long as the keyword hit). */
function spelledAs(bytes: Buffer, offset: number, forms: readonly Buffer[]): boolean {
  for (const f of forms) {
    let k = 0;
    while (k < f.length && bytes[offset + k] === f[k]) k++;
    if (k === f.length) return true;
  }
  return false;
}

/**
 * Runs detector `d`'s regex over `bytes[ts, te)`, trying start positions from `from` and keeping
 * matches that start before `until`. Returns where the next attempt would start (at least `until`).
 *
 * When `te` is a piece's cut and not the window's end (`hardEnd`), a match that runs into the cut
 * may be an artefact of it (`$` and `\b` match there, a `{0,n}` stops there). Such a match that
 * starts within the last `margin` bytes is not kept: its start is returned, so the next piece,
 * which carries at least a piece more text, tries it again. One that starts earlier is longer than
 * the pattern's reach (unbounded patterns are capped) and is dropped. Each start is deferred at
 * most once, so the work stays linear.
 */
function matchIn(
  bytes: Buffer,
  ruleset: Ruleset,
  d: number,
  ts: number,
  te: number,
  from: number,
  until: number,
  out: Candidates,
  hardEnd = te,
  margin = 0,
): number {
  const detector = ruleset.detectors[d]!;
  const re = ruleset.regexes[d]!;
  const text = bytes.toString('latin1', ts, te);
  const stop = until - ts;
  re.lastIndex = from - ts;
  let next = from - ts;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m.index >= stop) break;
    if (m[0].length === 0) {
      re.lastIndex++;
      next = re.lastIndex;
      continue;
    }
    if (te < hardEnd && ts + m.index + m[0].length >= te) {
      if (ts + m.index >= te - margin) return ts + m.index;
      // Longer than the pattern's reach: no piece can judge it; a secret is never this long.
      next = re.lastIndex;
      continue;
    }
    next = re.lastIndex;
    const secretLatin1 = m.groups?.secret ?? (m.length > 1 && m[1] !== undefined ? m[1] : m[0]);
    if (!secretLatin1) continue;
    const rel = secretIndex(m, secretLatin1);
    // latin1 maps bytes to characters one to one, so the secret's bytes are these.
    const secret = bytes.toString('utf8', ts + rel, ts + rel + secretLatin1.length);
    if (detector.minEntropy !== undefined && shannonEntropy(secret) < detector.minEntropy) continue;
    if (detector.verify && !detector.verify(secret, { match: m, text, index: rel })) continue;
    out.push(d, ts + rel, ts + rel + secretLatin1.length);
    if (detector.identify) out.pushMatch(ts, te, ts + m.index);
  }
  return Math.max(until, ts + next);
}

function secretIndex(m: RegExpExecArray, secret: string): number {
  if (secret === m[0]) return m.index;
  // Without the `d` flag we locate the group inside the match; the group text is a substring of it.
  const within = m[0].indexOf(secret);
  return m.index + (within < 0 ? 0 : within);
}

function isTokenByte(b: number): boolean {
  return (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 95 || b === 45 || b === 43 || b === 47 || b === 61;
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };

function finish(bytes: Buffer, ruleset: Ruleset, options: ScanBytesOptions, all: Candidates): ScanBytesResult {
  const { start, end, detector } = all;
  // Overlaps: the higher-priority detector wins, then the higher confidence, then the longer match.
  const order = new Uint32Array(all.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => start[a]! - start[b]! || end[b]! - end[a]!);
  const ranks = ruleset.detectors.map((d) => (d.priority ?? 10) * 100 + CONFIDENCE_RANK[d.confidence] * 10);
  const rank = (i: number): number => ranks[detector[i]!]! + Math.min(9, (end[i]! - start[i]!) / 64);
  const kept: number[] = [];
  for (const c of order) {
    const prev = kept[kept.length - 1];
    if (prev !== undefined && start[c]! < end[prev]!) {
      if (rank(c) > rank(prev)) kept[kept.length - 1] = c;
      continue;
    }
    kept.push(c);
  }
  const from = options.emitFrom ?? 0;
  const to = options.emitTo ?? Number.POSITIVE_INFINITY;
  const lines = new LineCursor(bytes);
  const inlineAllow = options.inlineAllow ?? true;
  // Kept candidates are in order and do not overlap, so every position below only moves forward.
  const emitted: number[] = [];
  const pos: number[] = []; // startLine, startColumn, endLine, endColumn per emitted candidate
  let suppressed = 0;
  for (const c of kept) {
    const s = start[c]!;
    if (s < from || s >= to) continue;
    const startLine = lines.seek(s);
    if (inlineAllow && lines.allowed()) {
      suppressed++;
      continue;
    }
    const startColumn = lines.columnOf(s);
    const endLine = lines.seek(Math.max(s, end[c]! - 1));
    if (options.onlyLines && !touchesLine(options.onlyLines, realLine(options, startLine), realLine(options, endLine))) continue;
    emitted.push(c);
    pos.push(startLine, startColumn, endLine, lines.columnOf(end[c]!));
  }
  let picked = emitted.map((_, i) => i);
  let dropped = 0;
  if (picked.length > MAX_FINDINGS) {
    const sev = (i: number): number => SEVERITY_RANK[ruleset.detectors[detector[emitted[i]!]!]!.severity];
    picked = picked.sort((a, b) => sev(b) - sev(a) || a - b).slice(0, MAX_FINDINGS).sort((a, b) => a - b);
    dropped = emitted.length - MAX_FINDINGS;
  }
  const findings: Finding[] = [];
  for (const i of picked) {
    const c = emitted[i]!;
    const d = ruleset.detectors[detector[c]!]!;
    const secret = bytes.toString('utf8', start[c]!, end[c]!);
    const identity = d.identify ? identityOf(bytes, ruleset, detector[c]!, all, c, secret) : undefined;
    findings.push({
      ruleId: d.id,
      type: d.type,
      title: d.title,
      severity: d.severity,
      confidence: d.confidence,
      file: options.file,
      startLine: realLine(options, pos[i * 4]!),
      startColumn: pos[i * 4 + 1]!,
      endLine: realLine(options, pos[i * 4 + 2]!),
      endColumn: pos[i * 4 + 3]!,
      fingerprint: fingerprintSecret(secret),
      redacted: redactSecret(secret),
      ...(identity ? { identity } : {}),
    });
  }
  return { findings, suppressed, dropped };
}

/**
 * Detector `di`'s `identify` for candidate `c`. Its context is built only if the hook reads it
 * (most derive the identity from the secret alone): the match is found again by one attempt where
 * it started, over the text the pattern can read around it (as `matchIn` bounds a piece), so it
 * is the same match; if it is not (a match longer than the pattern's reach), reading the context
 * throws and there is no identity. The hook then sees the detector's window around the match,
 * across lines even for a single-line detector (an access key ID on the line before its secret
 * key), never the whole buffer. A hook that throws gives no identity: it cannot break the scan.
 */
function identityOf(bytes: Buffer, ruleset: Ruleset, di: number, all: Candidates, c: number, secret: string): CredentialIdentity | undefined {
  const at = all.matchAt[c]!;
  const s = all.start[c]!;
  const e = all.end[c]!;
  const rs = Math.max(all.textStart[c]!, at - ruleset.marginBefore[di]!);
  const re = Math.min(all.textEnd[c]!, Math.max(e, at + ruleset.marginAfter[di]!));
  let built: MatchContext | undefined;
  const context = (): MatchContext => {
    if (built) return built;
    const text = bytes.toString('latin1', rs, re);
    const rx = ruleset.regexes[di]!;
    rx.lastIndex = at - rs;
    const m = rx.exec(text);
    if (m === null || m.index !== at - rs) throw new Error('match not found again');
    const secretLatin1 = m.groups?.secret ?? (m.length > 1 && m[1] !== undefined ? m[1] : m[0]);
    if (!secretLatin1 || rs + secretIndex(m, secretLatin1) !== s || secretLatin1.length !== e - s) throw new Error('match not found again');
    let ws = Math.max(0, Math.min(rs, at - ruleset.before[di]!));
    for (let guard = 0; ws > 0 && guard < 64 && isTokenByte(bytes[ws - 1]!); guard++) ws--;
    const we = Math.min(bytes.length, Math.max(re, at + m[0].length + ruleset.after[di]!));
    const wide = ws === rs && we === re ? text : bytes.toString('latin1', ws, we);
    m.index = at - ws;
    built = { match: m, text: wide, index: s - ws };
    return built;
  };
  const ctx: MatchContext = {
    get match() {
      return context().match;
    },
    get text() {
      return context().text;
    },
    get index() {
      return context().index;
    },
  };
  try {
    return ruleset.detectors[di]!.identify!(secret, ctx) ?? undefined;
  } catch {
    return undefined;
  }
}

const CONFIDENCE_RANK = { high: 3, medium: 2, low: 1 } as const;

/** True if one of the ascending `lines` lies in [first, last]. */
export function touchesLine(lines: Uint32Array, first: number, last: number): boolean {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid]! < first) lo = mid + 1;
    else hi = mid;
  }
  return lo < lines.length && lines[lo]! <= last;
}

function realLine(options: ScanBytesOptions, zeroBased: number): number {
  if (options.lineMap) return options.lineMap[zeroBased] ?? zeroBased + 1;
  return zeroBased + 1 + (options.lineOffset ?? 0);
}

// Inline suppressions people already have: ours, gitleaks', secretlint's, detect-secrets'.
const SAME_LINE = ['keywarden:allow', 'gitleaks:allow', 'secretlint-disable-line', 'pragma: allowlist secret'];
const NEXT_LINE = ['keywarden:allow-next-line', 'secretlint-disable-next-line', 'pragma: allowlist nextline secret'];
const ALLOW_MARKERS = createPrefilter([...SAME_LINE, ...NEXT_LINE]);
const OURS = 1 << SAME_LINE.indexOf('keywarden:allow');
const OURS_NEXT = 1 << (SAME_LINE.length + NEXT_LINE.indexOf('keywarden:allow-next-line'));
const SAME_MASK = (1 << SAME_LINE.length) - 1;
const NEXT_MASK = ((1 << NEXT_LINE.length) - 1) << SAME_LINE.length;

/**
 * Line, column and inline-allow answers for offsets given in increasing order, in one forward
 * pass: most buffers have no finding and never build one. Each line is searched for a newline
 * once, decoded for columns once, and searched for allow markers at most once.
 */
class LineCursor {
  private line = 0;
  private start = 0;
  private end: number;
  private prevStart = -1;
  /** Column cursor: UTF-16 units from the line start up to byte `colAt` (a character boundary). */
  private colAt = 0;
  private col = 0;
  private markersLine = -1;
  private markers = 0;
  private prevMarkersLine = -1;
  private prevMarkers = 0;

  constructor(private readonly bytes: Buffer) {
    this.end = this.findEnd(0);
  }

  private findEnd(from: number): number {
    const i = from >= this.bytes.length ? -1 : this.bytes.indexOf(NL, from);
    return i === -1 ? this.bytes.length : i;
  }

  /** Moves to the line holding `offset` (never backwards) and returns its 0-based index. */
  seek(offset: number): number {
    while (offset > this.end && this.end < this.bytes.length) {
      this.prevStart = this.start;
      this.start = this.end + 1;
      this.end = this.findEnd(this.start);
      this.line++;
      this.colAt = this.start;
      this.col = 0;
    }
    return this.line;
  }

  /** 1-based column in UTF-16 code units of `offset` on the current line, as editors and SARIF count. */
  columnOf(offset: number): number {
    if (offset < this.colAt) {
      this.colAt = this.start;
      this.col = 0;
    }
    const units = this.bytes.toString('utf8', this.colAt, offset).length;
    // Decoding splits cleanly before any byte that is not a continuation byte.
    const b = this.bytes[offset];
    if (b === undefined || b < 0x80 || b >= 0xc0) {
      this.colAt = offset;
      this.col += units;
      return this.col + 1;
    }
    return this.col + units + 1;
  }

  /** True when the current line, or an allow-next-line comment on the line before, suppresses findings. */
  allowed(): boolean {
    const here = this.markersOf(this.line, this.start, this.end);
    if (here & SAME_MASK && !((here & SAME_MASK) === OURS && here & OURS_NEXT)) return true;
    if (this.line === 0) return false;
    return (this.markersOf(this.line - 1, this.prevStart, this.start - 1) & NEXT_MASK) !== 0;
  }

  private markersOf(line: number, from: number, to: number): number {
    if (line === this.markersLine) return this.markers;
    if (line === this.prevMarkersLine) return this.prevMarkers;
    let found = 0;
    ALLOW_MARKERS.scan(this.bytes, (k) => (found |= 1 << k), from, to);
    this.prevMarkersLine = this.markersLine;
    this.prevMarkers = this.markers;
    this.markersLine = line;
    this.markers = found;
    return found;
  }
}

