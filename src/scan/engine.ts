/**
 * The detect stage's core: bytes in, findings out. Pure (no I/O).
 *
 * One pass of the keyword prefilter over the bytes; each detector's regex then runs only in
 * merged windows around its keywords' hits. The raw secret exists only inside `scanBytes`:
 * findings carry its fingerprint and a redacted preview.
 */
import { Buffer } from 'node:buffer';
import { createPrefilter, type Prefilter } from './prefilter.js';
import { fingerprintSecret, redactSecret } from './redact.js';
import { shannonEntropy } from './entropy.js';
import type { Detector, Finding, LinearPattern } from './types.js';

const DEFAULT_BEFORE = 256;
const DEFAULT_AFTER = 512;
const MULTILINE_AFTER = 16 * 1024;

export interface Ruleset {
  readonly detectors: readonly Detector[];
  /** @internal */ readonly regexes: readonly (RegExp | LinearPattern)[];
  /** @internal */ readonly prefilter: Prefilter;
  /** @internal keyword index → detector indices */ readonly byKeyword: readonly Int32Array[];
  /** @internal */ readonly before: Int32Array;
  /** @internal */ readonly after: Int32Array;
  /** @internal */ readonly multiline: Uint8Array;
}

/** Compiles detectors once; reuse the result for every file. */
export function createRuleset(detectors: readonly Detector[]): Ruleset {
  const keywords: string[] = [];
  const keywordIndex = new Map<string, number>();
  const lists: number[][] = [];
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
      }
      if (!lists[ki]!.includes(di)) lists[ki]!.push(di);
    }
  });
  return {
    detectors,
    // A linear-time pattern (custom detectors) is used as given: recompiling it as a RegExp would
    // bring back backtracking.
    regexes: detectors.map((d) =>
      d.pattern instanceof RegExp ? new RegExp(d.pattern.source, d.pattern.flags.includes('g') ? d.pattern.flags : `${d.pattern.flags}g`) : d.pattern,
    ),
    prefilter: createPrefilter(keywords),
    byKeyword: lists.map((l) => Int32Array.from(l)),
    before: Int32Array.from(detectors.map((d) => d.window?.before ?? DEFAULT_BEFORE)),
    after: Int32Array.from(detectors.map((d) => d.window?.after ?? (d.multiline ? MULTILINE_AFTER : DEFAULT_AFTER))),
    multiline: Uint8Array.from(detectors.map((d) => (d.multiline ? 1 : 0))),
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
}

export interface ScanBytesResult {
  findings: Finding[];
  /** Findings dropped by an inline allow comment. */
  suppressed: number;
}

interface Candidate {
  detector: number;
  start: number;
  end: number;
  secret: string;
}

const NL = 10;

/** Scans one buffer. `bytes` is read as UTF-8; invalid sequences do not stop the scan. */
export function scanBytes(input: Uint8Array, ruleset: Ruleset, options: ScanBytesOptions): ScanBytesResult {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const n = bytes.length;
  const dCount = ruleset.detectors.length;
  // Per detector: list of merged windows [s0, e0, s1, e1, ...].
  const windows: number[][] = new Array(dCount);
  const curStart = new Int32Array(dCount).fill(-1);
  const curEnd = new Int32Array(dCount).fill(-1);
  const { before, after, multiline, byKeyword } = ruleset;

  ruleset.prefilter.scan(bytes, (kw, offset) => {
    const ds = byKeyword[kw]!;
    for (let j = 0; j < ds.length; j++) {
      const d = ds[j]!;
      if (offset < curEnd[d]! && offset >= curStart[d]!) continue; // already inside this detector's window
      let s = offset - before[d]!;
      let e = offset + after[d]!;
      if (s < 0) s = 0;
      if (e > n) e = n;
      if (multiline[d] === 0) {
        const ls = bytes.lastIndexOf(NL, offset);
        if (ls + 1 > s) s = ls + 1;
        const le = bytes.indexOf(NL, offset);
        if (le !== -1 && le < e) e = le;
      }
      // Do not start a window in the middle of a token: a lookbehind would see a false boundary.
      for (let guard = 0; s > 0 && guard < 64 && isTokenByte(bytes[s - 1]!); guard++) s--;
      if (curStart[d] !== -1 && s <= curEnd[d]!) {
        if (e > curEnd[d]!) curEnd[d] = e;
        // Hits arrive by end offset, so a longer keyword may start before the current window.
        if (s < curStart[d]!) curStart[d] = s;
      } else {
        if (curStart[d] !== -1) (windows[d] ??= []).push(curStart[d]!, curEnd[d]!);
        curStart[d] = s;
        curEnd[d] = e;
      }
    }
  });

  const candidates: Candidate[] = [];
  for (let d = 0; d < dCount; d++) {
    if (curStart[d] === -1) continue;
    const list = (windows[d] ??= []);
    list.push(curStart[d]!, curEnd[d]!);
    const detector = ruleset.detectors[d]!;
    const re = ruleset.regexes[d]!;
    for (let w = 0; w < list.length; w += 2) {
      const ws = list[w]!;
      const text = bytes.toString('latin1', ws, list[w + 1]!);
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        const secretLatin1 = m.groups?.secret ?? (m.length > 1 && m[1] !== undefined ? m[1] : m[0]);
        if (!secretLatin1) continue;
        const rel = secretIndex(m, secretLatin1);
        const secret = Buffer.from(secretLatin1, 'latin1').toString('utf8');
        if (detector.minEntropy !== undefined && shannonEntropy(secret) < detector.minEntropy) continue;
        if (detector.verify && !detector.verify(secret, { match: m, text, index: rel })) continue;
        candidates.push({ detector: d, start: ws + rel, end: ws + rel + secretLatin1.length, secret });
      }
    }
  }
  if (candidates.length === 0) return { findings: [], suppressed: 0 };
  return finish(bytes, ruleset, options, candidates);
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

