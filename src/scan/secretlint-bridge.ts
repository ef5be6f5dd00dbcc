/**
 * The slow, deep path (`--secretlint`, opt-in): runs secretlint's own recommended preset
 * (`@secretlint/core` `lintSource` + `@secretlint/secretlint-rule-preset-recommend`) over a text
 * and maps its messages to our finding shape.
 *
 * Why it exists: a second opinion from the reference implementation, for audits and for the
 * parity test that proves our built-in catalogue covers the preset. Why it is opt-in: it runs
 * every rule's regex over the whole text (no keyword prefilter) and loads the rules lazily.
 *
 * Security properties: no raw secret leaves this module. secretlint runs with `maskSecrets`;
 * findings carry only the SHA-256 fingerprint of the reported range and a redacted preview.
 * The text is linted as a non-physical source, and `.p12` paths are never passed as such, so
 * the preset's GCP rule does not read files from disk.
 */
import type { SecretLintCoreConfig, SecretLintCoreResultMessage } from '@secretlint/types';
import { fingerprintSecret, redactSecret } from './redact.js';
import type { Confidence, Finding, Severity } from './types.js';
import { lineIndexOf, lineStarts } from '../util/line-column.js';

/** A finding from secretlint: the `Finding` shape without git metadata. */
export type SecretlintFinding = Omit<Finding, 'commit' | 'author' | 'authorEmail' | 'date'> & {
  /** secretlint's message id (`AWSSecretAccessKey`, `SLACK_TOKEN`, …): which check of the rule fired. */
  messageId: string;
};

/** secretlint rule (short name) → our credential type. */
const RULE_TYPES: Readonly<Record<string, string>> = {
  aws: 'aws-access-key',
  gcp: 'gcp-service-account',
  privatekey: 'private-key',
  npm: 'npm-token',
  basicauth: 'basic-auth',
  slack: 'slack-token',
  sendgrid: 'sendgrid-api-key',
  shopify: 'shopify-token',
  github: 'github-token',
  openai: 'openai-api-key',
  anthropic: 'anthropic-api-key',
  linear: 'linear-api-key',
  '1password': 'onepassword-token',
  'database-connection-string': 'database-uri',
  azure: 'azure-storage-key',
};

/** `@secretlint/secretlint-rule-aws` → `aws`. */
function shortRuleName(ruleId: string): string {
  return ruleId.replace(/^@secretlint\/secretlint-rule-/, '').replace(/^secretlint-rule-/, '');
}

let configPromise: Promise<SecretLintCoreConfig> | undefined;

/** The preset, loaded once and lazily: most scans never take this path. */
function loadConfig(): Promise<SecretLintCoreConfig> {
  configPromise ??= import('@secretlint/secretlint-rule-preset-recommend').then((mod) => ({
    rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: mod.creator }],
  }));
  return configPromise;
}

/** The short names of the rules in secretlint's recommended preset. */
export async function secretlintRuleNames(): Promise<string[]> {
  const mod = await import('@secretlint/secretlint-rule-preset-recommend');
  return mod.rules.map((r: { meta: { id: string } }) => shortRuleName(r.meta.id));
}

/**
 * Runs secretlint's recommended preset on `text` and returns findings in our shape.
 *
 * `file` is used for the finding and, as secretlint does, to pick file-specific checks
 * (`.npmrc` auth tokens, `package.json` x-oauth-basic URLs, service-account `.json` files).
 *
 * @example
 * const findings = await runSecretlint(readFileSync('.npmrc', 'utf8'), '.npmrc');
 * // [{ ruleId: 'secretlint/npm', type: 'npm-token', fingerprint: 'sha256:…', redacted: 'abcd…wxyz', … }]
 */
export async function runSecretlint(text: string, file: string): Promise<SecretlintFinding[]> {
  const { lintSource } = await import('@secretlint/core');
  const config = await loadConfig();
  const ext = extname(file);
  const result = await lintSource({
    source: {
      content: text,
      filePath: file,
      // `.p12` makes the GCP rule read the path from disk; this bridge only ever lints text.
      ...(ext === '.p12' ? {} : { ext }),
      contentType: 'text',
    },
    options: { config, maskSecrets: true, noPhysicFilePath: true, locale: 'en' },
  });
  const lines = lineStarts(text);
  return result.messages.map((m) => toFinding(m, text, file, lines));
}

function toFinding(m: SecretLintCoreResultMessage, text: string, file: string, lines: number[]): SecretlintFinding {
  const rule = shortRuleName(m.ruleId);
  const [start, end] = m.range;
  const secret = text.slice(start, end);
  const s = locate(lines, start);
  const e = locate(lines, end);
  const type = rule === 'slack' && /webhook/i.test(m.messageId) ? 'slack-webhook' : (RULE_TYPES[rule] ?? `secretlint-${rule}`);
  return {
    ruleId: `secretlint/${rule}`,
    type,
    title: `secretlint ${rule}: ${m.messageId}`,
    severity: toSeverity(m.severity),
    confidence: 'medium' satisfies Confidence,
    file,
    startLine: s.line,
    startColumn: s.column,
    endLine: e.line,
    endColumn: e.column,
    fingerprint: fingerprintSecret(secret),
    redacted: redactSecret(secret),
    messageId: m.messageId,
  };
}

function toSeverity(level: string): Severity {
  switch (level) {
    case 'error':
      return 'high';
    case 'warning':
      return 'medium';
    default:
      return 'info';
  }
}

function extname(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? (base.startsWith('.') ? base : '') : base.slice(dot);
}

/** 1-based line and column (UTF-16 units) of a string offset. */
function locate(starts: number[], offset: number): { line: number; column: number } {
  const line = lineIndexOf(starts, offset);
  return { line: line + 1, column: offset - starts[line]! + 1 };
}
