/**
 * The context stage's bridge from a backend's key inventory (`KeyBackend.inventory()`,
 * src/backends/port.ts) to the keys a policy judges (`input.keys`, schemas/input.schema.json).
 * Pure.
 *
 * @example
 * engine.setKeyInventory(policyKeysFrom(await backend.inventory()));
 */
import type { ManagedKey } from '../model/keys.js';
import type { ManagedKeyInput } from './input.js';

/** Backends whose `aliases` are labels (PKCS#11 CKA_LABEL, local keystore names), matched by `match.label` as well. */
const LABEL_BACKENDS = new Set(['pkcs11', 'local']);

/**
 * One policy key per managed key: its spec (the vendor's when Keywarden has no name for it),
 * automatic rotation as `rotation.enabled`, and each `allow` rule as a grant whose operations are
 * the normalised ones and the vendor's own action names (so `forbid: ["kms:*"]` sees `kms:*`).
 * `deny` rules grant nothing and are left out. The pending window is not known until a
 * destruction is scheduled, so it is left out too.
 */
export function policyKeysFrom(keys: readonly ManagedKey[]): ManagedKeyInput[] {
  return keys.map((k) => {
    const out: ManagedKeyInput = {
      id: k.id,
      backend: k.backend,
      aliases: [...k.aliases],
      labels: LABEL_BACKENDS.has(k.backend) ? [...k.aliases] : [],
      state: k.state,
      createdAt: k.createdAt,
      rotation: { enabled: k.rotation.automatic, periodDays: k.rotation.periodDays ?? null },
      tags: { ...k.tags },
      access: k.access.filter((r) => r.effect === 'allow').map((r) => ({ principal: r.principal, operations: [...new Set([...r.operations, ...r.actions])] })),
    };
    const spec = k.spec === 'OTHER' ? k.vendorSpec : k.spec;
    if (spec) out.spec = spec;
    if (k.lastRotatedAt) out.lastRotatedAt = k.lastRotatedAt;
    return out;
  });
}
