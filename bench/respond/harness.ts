/**
 * The two backends the respond benchmark leaks credentials of, and how each one checks that the
 * leaked credential really is disabled afterwards.
 *
 * - local: one embedded keystore for the whole run (passphrase-derived KEK, as `keys create`
 *   makes it); per run a fresh exportable HMAC key, exported as a Keywarden token, exactly what
 *   `keys create --exportable` + `keys export --format token` do. Disabled = the exported
 *   version is `revoked`.
 * - aws: moto (IAM + KMS in memory); one IAM user, per run a fresh access key of it (older ones
 *   deleted first: IAM allows two per user, moto enforces it, and each respond leaves the
 *   deactivated key and its replacement behind). Backend `aws-kms` with the moto endpoint, so
 *   `compose` adds the IAM revoker. Disabled = IAM lists the key as `Inactive`.
 *
 * A leak's secret lives only in the `Leak` object (and the file committed to the throwaway repo);
 * nothing here prints or writes it anywhere else.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import type { AuditedBackend } from '../../src/backends/audited.js';
import type { LocalBackend as LocalBackendType } from '../../src/backends/local.js';
import type { BackendSettings } from '../../src/backends/open-backend.js';
import { startMoto, type MotoServer } from '../../test/setup/moto.js';
import { compose, LocalBackend } from './keywarden.js';

export type BackendName = 'local' | 'aws';
export const BACKEND_NAMES: readonly BackendName[] = ['local', 'aws'];

/** One leaked credential, ready to be committed. */
export interface Leak {
  /** The public id the pipeline's revoke step targets (a key id, an access key id). Not a secret. */
  id: string;
  /** The TypeScript file that leaks it (`src/config.ts`). Holds the secret: never print it. */
  source: string;
}

export interface Verdict {
  ok: boolean;
  /** What the backend says, for people (no secret). */
  detail: string;
}

export interface Harness {
  readonly name: BackendName;
  /** What the CLI would get as flags (`--backend`, `--endpoint`, `--region`). */
  readonly backend: BackendSettings;
  readonly cliFlags: readonly string[];
  /** The environment of the pipeline (in process) and of the CLI child. */
  readonly env: NodeJS.ProcessEnv;
  /** For the report. */
  readonly setup: string;
  /** A fresh leaked credential (untimed). */
  nextLeak(): Promise<Leak>;
  /** Whether the leaked credential is disabled now. */
  verify(leak: Leak): Promise<Verdict>;
  close(): Promise<void>;
}

/** The policy every run's repository carries: revoke, rotate and open a PR for either kind of leak. */
export const POLICY = `version: 1
name: bench-respond
secrets:
  on-leak:
    - when: { type: keywarden-key }
      do: [revoke, rotate, open-pr]
      severity: critical
    - when: { type: aws-access-key }
      do: [revoke, rotate, open-pr]
      severity: critical
    - do: [open-pr]
`;

/** The file before the leak, and with it (the secret pasted into the typed config). */
export const CLEAN_CONFIG = "export const config = { region: 'eu-west-1' };\n";

function baseEnv(work: string, cacheDir: string): NodeJS.ProcessEnv {
  mkdirSync(work, { recursive: true });
  return {
    PATH: process.env.PATH,
    HOME: work,
    KEYWARDEN_STATE_DIR: path.join(work, 'state'),
    KEYWARDEN_CACHE_DIR: cacheDir,
    ...(process.env.KEYWARDEN_OPA ? { KEYWARDEN_OPA: process.env.KEYWARDEN_OPA } : {}),
  };
}

