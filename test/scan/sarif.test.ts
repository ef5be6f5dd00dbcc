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
});