function finish(bytes: Buffer, ruleset: Ruleset, options: ScanBytesOptions, all: Candidate[]): ScanBytesResult {
  // Overlaps: the higher-priority detector wins, then the higher confidence, then the longer match.
  all.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Candidate[] = [];
  for (const c of all) {
    const prev = kept[kept.length - 1];
    if (prev && c.start < prev.end) {
      if (rank(ruleset, c) > rank(ruleset, prev)) kept[kept.length - 1] = c;
      continue;
    }
    kept.push(c);
  }
  const from = options.emitFrom ?? 0;
  const to = options.emitTo ?? Number.POSITIVE_INFINITY;
  const lines = new LineIndex(bytes);
  const inlineAllow = options.inlineAllow ?? true;
  const findings: Finding[] = [];
  let suppressed = 0;
  for (const c of kept) {
    if (c.start < from || c.start >= to) continue;
    const startLine = lines.lineOf(c.start);
    if (inlineAllow && isAllowed(bytes, lines, startLine)) {
      suppressed++;
      continue;
    }
    const endLine = lines.lineOf(Math.max(c.start, c.end - 1));
    const d = ruleset.detectors[c.detector]!;
    findings.push({
      ruleId: d.id,
      type: d.type,
      title: d.title,
      severity: d.severity,
      confidence: d.confidence,
      file: options.file,
      startLine: realLine(options, startLine),
      startColumn: lines.columnOf(startLine, c.start),
      endLine: realLine(options, endLine),
      endColumn: lines.columnOf(endLine, c.end),
      fingerprint: fingerprintSecret(c.secret),
      redacted: redactSecret(c.secret),
    });
  }
  return { findings, suppressed };
}

const CONFIDENCE_RANK = { high: 3, medium: 2, low: 1 } as const;

function rank(ruleset: Ruleset, c: Candidate): number {
  const d = ruleset.detectors[c.detector]!;
  return (d.priority ?? 10) * 100 + CONFIDENCE_RANK[d.confidence] * 10 + Math.min(9, (c.end - c.start) / 64);
}

function realLine(options: ScanBytesOptions, zeroBased: number): number {
  if (options.lineMap) return options.lineMap[zeroBased] ?? zeroBased + 1;
  return zeroBased + 1 + (options.lineOffset ?? 0);
}

/** Newline positions, built lazily: most files have no finding and never need it. */
class LineIndex {
  private readonly starts: number[] = [0];
  constructor(private readonly bytes: Buffer) {
    let i = bytes.indexOf(NL);
    while (i !== -1) {
      this.starts.push(i + 1);
      i = bytes.indexOf(NL, i + 1);
    }
  }
  /** 0-based line of a byte offset. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
  lineStart(line: number): number {
    return this.starts[line]!;
  }
  lineEnd(line: number): number {
    const next = this.starts[line + 1];
    return next === undefined ? this.bytes.length : next - 1;
  }
  /** 1-based column in UTF-16 code units, as editors and SARIF count. */
  columnOf(line: number, offset: number): number {
    return this.bytes.toString('utf8', this.starts[line]!, offset).length + 1;
  }
}

// Inline suppressions people already have: ours, gitleaks', secretlint's, detect-secrets'.
const SAME_LINE = ['keywarden:allow', 'gitleaks:allow', 'secretlint-disable-line', 'pragma: allowlist secret'];
const NEXT_LINE = ['keywarden:allow-next-line', 'secretlint-disable-next-line', 'pragma: allowlist nextline secret'];

function isAllowed(bytes: Buffer, lines: LineIndex, line: number): boolean {
  const text = bytes.toString('latin1', lines.lineStart(line), lines.lineEnd(line)).toLowerCase();
  if (SAME_LINE.some((m) => text.includes(m) && !(m === 'keywarden:allow' && text.includes('keywarden:allow-next-line')))) return true;
  if (line === 0) return false;
  const prev = bytes.toString('latin1', lines.lineStart(line - 1), lines.lineEnd(line - 1)).toLowerCase();
  return NEXT_LINE.some((m) => prev.includes(m));
}

export interface ScanTextOptions {
  detectors?: readonly Detector[];
  ruleset?: Ruleset;
  file?: string;
  inlineAllow?: boolean;
}

let defaultRuleset: Ruleset | undefined;

/** Sets the ruleset `scanText` uses when none is given (the built-in catalogue, set by the SDK). */
export function setDefaultRuleset(ruleset: Ruleset): void {
  defaultRuleset = ruleset;
}

/**
 * Scans a string. Convenience over `scanBytes` for tests and SDK users.
 *
 * @example
 * const findings = scanText(source, { detectors: builtinDetectors, file: 'config.js' });
 */
export function scanText(text: string, options: ScanTextOptions = {}): Finding[] {
  const ruleset = options.ruleset ?? (options.detectors ? createRuleset(options.detectors) : defaultRuleset);
  if (!ruleset) throw new Error('scanText needs detectors: pass { detectors } or import the SDK entry point');
  return scanBytes(Buffer.from(text, 'utf8'), ruleset, {
    file: options.file ?? '-',
    ...(options.inlineAllow === undefined ? {} : { inlineAllow: options.inlineAllow }),
  }).findings;
}
