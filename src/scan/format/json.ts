/**
 * `--format json-report`: the whole result as one JSON document — the findings (as `--format
 * json` prints them), the summary with every skipped file counted by reason, the skipped files
 * (listed up to a cap; the counts are always complete) and the warnings. No raw secret: findings
 * carry only fingerprints and redacted previews, and warnings never hold file content.
 */
import type { ScanResult } from '../types.js';

/**
 * @example
 * formatJsonReport(await scan({ path: '.' })) // '{ "findings": [...], "summary": { "skippedBy": { "gitignored": 83 } … } … }'
 */
export function formatJsonReport(result: ScanResult): string {
  const { findings, summary, skipped, warnings } = result;
  return `${JSON.stringify({ findings, summary, skipped, warnings }, null, 2)}\n`;
}
