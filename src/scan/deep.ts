/**
 * The opt-in deep pass (`--secretlint`): secretlint's own recommended preset runs over the same
 * text as a second opinion, and whatever it reports that no built-in detector already covers is
 * added. Slow by design (no prefilter); never on by default.
 */
import { runSecretlint } from './secretlint-bridge.js';
import type { FileScanResult } from './sources/read-file.js';
import type { Finding } from './types.js';

export async function addSecretlintFindings(result: FileScanResult, text: string, file: string, lineMap?: ArrayLike<number>): Promise<FileScanResult> {
  if (!result.scanned) return result;
  const theirs = await runSecretlint(text, file);
  const extra: Finding[] = [];
  for (const t of theirs) {
    const { messageId: _messageId, ...finding } = t;
    if (lineMap) {
      finding.startLine = lineMap[finding.startLine - 1] ?? finding.startLine;
      finding.endLine = lineMap[finding.endLine - 1] ?? finding.endLine;
    }
    if (!result.findings.some((o) => overlaps(o, finding))) extra.push(finding);
  }
  return extra.length ? { ...result, findings: [...result.findings, ...extra] } : result;
}

function overlaps(a: Finding, b: Finding): boolean {
  const before = (l1: number, c1: number, l2: number, c2: number): boolean => l1 < l2 || (l1 === l2 && c1 <= c2);
  return !before(a.endLine, a.endColumn, b.startLine, b.startColumn) && !before(b.endLine, b.endColumn, a.startLine, a.startColumn);
}
