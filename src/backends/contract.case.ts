/**
 * The contract every `KeyBackend` must pass: one shared suite, run by each backend's test
 * file (the hono `common.case.test.ts` pattern). A backend that cannot pass a case skips it
 * by name, with a written reason that shows up in the test report.
 *
 * @example
 * runBackendContract('local', async () => LocalBackend.open({ path, kek }), {
 *   skip: [{ reason: 'the local keystore supports every verb', tests: ['unsupported verb is typed'] }],
 * });
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type KeywardenError } from '../errors.js';
import type { KeyBackend, KeySpec, ManagedKey, MutationOptions } from './port.js';
import { OPERATIONS } from './port.js';

export const CONTRACT_TESTS = [
  'create and describe',
  'inventory lists the key',
  'missing key is KEY_NOT_FOUND',
  'encrypt and decrypt',
  'encryption context is bound',
  'data key round trip',
  'rotate keeps old ciphertext readable',
  'new encryptions use the new version',
  'rotation setting',
  'disable and enable',
  'disabled key refuses encrypt',
  'schedule and cancel destruction',
  'destruction window bounds',
  'idempotent create',
  'idempotent rotate',
  'idempotent disable and enable',
  'idempotent schedule and cancel destruction',
  'idempotency key reused for another verb',
  'concurrent rotations of one key',
  'concurrent retries with one idempotency key',
  'move alias',
  'access policy is normalised',
  'unsupported verb is typed',
  'no key material in results or errors',
  'matchLeak: an unknown fingerprint matches nothing',
  'matchLeak: a known public key matches its key',
] as const;
export type ContractTest = (typeof CONTRACT_TESTS)[number];

export interface ContractSkip {
  /** Why these cases cannot run on this backend; shown in the test name. */
  reason: string;
  tests: ContractTest[];
}

export interface ContractOptions {
  skip?: ContractSkip[];
  /** The spec to create for encryption cases. Default AES_256. */
  symmetricSpec?: KeySpec;
  /** Calls a verb this backend cannot do; must reject with KW_UNSUPPORTED. */
  unsupported?: { what: string; run: (backend: KeyBackend) => Promise<unknown> };
  /** How many concurrent rotations to fire. Default 4. */
  concurrency?: number;
  /** The asymmetric spec for the leak-matching cases. Default ECC_NIST_P256. */
  asymmetricSpec?: KeySpec;
}

const CANARY = `KW-CANARY-${randomBytes(12).toString('hex')}`;

async function rejection(p: Promise<unknown>): Promise<KeywardenError> {
  try {
    await p;
  } catch (e) {
    return e as KeywardenError;
  }
  throw new Error('expected the call to reject');
}

