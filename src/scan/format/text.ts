/** Human-readable output: findings grouped by file, colour when the terminal has it. */
import pc from 'picocolors';
import type { Finding, ScanResult, ScanSummary, Severity } from '../types.js';

export interface TextOptions {
  color: boolean;
}

type Colors = ReturnType<typeof pc.createColors>;

function severityColor(c: Colors, s: Severity): (t: string) => string {
  return s === 'critical' ? (t) => c.bold(c.red(t)) : s === 'high' ? c.red : s === 'medium' ? c.yellow : c.dim;
}

export function formatText(result: ScanResult, options: TextOptions): string {
  const c = pc.createColors(options.color);
  const groups = new Map<string, Finding[]>();
  for (const f of result.findings) {
    const key = f.file;
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(f);
  }
  const out: string[] = [];
  for (const [file, list] of groups) {
    out.push(c.underline(file));
    for (const f of list) {
      const pos = `${f.startLine}:${f.startColumn}`.padEnd(9);
      out.push(`  ${c.dim(pos)} ${severityColor(c, f.severity)(f.severity.padEnd(8))} ${f.title}  ${c.cyan(f.redacted)}  ${c.dim(f.ruleId)}`);
      if (f.commit) out.push(`  ${' '.repeat(9)} ${c.dim(`commit ${f.commit.slice(0, 12)} by ${f.author ?? '?'}${f.authorEmail ? ` <${f.authorEmail}>` : ''}${f.date ? ` on ${f.date.slice(0, 10)}` : ''}`)}`);
    }
    out.push('');
  }
  out.push(formatSummary(result.summary, options.color, groups.size));
  return `${out.join('\n')}\n`;
}

/** The one-line summary: files, bytes, findings, skipped, time. */
export function formatSummary(s: ScanSummary, color: boolean, filesWithFindings?: number): string {
  const c = pc.createColors(color);
  const skipped = Object.entries(s.skippedBy)
    .filter(([, n]) => n)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const head =
    s.findings === 0
      ? c.green('✔ no secrets found')
      : c.red(`✖ ${s.findings} finding${s.findings === 1 ? '' : 's'}${filesWithFindings ? ` in ${filesWithFindings} file${filesWithFindings === 1 ? '' : 's'}` : ''}`);
  const parts = [
    head,
    `${s.files} file${s.files === 1 ? '' : 's'} (${formatBytes(s.bytes)}) scanned`,
    ...(s.commits !== undefined ? [`${s.commits} commit${s.commits === 1 ? '' : 's'}`] : []),
    `${s.skipped} skipped${skipped ? ` (${skipped})` : ''}`,
    ...(s.suppressed ? [`${s.suppressed} suppressed`] : []),
    `${(s.durationMs / 1000).toFixed(2)} s`,
  ];
  return parts.join(' · ');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}
