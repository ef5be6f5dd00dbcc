import { describe, expect, it } from 'vitest';
import { formatSarif, SARIF_MAX_RESULTS } from '../../src/scan/format/sarif.js';
import type { Finding, ScanResult } from '../../src/scan/types.js';

describe('SARIF limits', () => {
  it('keeps to GitHub code scanning limits and says so when it cuts', () => {
    const f: Finding = {
      ruleId: 'test-token', type: 'test', title: 'Test', severity: 'high', confidence: 'high', file: 'a b/c.js',
      startLine: 1, startColumn: 1, endLine: 1, endColumn: 5, fingerprint: `sha256:${'0'.repeat(64)}`, redacted: 'ab…cd',
    };
    const findings = Array.from({ length: SARIF_MAX_RESULTS + 5 }, (_, i) => ({ ...f, startLine: i + 1 }));
    const result: ScanResult = { findings, skipped: [], warnings: [], summary: { files: 1, bytes: 1, findings: findings.length, suppressed: 0, skipped: 0, skippedBy: {}, durationMs: 1 } };
    const text = formatSarif(result, []);
    const log = JSON.parse(text);
    expect(log.runs[0].results).toHaveLength(SARIF_MAX_RESULTS);
    expect(log.runs[0].invocations[0].toolExecutionNotifications[0].message.text).toContain('25000');
    expect(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('a%20b/c.js');
    // GitHub's limit is 10 MB gzipped; uncompressed we stay far below even that.
    expect(Buffer.byteLength(text)).toBeLessThan(30 * 1024 * 1024);
  });

  it('keeps the most severe results when it must cut, not the first in file order', () => {
    const base: Finding = {
      ruleId: 'r', type: 'test', title: 'Test', severity: 'low', confidence: 'low', file: 'a.js',
      startLine: 1, startColumn: 1, endLine: 1, endColumn: 5, fingerprint: `sha256:${'0'.repeat(64)}`, redacted: 'ab…cd',
    };
    // The critical ones come last in file order.
    const findings: Finding[] = Array.from({ length: SARIF_MAX_RESULTS + 10 }, (_, i) => ({ ...base, startLine: i + 1 }));
    for (let i = 0; i < 10; i++) findings.push({ ...base, file: 'z.js', startLine: i + 1, severity: 'critical', confidence: 'high' });
    const result: ScanResult = { findings, skipped: [], warnings: [], summary: { files: 2, bytes: 1, findings: findings.length, suppressed: 0, skipped: 0, skippedBy: {}, durationMs: 1 } };
    const log = JSON.parse(formatSarif(result, []));
    const results = log.runs[0].results as { level: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
    expect(results).toHaveLength(SARIF_MAX_RESULTS);
    expect(results.filter((r) => r.level === 'error')).toHaveLength(10);
    // Kept in file order: the critical findings of z.js are last.
    expect(results.at(-1)!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('z.js');
    expect(log.runs[0].invocations[0].toolExecutionNotifications[0].message.text).toContain('most severe');
  });
});
