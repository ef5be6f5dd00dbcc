/**
 * The redaction layer: canary secrets of several kinds, logged as the message, as fields, nested,
 * inside an Error (message, stack, cause) and as a JSON string holding a PEM with `\n` escapes.
 * None may appear in what reaches the destination, and every line must stay JSON.
 */
import { describe, expect, it } from 'vitest';
import { KeywardenError, ErrorCode } from '../../src/errors.js';
import { maskLogLine } from '../../src/server/logger.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';
import { captureLogger } from './helpers.js';

const rng = createRng('server-logger-canaries');
const githubToken = secretGenerators['github-pat-classic']!(rng).secret;
const awsKeyId = secretGenerators['aws-access-key-id']!(rng).secret;
const awsSecret = secretGenerators['aws-secret-access-key']!(rng).secret;
const pem = secretGenerators['private-key-pem']!(rng).secret;
const slackToken = secretGenerators['slack-bot-token']!(rng).secret;

/** Every canary, plus each PEM body line (a stray line of a key is a leak too). */
const needles = [githubToken, awsKeyId, awsSecret, slackToken, ...pem.split('\n').filter((l) => !l.startsWith('-----'))];

function expectClean(lines: string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  const all = lines.join('');
  for (const needle of needles) expect(all, needle.slice(0, 6)).not.toContain(needle);
  for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
}

describe('createAppLogger redaction', () => {
  it('masks a secret in the message', () => {
    const { logger, lines } = captureLogger();
    logger.info(`cloning with ${githubToken} for acme/api`);
    logger.warn(`aws creds ${awsKeyId} ${awsSecret}`);
    logger.info({}, `slack ${slackToken}`);
    expectClean(lines);
    expect(lines[0]).toContain('ghp_');
    expect(lines[0]).toContain('for acme/api');
  });

  it('masks secrets in fields, nested fields and arrays, and censors the known credential paths', () => {
    const { logger, lines } = captureLogger();
    logger.info({ creds: { accessKeyId: awsKeyId, secretAccessKey: awsSecret } }, 'aws');
    logger.info({ deep: { a: { b: [{ c: `x ${githubToken} y` }] } } }, 'nested');
    logger.info({ key: pem }, 'a key with real newlines, escaped as \\n by JSON');
    logger.info({ [githubToken]: 1 }, 'as a key');
    logger.info(
      {
        token: 'plain-opaque-value-1',
        user: { password: 'plain-opaque-value-2', privateKey: 'plain-opaque-value-3' },
        req: { headers: { authorization: 'Bearer plain-opaque-value-4', 'x-hub-signature-256': 'sha256=plain-opaque-value-5' } },
        headers: { 'x-hub-signature-256': 'sha256=plain-opaque-value-6' },
      },
      'redact paths',
    );
    expectClean(lines);
    expect(lines.join('')).not.toMatch(/plain-opaque-value/);
    expect(lines.at(-1)).toContain('[redacted]');
  });

  it('masks secrets inside an Error: message, stack, cause and a KeywardenError', () => {
    const { logger, lines } = captureLogger();
    const inner = new Error(`upstream said ${awsKeyId}:${awsSecret}`);
    logger.error({ err: new Error(`bad token ${githubToken}`, { cause: inner }) }, 'failed');
    logger.error(new Error(`key was ${pem}`));
    logger.error({ err: new KeywardenError(ErrorCode.BACKEND_FAILED, `rejected ${slackToken}`, { details: { t: githubToken } }) });
    expectClean(lines);
    expect(lines.join('')).toContain('"stack"');
  });

  it('masks a PEM with \\n escapes inside a JSON string (escaped twice in the line)', () => {
    const { logger, lines } = captureLogger();
    const payload = JSON.stringify({ installation: 1, private_key: pem });
    expect(payload).toContain('\\n');
    logger.info({ body: payload }, 'payload as a string');
    logger.info(`payload ${payload}`);
    logger.child({ installation: 7 }).warn({ nested: { again: JSON.stringify({ payload }) } }, 'twice nested');
    expectClean(lines);
  });

  it('leaves a line without secrets byte-for-byte alone', () => {
    const line = '{"level":30,"time":1,"msg":"delivery \\"push\\" queued","n":12345678901234567890}\n';
    expect(maskLogLine(line)).toBe(line);
  });

  it('masks lines longer than one masking window', () => {
    const { logger, lines } = captureLogger();
    const filler = 'y'.repeat(70_000);
    logger.info({ a: filler, b: `t=${githubToken}`, c: filler, d: pem }, 'long');
    expectClean(lines);
  });

  it('masks text that is not JSON', () => {
    expect(maskLogLine(`plain ${githubToken} line\n`)).not.toContain(githubToken);
  });
});
