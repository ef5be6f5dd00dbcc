/**
 * Rotation that always gets done: in place when the backend can, otherwise by replacement
 * (create a key of the same spec, then move every alias or label onto it). AWS KMS cannot
 * rotate asymmetric or HMAC keys in place; this is the fallback the pull request explains.
 *
 * Every step derives its idempotency key from the caller's, so a retry after a crash picks
 * up where it stopped: the create is replayed, not repeated, and the alias moves finish.
 * The old key is left enabled: data sealed or signed with it must stay readable until the
 * policy schedules its destruction.
 */
import { ErrorCode, isKeywardenError, UnsupportedError } from '../errors.js';
import type { KeyBackend, MutationOptions } from './port.js';

export type RotateWithFallbackResult =
  | { mode: 'in-place'; keyId: string; version?: number; replayed: boolean }
  | { mode: 'replacement'; oldKeyId: string; newKeyId: string; movedAliases: string[]; replayed: boolean };

export async function rotateWithFallback(
  backend: KeyBackend,
  ref: string,
  options: MutationOptions & {
    /** Replace even where the backend could rotate in place: the key is disabled (its private half leaked). */
    replace?: boolean;
  },
): Promise<RotateWithFallbackResult> {
  if (!options.replace) {
    try {
      const r = await backend.rotate(ref, options);
      return { mode: 'in-place', keyId: r.keyId, ...(r.version !== undefined ? { version: r.version } : {}), replayed: r.replayed };
    } catch (e) {
      if (!isKeywardenError(e) || e.code !== ErrorCode.UNSUPPORTED) throw e;
    }
  }
  const old = await backend.describe(ref);
  if (old.spec === 'OTHER') throw new UnsupportedError(backend.name, `replace a ${old.vendorSpec ?? 'vendor-specific'} key`);
  const { replace: _replace, ...mutation } = options;
  const step = (s: string): MutationOptions => ({ ...mutation, idempotencyKey: `${options.idempotencyKey}:${s}` });
  const created = await backend.create(
    {
      spec: old.spec,
      usage: old.usage,
      description: `Replacement for ${old.id}${old.description ? `: ${old.description}` : ''}`,
      tags: { ...old.tags, 'keywarden:replaces': old.id },
    },
    step('create'),
  );
  // On a retry after the aliases moved, `ref` already names the replacement; its tag names the original.
  const oldKeyId = old.id === created.keyId ? (old.tags['keywarden:replaces'] ?? old.id) : old.id;
  const movedAliases: string[] = [];
  for (const alias of old.aliases) {
    await backend.moveAlias(alias, created.keyId, step(`alias:${alias}`));
    movedAliases.push(alias);
  }
  return { mode: 'replacement', oldKeyId, newKeyId: created.keyId, movedAliases, replayed: created.replayed };
}