export async function openLocal(work: string, cacheDir: string): Promise<Harness> {
  const env: NodeJS.ProcessEnv = { ...baseEnv(work, cacheDir), KEYWARDEN_LOCAL_PASSPHRASE: `bench-pass-${randomBytes(9).toString('hex')}` };
  const backend: BackendSettings = { kind: 'local' };
  let seq = 0;
  /** The keystore as the `keys` commands open it: composed, audited, then closed again. */
  async function withKeystore<T>(fn: (local: LocalBackendType, audited: AuditedBackend) => Promise<T>): Promise<T> {
    const c = compose({ cwd: work, env, actor: 'cli:bench', backend, policyFile: false });
    try {
      const { backend: audited } = await c.backend();
      const local = audited.inner;
      if (!(local instanceof LocalBackend)) throw new Error('the local backend is not a LocalBackend');
      return await fn(local, audited);
    } finally {
      await c.close();
    }
  }
  return {
    name: 'local',
    backend,
    cliFlags: ['--backend', 'local'],
    env,
    setup: 'embedded keystore (SQLite, KEK from a passphrase by scrypt N=2^15 at every open)',
    nextLeak: () =>
      withKeystore(async (local, audited) => {
        const n = seq++;
        const { keyId } = await audited.create({ spec: 'HMAC_256', alias: `bench-signing-${n}`, exportable: true }, { idempotencyKey: `bench-create-${process.pid}-${n}`, reason: 'bench' });
        const { material } = await local.exportKey(keyId, { format: 'token' }, { actor: 'cli:bench', reason: 'bench' });
        return { id: keyId, source: `// settings\nexport const config = {\n  region: 'eu-west-1',\n  // the signing key\n  signingKey: '${material}',\n};\n` };
      }),
    verify: (leak) =>
      withKeystore(async (local) => {
        const k = await local.describe(leak.id);
        const v1 = k.versions.find((v) => v.version === 1);
        const ok = v1?.state === 'revoked' && k.currentVersion === 2;
        return { ok, detail: `version 1 ${v1?.state ?? 'missing'}, current version ${k.currentVersion}` };
      }),
    close: async () => {},
  };
}

const IAM_USER = 'bench-deployer';

export async function openAws(work: string, cacheDir: string): Promise<Harness> {
  const moto: MotoServer = await startMoto();
  // The IAM revoker takes the SDK's default credentials: moto's fake pair, not secrets.
  const awsEnv = { AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' };
  const saved = Object.fromEntries(Object.keys(awsEnv).map((k) => [k, process.env[k]]));
  Object.assign(process.env, awsEnv);
  const env: NodeJS.ProcessEnv = { ...baseEnv(work, cacheDir), ...awsEnv };
  const iam = new IAMClient({ region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials });
  await iam.send(new CreateUserCommand({ UserName: IAM_USER }));
  const backend: BackendSettings = { kind: 'aws-kms', endpoint: moto.endpoint, region: moto.region };
  const listKeys = async (): Promise<Array<{ id: string; status: string }>> =>
    ((await iam.send(new ListAccessKeysCommand({ UserName: IAM_USER }))).AccessKeyMetadata ?? []).map((k) => ({ id: k.AccessKeyId ?? '', status: k.Status ?? '' }));
  return {
    name: 'aws',
    backend,
    cliFlags: ['--backend', 'aws-kms', '--endpoint', moto.endpoint, '--region', moto.region],
    env,
    setup: 'moto on 127.0.0.1 (IAM + KMS in memory, HTTP); backend aws-kms, IAM revoker composed',
    nextLeak: async () => {
      for (const k of await listKeys()) await iam.send(new DeleteAccessKeyCommand({ UserName: IAM_USER, AccessKeyId: k.id }));
      const created = (await iam.send(new CreateAccessKeyCommand({ UserName: IAM_USER }))).AccessKey;
      if (!created?.AccessKeyId || !created.SecretAccessKey) throw new Error('moto created no access key');
      return {
        id: created.AccessKeyId,
        source: `// settings\nexport const config = {\n  region: 'eu-west-1',\n  aws: {\n    accessKeyId: '${created.AccessKeyId}',\n    secretAccessKey: '${created.SecretAccessKey}',\n  },\n};\n`,
      };
    },
    verify: async (leak) => {
      const keys = await listKeys();
      const k = keys.find((x) => x.id === leak.id);
      const active = keys.filter((x) => x.status === 'Active').length;
      return { ok: k?.status === 'Inactive', detail: `leaked key ${k?.status ?? 'missing'}; ${keys.length} key(s), ${active} active` };
    },
    close: async () => {
      iam.destroy();
      await moto.stop();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}
