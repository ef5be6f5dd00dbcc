/**
 * The GitHub compare source: the lines a push added, from the patches of GitHub's compare API,
 * scanned as a **pre-check**. It is trusted only to say "nothing here": when it finds anything,
 * or when it cannot vouch for having seen every added line, the caller scans the range itself
 * from git (the authoritative source, `sources/git.ts`), and that scan decides.
 *
 * It cannot vouch (`complete: false`) when GitHub cut the answer (300 files, 250 commits), when a
 * changed file has no patch (binary by content or by a pushed `.gitattributes`, or too large a
 * diff: GitHub leaves `patch` out), or when a patch's added lines do not add up to the file's
 * `additions`. So a hostile push cannot hide a line from the pre-check and be waved through.
 *
 * Each hunk is scanned as the text of its new side (context lines and added lines, in order), so
 * a detector sees what surrounds an added line; a finding counts when it touches an added line.
 * Pure: no I/O.
 */
import { scanBytes, type Ruleset } from '../engine.js';
import type { Finding } from '../types.js';

export interface ComparePatchFile {
  filename: string;
  status: string;
  additions: number;
  patch?: string;
}

export interface ComparePreCheck {
  findings: Finding[];
  /** Every added line was seen. */
  complete: boolean;
  /** Why not, for the log: the first reason. */
  incomplete?: string;
  files: number;
}

interface Hunk {
  /** New-side line number of the hunk's first line. */
  start: number;
  lines: string[];
  /** Indexes into `lines` that were added. */
  added: Set<number>;
}

/** The hunks of a unified diff patch (the compare API's `patch`: hunks only, no file headers). */
export function parsePatch(patch: string): { hunks: Hunk[]; added: number } {
  const hunks: Hunk[] = [];
  let cur: Hunk | undefined;
  let added = 0;
  for (const line of patch.split('\n')) {
    const h = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (h) {
      cur = { start: Number(h[1]), lines: [], added: new Set() };
      hunks.push(cur);
      continue;
    }
    if (!cur) continue;
    if (line.startsWith('+')) {
      cur.added.add(cur.lines.length);
      cur.lines.push(line.slice(1));
      added++;
    } else if (line.startsWith(' ')) cur.lines.push(line.slice(1));
    else if (line === '') {
      // The split's last piece, or an empty context line some tools print without the space.
      cur.lines.push('');
    }
    // '-' lines and '\ No newline at end of file' are not on the new side.
  }
  return { hunks, added };
}

export function preCheckCompare(files: readonly ComparePatchFile[], options: { ruleset: Ruleset; truncated: boolean; ignore?: (file: string) => boolean }): ComparePreCheck {
  const findings: Finding[] = [];
  let incomplete: string | undefined = options.truncated ? 'GitHub cut the comparison (over 300 files or 250 commits)' : undefined;
  let n = 0;
  for (const f of files) {
    if (f.status === 'removed' || f.additions === 0) continue;
    if (options.ignore?.(f.filename)) continue;
    n++;
    if (f.patch === undefined) {
      incomplete ??= `no patch for ${JSON.stringify(f.filename).slice(0, 200)} (binary or too large)`;
      continue;
    }
    const { hunks, added } = parsePatch(f.patch);
    if (added !== f.additions) incomplete ??= `the patch of ${JSON.stringify(f.filename).slice(0, 200)} does not hold all its added lines`;
    for (const h of hunks) {
      if (!h.added.size) continue;
      const text = h.lines.join('\n');
      const r = scanBytes(Buffer.from(text, 'utf8'), options.ruleset, { file: f.filename });
      for (const x of r.findings) {
        let touches = false;
        for (let l = x.startLine; l <= x.endLine && !touches; l++) touches = h.added.has(l - 1);
        if (!touches) continue;
        findings.push({ ...x, startLine: x.startLine + h.start - 1, endLine: x.endLine + h.start - 1 });
      }
    }
  }
  return { findings, complete: incomplete === undefined, ...(incomplete ? { incomplete } : {}), files: n };
}

/**
 * The text a pre-check finding covers, cut again out of the patch it was found in (new-side lines
 * `startLine..endLine`, columns as the finding counts them); undefined when the patch has no such
 * lines. The caller checks it against the finding's fingerprint before it uses it.
 */
export function secretInPatch(files: readonly ComparePatchFile[], f: Pick<Finding, 'file' | 'startLine' | 'startColumn' | 'endLine' | 'endColumn'>): string | undefined {
  const file = files.find((x) => x.filename === f.file && x.patch !== undefined);
  if (!file) return undefined;
  const lines: string[] = [];
  for (const h of parsePatch(file.patch!).hunks) {
    for (let l = f.startLine; l <= f.endLine; l++) {
      const i = l - h.start;
      if (i >= 0 && i < h.lines.length) lines[l - f.startLine] = h.lines[i]!;
    }
  }
  if (lines.length !== f.endLine - f.startLine + 1 || lines.some((x) => x === undefined)) return undefined;
  const first = f.startColumn - 1;
  if (f.startLine === f.endLine) return lines[0]!.slice(first, f.endColumn - 1);
  return [lines[0]!.slice(first), ...lines.slice(1, -1), lines[lines.length - 1]!.slice(0, f.endColumn - 1)].join('\n');
}
