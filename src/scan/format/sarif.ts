/**
 * SARIF 2.1.0 for GitHub code scanning and other viewers. Stays inside GitHub's upload limits
 * (25,000 results per run; 10 MB gzipped, which 25,000 of our small results never reach) and
 * says so in the run's notifications when it had to cut. Carries no raw secret: the message
 * shows the redacted preview and the fingerprint goes in `partialFingerprints`; a credential's
 * public identity, where it has one, goes in the result's `properties.identity`.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import type { Log, ReportingDescriptor, Result } from 'sarif';
import { VERSION } from '../../version.js';
import type { Detector, Finding, HistoryFinding, ScanResult, Severity } from '../types.js';

export const SARIF_MAX_RESULTS = 25_000;

const LEVEL: Record<Severity, Result.level> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '1.0' };

export function formatSarif(result: ScanResult, detectors: readonly Detector[]): string {
  const findings = mostSevere(result.findings, SARIF_MAX_RESULTS);
  const usedIds = [...new Set(findings.map((f) => f.ruleId))].sort();
  const byId = new Map(detectors.map((d) => [d.id, d]));
  const rules: ReportingDescriptor[] = usedIds.map((id) => {
    const d = byId.get(id);
    const f = findings.find((x) => x.ruleId === id)!;
    return {
      id,
      name: toPascal(id),
      shortDescription: { text: d?.title ?? f.title },
      fullDescription: { text: `${d?.title ?? f.title}: a ${f.type} credential committed to the repository. Revoke it, rotate it, and remove it from the code.` },
      ...(d?.docs ? { helpUri: d.docs } : {}),
      help: { text: 'Revoke and rotate the credential first, then remove it from the code and its history.' },
      defaultConfiguration: { level: LEVEL[f.severity] },
      properties: { tags: ['security', 'secret', f.type], 'security-severity': SECURITY_SEVERITY[f.severity], precision: f.confidence === 'high' ? 'high' : f.confidence === 'medium' ? 'medium' : 'low' },
    };
  });
  const ruleIndex = new Map(usedIds.map((id, i) => [id, i]));
  const results: Result[] = findings.map((f) => toResult(f, ruleIndex.get(f.ruleId)!));
  const notes =
    result.findings.length > SARIF_MAX_RESULTS
      ? [{ level: 'warning' as const, message: { text: `Only the ${SARIF_MAX_RESULTS} most severe of ${result.findings.length} findings are included (GitHub code scanning's limit). Use --format json for all of them.` } }]
      : [];
  const log: Log = {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: { driver: { name: 'keywarden', semanticVersion: VERSION, informationUri: 'https://github.com/keywarden/keywarden', rules } },
        results,
        invocations: [{ executionSuccessful: true, toolExecutionNotifications: notes }],
        columnKind: 'utf16CodeUnits',
        // What was not scanned, counted by reason (a .gitignore, the size limit, …): never silent.
        properties: { skipped: result.summary.skipped, skippedBy: { ...result.summary.skippedBy } },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
const CONFIDENCE_RANK = { high: 0, medium: 1, low: 2 } as const;

/**
 * At most `max` findings, the most severe (then most confident) first to stay when some must go;
 * those kept stay in their original (file) order.
 */
function mostSevere(findings: readonly Finding[], max: number): Finding[] {
  if (findings.length <= max) return [...findings];
  const order = findings.map((_, i) => i);
  order.sort((a, b) => {
    const fa = findings[a]!;
    const fb = findings[b]!;
    return SEVERITY_RANK[fa.severity] - SEVERITY_RANK[fb.severity] || CONFIDENCE_RANK[fa.confidence] - CONFIDENCE_RANK[fb.confidence] || a - b;
  });
  return order
    .slice(0, max)
    .sort((a, b) => a - b)
    .map((i) => findings[i]!);
}

function toResult(f: HistoryFinding, ruleIndex: number): Result {
  const seen = f.occurrences && f.occurrences.count > 1 ? ` Found ${f.occurrences.count} times in ${f.occurrences.commits} commit(s) of the history.` : '';
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: LEVEL[f.severity],
    message: { text: `${f.title} found (${f.redacted}).${f.commit ? ` Added in commit ${f.commit.slice(0, 12)}.` : ''}${seen}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: fileUri(f.file), uriBaseId: '%SRCROOT%' },
          region: { startLine: f.startLine, startColumn: f.startColumn, endLine: f.endLine, endColumn: f.endColumn },
        },
      },
    ],
    partialFingerprints: { 'secretFingerprint/v1': f.fingerprint },
    // The credential's public identity (an access key ID, a public-key fingerprint): what to revoke.
    properties: {
      type: f.type,
      confidence: f.confidence,
      ...(f.commit ? { commit: f.commit } : {}),
      ...(f.identity ? { identity: { ...f.identity } } : {}),
      ...(f.occurrences ? { occurrences: { ...f.occurrences } } : {}),
    },
  };
}

/**
 * A relative URI reference for a finding's `file`: the name's bytes, every one outside the
 * unreserved set and `/` percent-encoded (so `#`, `?`, `%`, `:` and spaces cannot change what the
 * URI points at). A name shown with `\xNN` escapes (not valid UTF-8, see `displayName`) stands for
 * those bytes; any other name is UTF-8.
 */
export function fileUri(file: string): string {
  let bytes = Buffer.from(file, 'utf8');
  if (/\\x[89a-f][0-9a-f]/i.test(file)) {
    const raw = Buffer.from(
      file.replace(/\\x([0-9a-f]{2})|\\\\|[^\\]+|\\/gi, (m, hex?: string) =>
        hex !== undefined ? String.fromCharCode(parseInt(hex, 16)) : m === '\\\\' ? '\\' : Buffer.from(m, 'utf8').toString('latin1'),
      ),
      'latin1',
    );
    // An escaped name is never valid UTF-8: if this one is, the backslashes were the name's own.
    if (!isUtf8(raw)) bytes = raw;
  }
  let out = '';
  for (const b of bytes) {
    const unreserved = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e || b === 0x2f;
    out += unreserved ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function toPascal(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
