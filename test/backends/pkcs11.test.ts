import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as graphene from 'graphene-pk11';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackendContract } from '../../src/backends/contract.case.js';
import { Pkcs11Backend } from '../../src/backends/pkcs11.js';
import { rotateWithFallback } from '../../src/backends/rotate-with-fallback.js';
import { ErrorCode } from '../../src/errors.js';
import { createSoftHsmToken, softHsmSkipReason, type SoftHsmToken } from '../setup/softhsm.js';

let token: SoftHsmToken | undefined;
let stateDir: string;
beforeAll(() => {
  if (softHsmSkipReason) return;
  token = createSoftHsmToken();
  stateDir = mkdtempSync(join(tmpdir(), 'kw-p11-state-'));
});
afterAll(() => {
  token?.cleanup();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

function open(now?: () => Date): Pkcs11Backend {
  if (!token) throw new Error('no token');
  return Pkcs11Backend.open({ library: token.lib, tokenLabel: token.label, pin: token.pin, statePath: join(stateDir, 'state.db'), ...(now ? { now } : {}) });
}

describe.skipIf(softHsmSkipReason !== undefined)(`pkcs11 against SoftHSM2${softHsmSkipReason ? ` (skipped: ${softHsmSkipReason})` : ''}`, () => {
  runBackendContract('pkcs11 (SoftHSM2)', () => open(), {
    skip: [
      {
        reason: 'PKCS#11 tokens have no rotation timer: setRotation({ automatic: true }) throws KW_UNSUPPORTED (tested below)',
        tests: ['rotation setting'],
      },
    ],
    unsupported: {
      what: 'create an HMAC key',
      run: (b) => b.create({ spec: 'HMAC_256' }, { idempotencyKey: `hmac-${Math.random()}` }),
    },
  });

  describe('pkcs11 specifics', () => {
    /** A second, raw view of the token, to check what Keywarden did to the objects. */
    function rawObjects(label: string): graphene.ITemplate[] {
      const mod = graphene.Module.load(token!.lib, 'raw');
      mod.initialize();
      const slots = mod.getSlots(true);
      const out: graphene.ITemplate[] = [];
      for (let i = 0; i < slots.length; i++) {
        const slot = slots.items(i);
        if (slot.getToken().label.trim() !== token!.label) continue;
        const s = slot.open(graphene.SessionFlag.SERIAL_SESSION);
        try {
          s.login(token!.pin);
        } catch {
          // already logged in through the backend in this process
        }
        const found = s.find({ label });
        for (let j = 0; j < found.length; j++) {
          const o = found.items(j);
          const cls = o.class;
          const attrs: graphene.ITemplate = { class: null, id: null };
          if (cls === graphene.ObjectClass.SECRET_KEY) Object.assign(attrs, { encrypt: null, decrypt: null, sensitive: null, extractable: null });
          if (cls === graphene.ObjectClass.PRIVATE_KEY) Object.assign(attrs, { sign: null, decrypt: null, unwrap: null, derive: null, sensitive: null, extractable: null });
          if (cls === graphene.ObjectClass.PUBLIC_KEY) Object.assign(attrs, { verify: null, encrypt: null, wrap: null });
          out.push(o.getAttribute(attrs));
        }
        s.close();
      }
      return out;
    }

    it('keeps material sensitive and non-extractable, versions as CKA_IDs, and disables by clearing usage', async () => {
      const b = open();
      const { keyId } = await b.create({ spec: 'AES_256', alias: 'p11-aes' }, { idempotencyKey: 'aes-c' });
      await b.rotate(keyId, { idempotencyKey: 'aes-r' });
      let objs = rawObjects('p11-aes');
      expect(objs).toHaveLength(2);
      expect(objs.map((o) => (o.id as Buffer).toString('hex')).sort()).toEqual([`${keyId}00000001`, `${keyId}00000002`]);
      for (const o of objs) expect(o).toMatchObject({ sensitive: true, extractable: false, encrypt: true, decrypt: true });
      await b.disable(keyId, { idempotencyKey: 'aes-d' });
      objs = rawObjects('p11-aes');
      for (const o of objs) expect(o).toMatchObject({ encrypt: false, decrypt: false });
      await b.close();
    });

    it('makes RSA and EC key pairs, rotates them in place, and disables signing on the token', async () => {
      const b = open();
      for (const spec of ['RSA_2048', 'ECC_NIST_P256'] as const) {
        const label = `p11-${spec}`;
        const { keyId } = await b.create({ spec, alias: label }, { idempotencyKey: `${spec}-c` });
        const r = await rotateWithFallback(b, label, { idempotencyKey: `${spec}-r` });
        expect(r).toMatchObject({ mode: 'in-place', keyId, version: 2 });
        expect(rawObjects(label)).toHaveLength(4);
        // A signing key can sign and nothing else, even where the token defaults usage to true.
        for (const o of rawObjects(label)) {
          if (o.class === graphene.ObjectClass.PRIVATE_KEY) expect(o).toMatchObject({ sign: true, decrypt: false, unwrap: false, derive: false, sensitive: true, extractable: false });
          if (o.class === graphene.ObjectClass.PUBLIC_KEY) expect(o).toMatchObject({ verify: true, encrypt: false, wrap: false });
        }
        await b.disable(keyId, { idempotencyKey: `${spec}-d` });
        for (const o of rawObjects(label)) {
          if (o.class === graphene.ObjectClass.PRIVATE_KEY) expect(o).toMatchObject({ sign: false, decrypt: false, unwrap: false });
          if (o.class === graphene.ObjectClass.PUBLIC_KEY) expect(o).toMatchObject({ verify: false, encrypt: false });
        }
        expect((await b.describe(keyId)).state).toBe('disabled');
        await b.enable(keyId, { idempotencyKey: `${spec}-e` });
        for (const o of rawObjects(label)) if (o.class === graphene.ObjectClass.PRIVATE_KEY) expect(o.sign).toBe(true);
      }
      await b.close();
    });

    it('keeps the destruction window itself and destroys the objects when it ends', async () => {
      let now = new Date();
      const b = open(() => now);
      const { keyId } = await b.create({ spec: 'AES_256', alias: 'p11-doomed' }, { idempotencyKey: 'doom-c' });
      const enc = await b.encrypt(keyId, Buffer.from('bye'));
      const s = await b.scheduleDestruction(keyId, 3, { idempotencyKey: 'doom-s' });
      expect(s.state).toBe('pending-destruction');
      // Unusable on the token at once, before the window ends.
      for (const o of rawObjects('p11-doomed')) expect(o).toMatchObject({ encrypt: false, decrypt: false });
      expect(await b.completeDueDestructions()).toEqual([]);
      now = new Date(now.getTime() + 3 * 86_400_000 + 1000);
      expect(await b.completeDueDestructions()).toEqual([expect.objectContaining({ keyId, state: 'destroyed' })]);
      expect(rawObjects('p11-doomed')).toEqual([]);
      expect(rawObjects(`kw-${keyId}`)).toEqual([]);
      const key = await b.describe(keyId);
      expect(key.state).toBe('destroyed');
      expect(key.versions.every((v) => v.state === 'destroyed')).toBe(true);
      await expect(b.decrypt(enc.ciphertext)).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
      await b.close();
    });

    it('reads enabled/disabled from the token, where the usage attributes are the truth', async () => {
      const b = open();
      const { keyId } = await b.create({ spec: 'AES_256', alias: 'p11-outside' }, { idempotencyKey: 'out-c' });
      await b.disable(keyId, { idempotencyKey: 'out-d' });
      // Someone re-enables the key with another PKCS#11 tool.
      const mod = graphene.Module.load(token!.lib, 'raw');
      mod.initialize();
      const slots = mod.getSlots(true);
      for (let i = 0; i < slots.length; i++) {
        const slot = slots.items(i);
        if (slot.getToken().label.trim() !== token!.label) continue;
        const s = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
        const found = s.find({ label: 'p11-outside' });
        for (let j = 0; j < found.length; j++) found.items(j).setAttribute({ encrypt: true, decrypt: true });
        s.close();
      }
      expect((await b.describe(keyId)).state).toBe('enabled');
      await b.close();
    });

    it('refuses automatic rotation with a typed error', async () => {
      const b = open();
      const { keyId } = await b.create({ spec: 'AES_256' }, { idempotencyKey: 'auto-c' });
      await expect(b.setRotation(keyId, { automatic: true, periodDays: 90 }, { idempotencyKey: 'auto-s' })).rejects.toMatchObject({ code: ErrorCode.UNSUPPORTED });
      await b.close();
    });

    it('refuses a wrong PIN even while this process is logged in', async () => {
      const good = open();
      expect(() => Pkcs11Backend.open({ library: token!.lib, tokenLabel: token!.label, pin: '0000', statePath: join(stateDir, 'state.db') })).toThrow(
        expect.objectContaining({ code: ErrorCode.BACKEND_DENIED }),
      );
      await good.close();
    });

    it('refuses an unknown token with a typed error', () => {
      expect(() => Pkcs11Backend.open({ library: token!.lib, tokenLabel: 'nope', pin: token!.pin, statePath: join(stateDir, 'x.db') })).toThrow(
        expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }),
      );
    });
  });
});