export function runBackendContract(name: string, createBackend: () => Promise<KeyBackend> | KeyBackend, options: ContractOptions = {}): void {
  const skipped = new Map<ContractTest, string>();
  for (const s of options.skip ?? []) for (const t of s.tests) skipped.set(t, s.reason);
  const spec = options.symmetricSpec ?? 'AES_256';

  describe(`KeyBackend contract: ${name}`, () => {
    let backend: KeyBackend;
    const opts = (label: string): MutationOptions => ({ idempotencyKey: `${label}-${randomUUID()}`, actor: 'contract-test' });
    const newAlias = (): string => `alias/kw-contract-${randomUUID().slice(0, 8)}`;
    async function newKey(alias = newAlias()): Promise<ManagedKey> {
      const r = await backend.create({ spec, alias, description: 'contract test', tags: { suite: 'contract' } }, opts('create'));
      return backend.describe(r.keyId);
    }

    const test = (title: ContractTest, fn: () => Promise<void>): void => {
      const reason = skipped.get(title);
      if (reason !== undefined) it.skip(`${title} — skipped: ${reason}`, fn);
      else it(title, fn);
    };

    beforeAll(async () => {
      backend = await createBackend();
    });
    afterAll(async () => {
      await backend?.close();
    });

    test('create and describe', async () => {
      const alias = newAlias();
      const key = await newKey(alias);
      expect(key).toMatchObject({ backend: backend.name, spec, usage: 'encrypt-decrypt', state: 'enabled', currentVersion: 1 });
      expect(key.aliases).toContain(alias);
      expect(Number.isNaN(Date.parse(key.createdAt))).toBe(false);
      expect(key.versions.at(-1)).toMatchObject({ version: 1, current: true });
      expect(await backend.describe(alias)).toMatchObject({ id: key.id });
      expect(await backend.describe(key.id)).toMatchObject({ id: key.id });
    });

    test('inventory lists the key', async () => {
      const key = await newKey();
      const all = await backend.inventory();
      expect(all.find((k) => k.id === key.id)).toMatchObject({ id: key.id, state: 'enabled', spec });
    });

    test('missing key is KEY_NOT_FOUND', async () => {
      const missing = `alias/kw-missing-${randomUUID().slice(0, 8)}`;
      expect(await rejection(backend.describe(missing))).toMatchObject({ code: ErrorCode.KEY_NOT_FOUND, retryable: false });
      expect(await rejection(backend.rotate(missing, opts('rotate')))).toMatchObject({ code: ErrorCode.KEY_NOT_FOUND });
      expect(await rejection(backend.disable(missing, opts('disable')))).toMatchObject({ code: ErrorCode.KEY_NOT_FOUND });
      expect(await rejection(backend.encrypt(missing, Buffer.from('x')))).toMatchObject({ code: ErrorCode.KEY_NOT_FOUND });
    });

    test('encrypt and decrypt', async () => {
      const key = await newKey();
      const msg = Buffer.from('hello, keywarden');
      const enc = await backend.encrypt(key.id, msg);
      expect(Buffer.from(enc.ciphertext).includes(msg)).toBe(false);
      const dec = await backend.decrypt(enc.ciphertext);
      expect(Buffer.from(dec.plaintext).toString()).toBe('hello, keywarden');
      expect(dec.keyId).toBe(key.id);
    });

    test('encryption context is bound', async () => {
      const key = await newKey();
      const enc = await backend.encrypt(key.id, Buffer.from('ctx'), { context: { repo: 'a/b' } });
      expect(Buffer.from((await backend.decrypt(enc.ciphertext, { context: { repo: 'a/b' } })).plaintext).toString()).toBe('ctx');
      expect(await rejection(backend.decrypt(enc.ciphertext, { context: { repo: 'a/c' } }))).toMatchObject({ code: ErrorCode.DECRYPT_FAILED });
    });

    test('data key round trip', async () => {
      const key = await newKey();
      const dk = await backend.generateDataKey(key.id, { bytes: 32 });
      expect(dk.plaintext.length).toBe(32);
      const back = await backend.decrypt(dk.ciphertext);
      expect(Buffer.from(back.plaintext).equals(Buffer.from(dk.plaintext))).toBe(true);
    });

    test('rotate keeps old ciphertext readable', async () => {
      const key = await newKey();
      const before = await backend.encrypt(key.id, Buffer.from('before rotation'));
      const r = await backend.rotate(key.id, opts('rotate'));
      expect(r).toMatchObject({ operation: 'rotate', keyId: key.id, replayed: false, version: 2 });
      const after = await backend.describe(key.id);
      expect(after.currentVersion).toBe(2);
      expect(after.versions.map((v) => v.version)).toEqual([1, 2]);
      expect(after.lastRotatedAt).toBeDefined();
      expect(Buffer.from((await backend.decrypt(before.ciphertext)).plaintext).toString()).toBe('before rotation');
    });

    test('new encryptions use the new version', async () => {
      const key = await newKey();
      expect((await backend.encrypt(key.id, Buffer.from('v1'))).version).toBe(1);
      await backend.rotate(key.id, opts('rotate'));
      const enc = await backend.encrypt(key.id, Buffer.from('v2'));
      expect(enc.version).toBe(2);
      expect((await backend.decrypt(enc.ciphertext)).version).toBe(2);
    });

    test('rotation setting', async () => {
      const key = await newKey();
      await backend.setRotation(key.id, { automatic: true, periodDays: 90 }, opts('rot'));
      expect((await backend.describe(key.id)).rotation).toMatchObject({ automatic: true, periodDays: 90 });
      await backend.setRotation(key.id, { automatic: false }, opts('rot'));
      expect((await backend.describe(key.id)).rotation.automatic).toBe(false);
    });

    test('disable and enable', async () => {
      const key = await newKey();
      expect(await backend.disable(key.id, opts('disable'))).toMatchObject({ state: 'disabled', replayed: false });
      expect((await backend.describe(key.id)).state).toBe('disabled');
      expect(await backend.enable(key.id, opts('enable'))).toMatchObject({ state: 'enabled' });
      expect((await backend.describe(key.id)).state).toBe('enabled');
    });

    test('disabled key refuses encrypt', async () => {
      const key = await newKey();
      const enc = await backend.encrypt(key.id, Buffer.from('x'));
      await backend.disable(key.id, opts('disable'));
      expect(await rejection(backend.encrypt(key.id, Buffer.from('x')))).toMatchObject({ code: ErrorCode.KEY_STATE });
      expect(await rejection(backend.decrypt(enc.ciphertext))).toMatchObject({ code: ErrorCode.KEY_STATE });
      await backend.enable(key.id, opts('enable'));
      expect(Buffer.from((await backend.decrypt(enc.ciphertext)).plaintext).toString()).toBe('x');
      await backend.scheduleDestruction(key.id, 7, opts('destroy'));
      expect(await rejection(backend.encrypt(key.id, Buffer.from('x')))).toMatchObject({ code: ErrorCode.KEY_STATE });
      await backend.cancelDestruction(key.id, opts('cancel'));
    });

    test('schedule and cancel destruction', async () => {
      const key = await newKey();
      const s = await backend.scheduleDestruction(key.id, 7, opts('destroy'));
      expect(s).toMatchObject({ state: 'pending-destruction' });
      const pending = await backend.describe(key.id);
      expect(pending.state).toBe('pending-destruction');
      const days = (Date.parse(pending.destructionAt ?? '') - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(6);
      expect(days).toBeLessThanOrEqual(7.01);
      expect(await rejection(backend.enable(key.id, opts('enable')))).toMatchObject({ code: ErrorCode.KEY_STATE });
      expect(await rejection(backend.rotate(key.id, opts('rotate')))).toMatchObject({ code: ErrorCode.KEY_STATE });
      expect(await backend.cancelDestruction(key.id, opts('cancel'))).toMatchObject({ state: 'disabled' });
      const back = await backend.describe(key.id);
      expect(back.state).toBe('disabled');
      expect(back.destructionAt).toBeUndefined();
      await backend.enable(key.id, opts('enable'));
      expect((await backend.describe(key.id)).state).toBe('enabled');
    });

    test('destruction window bounds', async () => {
      const key = await newKey();
      const { min, max } = backend.capabilities.destructionWindowDays;
      expect(await rejection(backend.scheduleDestruction(key.id, min - 1, opts('destroy')))).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
      expect(await rejection(backend.scheduleDestruction(key.id, max + 1, opts('destroy')))).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
      expect((await backend.describe(key.id)).state).toBe('enabled');
    });

    test('idempotent create', async () => {
      const o = opts('create');
      const alias = newAlias();
      const a = await backend.create({ spec, alias }, o);
      const b = await backend.create({ spec, alias }, o);
      expect(b).toMatchObject({ keyId: a.keyId, replayed: true });
      expect((await backend.inventory()).filter((k) => k.aliases.includes(alias))).toHaveLength(1);
    });

    test('idempotent rotate', async () => {
      const key = await newKey();
      const o = opts('rotate');
      const a = await backend.rotate(key.id, o);
      const b = await backend.rotate(key.id, o);
      expect(a.replayed).toBe(false);
      expect(b).toMatchObject({ replayed: true, version: a.version });
      expect((await backend.describe(key.id)).currentVersion).toBe(2);
    });

    test('idempotent disable and enable', async () => {
      const key = await newKey();
      const d = opts('disable');
      await backend.disable(key.id, d);
      expect(await backend.disable(key.id, d)).toMatchObject({ replayed: true, state: 'disabled' });
      // A new idempotency key on an already-disabled key is a no-op, not an error.
      expect(await backend.disable(key.id, opts('disable'))).toMatchObject({ replayed: false, state: 'disabled' });
      const e = opts('enable');
      await backend.enable(key.id, e);
      await backend.disable(key.id, opts('disable'));
      // Replaying the enable must not enable again.
      expect(await backend.enable(key.id, e)).toMatchObject({ replayed: true });
      expect((await backend.describe(key.id)).state).toBe('disabled');
    });

    test('idempotent schedule and cancel destruction', async () => {
      const key = await newKey();
      const s = opts('destroy');
      const a = await backend.scheduleDestruction(key.id, 7, s);
      const b = await backend.scheduleDestruction(key.id, 7, s);
      expect(b).toMatchObject({ replayed: true, destructionAt: a.destructionAt });
      const c = opts('cancel');
      await backend.cancelDestruction(key.id, c);
      expect(await backend.cancelDestruction(key.id, c)).toMatchObject({ replayed: true });
      await backend.scheduleDestruction(key.id, 7, opts('destroy'));
      // Replaying the old schedule does not reschedule; replaying the old cancel does not cancel.
      expect(await backend.cancelDestruction(key.id, c)).toMatchObject({ replayed: true });
      expect((await backend.describe(key.id)).state).toBe('pending-destruction');
      await backend.cancelDestruction(key.id, opts('cancel'));
    });

    test('idempotency key reused for another verb', async () => {
      const key = await newKey();
      const o = opts('shared');
      await backend.disable(key.id, o);
      expect(await rejection(backend.rotate(key.id, o))).toMatchObject({ code: ErrorCode.IDEMPOTENCY_CONFLICT });
      const other = await newKey();
      expect(await rejection(backend.disable(other.id, o))).toMatchObject({ code: ErrorCode.IDEMPOTENCY_CONFLICT });
      expect((await backend.describe(other.id)).state).toBe('enabled');
    });

    test('concurrent rotations of one key', async () => {
      const key = await newKey();
      const n = options.concurrency ?? 4;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => backend.rotate(key.id, opts(`rotate-${i}`))));
      const after = await backend.describe(key.id);
      expect(after.currentVersion).toBe(1 + n);
      expect(new Set(after.versions.map((v) => v.version)).size).toBe(1 + n);
      const versions = results.map((r) => r.version);
      if (versions.every((v) => v !== undefined)) expect(new Set(versions).size).toBe(n);
    });

    test('concurrent retries with one idempotency key', async () => {
      const key = await newKey();
      const o = opts('rotate');
      const results = await Promise.all([backend.rotate(key.id, o), backend.rotate(key.id, o), backend.rotate(key.id, o)]);
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      expect((await backend.describe(key.id)).currentVersion).toBe(2);
    });

    test('move alias', async () => {
      const alias = newAlias();
      const a = await newKey(alias);
      const b = await newKey();
      expect(await rejection(backend.create({ spec, alias }, opts('create')))).toMatchObject({ code: ErrorCode.ALIAS_IN_USE });
      await backend.moveAlias(alias, b.id, opts('move'));
      expect((await backend.describe(alias)).id).toBe(b.id);
      expect((await backend.describe(a.id)).aliases).not.toContain(alias);
    });

    test('access policy is normalised', async () => {
      const key = await newKey();
      expect(key.access.length).toBeGreaterThan(0);
      for (const rule of key.access) {
        expect(typeof rule.principal).toBe('string');
        expect(['allow', 'deny']).toContain(rule.effect);
        expect(rule.operations.length).toBeGreaterThan(0);
        for (const op of rule.operations) expect(OPERATIONS).toContain(op);
      }
    });

    test('unsupported verb is typed', async () => {
      if (!options.unsupported) throw new Error(`give runBackendContract an "unsupported" probe for ${name}, or skip this case with a reason`);
      const e = await rejection(options.unsupported.run(backend));
      expect(e).toMatchObject({ code: ErrorCode.UNSUPPORTED, fault: 'backend', retryable: false });
      expect(e.details).toMatchObject({ backend: backend.name });
    });

    test('no key material in results or errors', async () => {
      const key = await newKey();
      const canary = Buffer.from(CANARY);
      const enc = await backend.encrypt(key.id, canary);
      const dk = await backend.generateDataKey(key.id);
      const seen: string[] = [];
      const collect = (v: unknown): void => {
        seen.push(typeof v === 'string' ? v : JSON.stringify(v));
      };
      collect(await backend.rotate(key.id, opts('rotate')));
      collect(await backend.describe(key.id));
      collect(await backend.inventory());
      await backend.disable(key.id, opts('disable'));
      // Whatever this backend refuses on a disabled key, its errors must not echo the data.
      const settled = await Promise.allSettled([backend.encrypt(key.id, canary), backend.decrypt(enc.ciphertext), backend.generateDataKey(key.id)]);
      await backend.enable(key.id, opts('enable'));
      const wrongContext = await rejection(backend.decrypt(enc.ciphertext, { context: { k: CANARY } }));
      for (const s of settled) {
        if (s.status === 'fulfilled') continue;
        const e = s.reason as KeywardenError;
        collect(e.message);
        collect(e.toJSON?.() ?? String(e));
        collect(String(e.stack));
      }
      collect(wrongContext.message);
      const tampered = Buffer.from(enc.ciphertext);
      tampered[tampered.length - 1]! ^= 1;
      const e = await rejection(backend.decrypt(tampered));
      collect(e.message);
      collect(e.toJSON?.() ?? String(e));
      const text = seen.join('\n');
      const dkHex = Buffer.from(dk.plaintext).toString('hex');
      const dkB64 = Buffer.from(dk.plaintext).toString('base64');
      for (const needle of [CANARY, canary.toString('base64'), canary.toString('hex'), dkHex, dkB64]) expect(text).not.toContain(needle);
    });

    const sha = (data: string | Uint8Array): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const needsMatchLeak = (): NonNullable<KeyBackend['matchLeak']> => {
      if (!backend.matchLeak) throw new Error(`${name} has no matchLeak: implement it, or skip the matchLeak cases with a reason`);
      return backend.matchLeak.bind(backend);
    };

    test('matchLeak: an unknown fingerprint matches nothing', async () => {
      const matchLeak = needsMatchLeak();
      await newKey();
      expect(await matchLeak({ fingerprint: sha(randomBytes(32)), type: 'generic-secret' })).toBeUndefined();
      expect(await matchLeak({ fingerprint: sha(randomBytes(32)), type: 'private-key', identity: { kind: 'public-key', id: sha(randomBytes(32)) } })).toBeUndefined();
      expect(await matchLeak({ fingerprint: sha(randomBytes(32)), type: 'keywarden-key', identity: { kind: 'keywarden-key', id: 'lk-none:1' } })).toBeUndefined();
      await expect(matchLeak({ fingerprint: 'not-a-fingerprint', type: 'generic-secret' })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    });

    test('matchLeak: a known public key matches its key', async () => {
      const matchLeak = needsMatchLeak();
      if (!backend.getPublicKey) throw new Error(`${name} has no getPublicKey: implement it, or skip this case with a reason`);
      const alias = newAlias();
      const { keyId } = await backend.create({ spec: options.asymmetricSpec ?? 'ECC_NIST_P256', alias }, opts('create'));
      const spki = await backend.getPublicKey(keyId);
      const id = sha(spki);
      // The secret itself (a private key text) is unknown to the backend: only its public half matches.
      const m = await matchLeak({ fingerprint: sha(randomBytes(32)), type: 'private-key', identity: { kind: 'public-key', id } });
      expect(m).toMatchObject({ keyId, how: 'public-key' });
      expect(m!.aliases).toContain(alias);
      expect(['version', 'key']).toContain(m!.revocable);
      // Twice (a backend may cache): same answer.
      expect(await matchLeak({ fingerprint: sha(randomBytes(32)), type: 'private-key', identity: { kind: 'public-key', id } })).toMatchObject({ keyId });
    });
  });
}
