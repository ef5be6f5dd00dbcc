/**
 * Human-readable output: findings grouped by file, colour when the terminal has it. Everything a
 * repository controls (names, authors, titles) goes through `escapeName` first.
 */
import pc from 'picocolors';
import type { HistoryFinding, ScanResult, ScanSummary, Severity } from '../types.js';

export interface TextOptions {
  color: boolean;
}

type Colors = ReturnType<typeof pc.createColors>;

function severityColor(c: Colors, s: Severity): (t: string) => string {
  return s === 'critical' ? (t) => c.bold(c.red(t)) : s === 'high' ? c.red : s === 'medium' ? c.yellow : c.dim;
}

// C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional marks and
// overrides that reorder what a terminal shows ("Trojan Source").
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text from a repository (a file name, an author, a custom detector's title) made safe to print:
 * every control character, DEL, line separator and bidirectional override becomes a visible
 * escape (`\n`, `\x1b`, `\u202e`), so a name can neither forge output lines nor drive the
 * terminal. Other text is unchanged.
 *
 * @example escapeName('a\n\u001b[2Jb') // 'a\\n\\x1b[2Jb'
 */
export function escapeName(s: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return SHORT[c] ?? (code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

export function formatText(result: ScanResult, options: TextOptions): string {
  const c = pc.createColors(options.color);
  const groups = new Map<string, HistoryFinding[]>();
  for (const f of result.findings) {
    const key = f.file;
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(f);
  }
  const out: string[] = [];
  const e = escapeName;
  for (const [file, list] of groups) {
    out.push(c.underline(e(file)));
    for (const f of list) {
      const pos = `${f.startLine}:${f.startColumn}`.padEnd(9);
      const where = f.member ? `  ${c.dim(`in ${e(f.member)}`)}` : '';
      out.push(`  ${c.dim(pos)} ${severityColor(c, f.severity)(f.severity.padEnd(8))} ${e(f.title)}  ${c.cyan(e(f.redacted))}  ${c.dim(e(f.ruleId))}${where}`);
      if (f.commit) {
        const by = `${e(f.author ?? '?')}${f.authorEmail ? ` <${e(f.authorEmail)}>` : ''}${f.date ? ` on ${e(f.date.slice(0, 10))}` : ''}`;
        out.push(`  ${' '.repeat(9)} ${c.dim(`commit ${e(f.commit.slice(0, 12))} by ${by}`)}`);
      }
      const o = f.occurrences;
      if (o && o.count > 1) out.push(`  ${' '.repeat(9)} ${c.dim(`found ${o.count} times in ${o.commits} commit${o.commits === 1 ? '' : 's'} (first shown)`)}`);
    }
    out.push('');
  }
  out.push(formatSummary(result.summary, options.color, groups.size));
  return `${out.join('\n')}\n`;
}

/**
 * The one-line summary: files, bytes, findings, every skipped file counted by reason (what a
 * `.gitignore` excluded last, with the flag that scans it), time.
 */
export function formatSummary(s: ScanSummary, color: boolean, filesWithFindings?: number): string {
  const c = pc.createColors(color);
  const reasons = Object.entries(s.skippedBy).filter(([k, n]) => n && k !== 'gitignored');
  const gitignored = s.skippedBy.gitignored ?? 0;
  const skipped = [
    ...reasons.map(([k, n]) => `${n} ${escapeName(k)}`),
    ...(gitignored ? [`${gitignored} ignored by .gitignore; --no-gitignore to scan ${gitignored === 1 ? 'it' : 'them'}`] : []),
  ].join(', ');
  const grouped =
    s.occurrences !== undefined && s.occurrences > s.findings ? ` (${s.occurrences} occurrences in the history; --all-occurrences lists each)` : '';
  const head =
    s.findings === 0
      ? c.green('✔ no secrets found')
      : c.red(`✖ ${s.findings} finding${s.findings === 1 ? '' : 's'}${filesWithFindings ? ` in ${filesWithFindings} file${filesWithFindings === 1 ? '' : 's'}` : ''}${grouped}`);
  const parts = [
    head,
    `${s.files} file${s.files === 1 ? '' : 's'} (${formatBytes(s.bytes)}) scanned`,
    ...(s.commits !== undefined ? [`${s.commits} commit${s.commits === 1 ? '' : 's'}`] : []),
    `${s.skipped} skipped${skipped ? ` (${skipped})` : ''}`,
    ...(s.suppressed ? [`${s.suppressed} suppressed${formatSuppressedBy(s.suppressedBy)}`] : []),
    `${(s.durationMs / 1000).toFixed(2)} s`,
  ];
  return parts.join(' · ');
}

/** ` (3 gitleaksignore, 1 inline)`: the sources, most first; empty without any. */
function formatSuppressedBy(by: Record<string, number> | undefined): string {
  const parts = Object.entries(by ?? {})
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${n} ${escapeName(k)}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}
