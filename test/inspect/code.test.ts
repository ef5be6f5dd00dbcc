/**
 * TypeScript/JavaScript and dotenv → facts (src/inspect/code.ts): SDK clients given literal
 * credentials and literal cipher keys are `inline-credential` (judged by the storage policy as an
 * inline secret is), literal KMS key references are `key-ref` (which `--drift` looks up); nothing
 * else, no value kept; hostile input is bounded. Secrets here are made at run time, fake.
 */
import { describe, expect, it } from 'vitest';
import { compareDrift } from '../../src/inspect/drift.js';
import { inspectFile, inspectFiles, type Fact } from '../../src/inspect/index.js';
import type { ManagedKey } from '../../src/model/keys.js';

const fakeId = `AKIA${'Q7'.repeat(8)}`;
const fakeSecret = 'x'.repeat(20) + 'Y'.repeat(20);
const ARN = 'arn:aws:kms:eu-west-1:111122223333';

const TS = `import { KMSClient, EncryptCommand } from '@aws-sdk/client-kms';
import { createCipheriv, randomBytes } from 'node:crypto';

export const kms = new KMSClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: '${fakeId}', secretAccessKey: '${fakeSecret}' },
});
export const fromEnv = new KMSClient({ region: 'eu-west-1' });

export async function seal(data: Uint8Array) {
  await kms.send(new EncryptCommand({ KeyId: 'alias/app-data', Plaintext: data }));
  await kms.send(new EncryptCommand({ KeyId: '${ARN}:key/1234abcd-12ab-34cd-56ef-1234567890ab', Plaintext: data }));
  const iv = randomBytes(12);
  const bad = createCipheriv('aes-256-gcm', Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex'), iv);
  const fine = createCipheriv('aes-256-gcm', await loadKey(), iv);
  return [bad, fine];
}
declare function loadKey(): Promise<Buffer>;
`;

const kinds = (facts: Fact[]): string[] => facts.map((f) => `${f.kind}:${f.line}`);

describe('code', () => {
  it('finds literal credentials, literal cipher keys and literal key references, at their line', () => {
    const r = inspectFile('src/kms.ts', TS);
    expect(r.problems).toEqual([]);
    expect(kinds(r.facts)).toEqual(['inline-credential:6', 'key-ref:11', 'key-ref:12', 'inline-credential:14']);
    expect(r.facts[1]).toMatchObject({ kind: 'key-ref', ref: 'alias/app-data', refKind: 'alias', name: 'KeyId' });
    expect(r.facts[2]).toMatchObject({ refKind: 'arn' });
    // No fact holds the secret.
    expect(JSON.stringify(r.facts)).not.toContain(fakeSecret);
    expect(JSON.stringify(r.facts)).not.toContain(fakeId);
  });

  it('reads the SDK v2 form in JavaScript, and does not parse a file that mentions none of it', () => {
    const js = `const AWS = require('aws-sdk');\nconst kms = new AWS.KMS({ accessKeyId: '${fakeId}', secretAccessKey: '${fakeSecret}', region: 'us-east-1' });\n`;
    expect(kinds(inspectFile('lib/kms.js', js).facts)).toEqual(['inline-credential:2']);
    expect(inspectFile('lib/other.js', 'export const Client = 1;\n').facts).toEqual([]);
  });

  it('holds against hostile code: deep nesting and huge files are bounded, never a crash', () => {
    const deep = `const keyId = "alias/x";\nconst a = ${'('.repeat(50_000)}1${')'.repeat(50_000)};\n`;
    const r = inspectFile('deep.ts', deep);
    expect(Array.isArray(r.facts)).toBe(true);
    const many = `const k = { KeyId: 'alias/a' };\n${'f({ a: [1, 2, 3] });\n'.repeat(60_000)}`;
    const m = inspectFile('many.ts', many);
    expect(m.facts.length + m.problems.length).toBeGreaterThan(0);
  }, 60_000);
});

describe('dotenv', () => {
  it('takes KMS references from values: ARNs and aliases anywhere, key ids under a KMS name', () => {
    const env = `# settings\nKMS_KEY_ID=1234abcd-12ab-34cd-56ef-1234567890ab\nDATA_KEY="${ARN}:alias/app"\nexport SIGNING=alias/signing\nREQUEST_ID=1234abcd-12ab-34cd-56ef-1234567890ab\nFOO=bar\n`;
    const r = inspectFile('.env.production', env);
    expect(r.facts.map((f) => [f.kind, f.name, f.line, f.column, (f as { refKind?: string }).refKind])).toEqual([
      ['key-ref', 'KMS_KEY_ID', 2, 12, 'key-id'],
      ['key-ref', 'DATA_KEY', 3, 11, 'alias-arn'],
      ['key-ref', 'SIGNING', 4, 16, 'alias'],
    ]);
  });
});

describe('settings files', () => {
  it('takes the KMS ARNs a JSON or YAML settings file names, at their line and column, named by their setting', () => {
    const json = `{\n  "storage": {\n    "dataKeyArn": "${ARN}:key/1234abcd-12ab-34cd-56ef-1234567890ab",\n    "other": "alias/not-judged"\n  }\n}\n`;
    expect(inspectFile('config/app.json', json).facts).toEqual([expect.objectContaining({ kind: 'key-ref', name: 'dataKeyArn', line: 3, column: 20, refKind: 'arn', format: 'config' })]);
    const yaml = `signing:\n  keyArn: ${ARN}:alias/signing\n`;
    expect(inspectFile('values.yaml', yaml).facts).toEqual([expect.objectContaining({ name: 'keyArn', line: 2, column: 11, refKind: 'alias-arn' })]);
  });

  it('holds against a minified file of thousands of ARNs on one line', () => {
    const one = `{"k":[${Array.from({ length: 20_000 }, (_, i) => `"${ARN}:key/k${i}"`).join(',')}]}`;
    const r = inspectFile('min.json', one);
    expect(r.facts.length).toBe(10_000);
  });
});

describe('key references against the KMS', () => {
  const live = (id: string, aliases: string[], state: ManagedKey['state'] = 'enabled'): ManagedKey => ({
    backend: 'aws-kms', id, arn: `${ARN}:key/${id}`, aliases, spec: 'AES_256', usage: 'encrypt-decrypt', state, createdAt: '2026-01-01T00:00:00Z',
    rotation: { automatic: true, periodDays: 365, inPlace: true }, versions: [], currentVersion: 1, tags: {}, access: [],
  });
  it('reports a referenced key the KMS does not have, or has disabled; leaves other accounts and AWS-managed aliases alone', () => {
    const code = `const a = { KeyId: 'alias/app-data' };\nconst b = { KeyId: 'alias/gone' };\nconst c = { KeyId: '${ARN}:key/k-off' };\nconst d = { KeyId: 'arn:aws:kms:eu-west-1:999999999999:alias/theirs' };\nconst e = { KeyId: 'alias/aws/s3' };\n`;
    const facts = inspectFiles([{ path: 'src/use.ts', text: code }]).facts.filter((f) => f.kind === 'key-ref');
    const r = compareDrift(facts as never, [live('k-on', ['alias/app-data']), live('k-off', [], 'disabled')], 'aws-kms');
    expect(r.drift.map((d) => [d.kind, d.line])).toEqual([
      ['missing', 2],
      ['state', 3],
    ]);
    expect(r.unmatched).toBe(1);
  });
});
