/**
 * Repository facts as the policy reads them (`input.facts`, see `src/policy/input.ts`): a declared
 * key becomes a key the same compiled rules judge as a live one, with the provider's documented
 * default where an attribute is not written (`KEY_DEFAULTS`) and the attribute listed in
 * `unknown` where it is written but could not be resolved — no rule judges an unknown value, and
 * each is counted. Pure.
 */
import type { AccessGrant, ConfigFact, ManagedKeyInput } from '../policy/input.js';
import { kmsActionToOperations, kmsOperationsExcept } from '../model/kms-actions.js';
import { KEY_DEFAULTS, type Fact, type KeyFact, type PolicyStatement, type Value } from './facts.js';

export interface PolicyFactsResult {
  facts: ConfigFact[];
  /** Attributes left unjudged because their value is unknown, by attribute. */
  unknown: Record<string, number>;
}

const BACKEND_OF: Record<KeyFact['provider'], string> = { aws: 'aws-kms', gcp: 'gcp-kms', azure: 'azure-key-vault', vault: 'vault-transit' };

/**
 * @example
 * const { facts } = toPolicyFacts(inspectFiles(files).facts);
 * const decision = evaluator.evaluate({ now: new Date().toISOString(), facts });
 */
export function toPolicyFacts(facts: readonly Fact[]): PolicyFactsResult {
  const out: ConfigFact[] = [];
  const unknown: Record<string, number> = {};
  const count = (attr: string): void => void (unknown[attr] = (unknown[attr] ?? 0) + 1);
  for (const f of facts) {
    const at = { file: f.file, line: f.line, column: f.column };
    if (f.kind === 'key') {
      out.push({ kind: 'key', ...at, key: keyOf(f, count) });
    } else if (f.kind === 'inline-credential') {
      // Credentials or a key written into code: judged as an inline secret is.
      out.push({ kind: 'secret-ref', ...at, name: f.name, source: 'inline' });
    } else if (f.kind === 'inline-secret') {
      // A Secret manifest holding its values: the storage policy's `require-reference` judges it.
      out.push({ kind: 'secret-ref', ...at, name: f.name, source: 'inline' });
    } else if (f.kind === 'secret-store-ref') {
      out.push({ kind: 'secret-ref', ...at, name: f.name, source: storeSource(f.refKind, f.store) });
    } else if (f.kind === 'access-key') {
      out.push({ kind: 'access-key', ...at, name: f.name, encryptedWithPgp: f.encryptedWithPgp });
    }
  }
  return { facts: out, unknown };
}

/**
 * The id a declared key has in the policy's input and in its violations: its address, and for a key
 * made by a module call, the call too (`module.kms.aws_kms_key.k via envs/prod/main.tf:3`) — two
 * roots calling one module make two keys, each judged on its own.
 */
export function policyKeyId(f: Pick<KeyFact, 'name' | 'via'>): string {
  return f.via ? `${f.name} via ${f.via.file}:${f.via.line}` : f.name;
}

function keyOf(f: KeyFact, count: (attr: string) => void): Partial<ManagedKeyInput> & { id: string } {
  const defaults = KEY_DEFAULTS[f.resourceType] ?? {};
  const unknownAttrs: string[] = [];
  const miss = (attr: string): void => {
    unknownAttrs.push(attr);
    count(attr);
  };
  /** The value, the documented default when absent, undefined (and counted) when unknown. */
  const read = <T>(v: Value<T>, attr: string, fallback?: unknown): T | undefined => {
    if (v.state === 'known') return v.value;
    if (v.state === 'absent') return fallback as T | undefined;
    miss(attr);
    return undefined;
  };
  const key: Partial<ManagedKeyInput> & { id: string } = { id: policyKeyId(f), backend: BACKEND_OF[f.provider], resourceType: f.resourceType, file: f.file };
  if (f.aliases.length > 0) key.aliases = [...f.aliases];
  let spec = read(f.spec, 'spec', defaults.spec);
  // Azure writes the type and the size apart (`RSA` + 4096): the policy reads `RSA_4096`.
  if (f.rsaBits.state === 'known' && (spec === undefined || !/\d{4}/.test(spec))) spec = `RSA_${f.rsaBits.value}`;
  if (spec !== undefined) key.spec = spec;
  const enabled = read(f.rotationEnabled, 'rotation', defaults.rotationEnabled);
  if (enabled !== undefined) {
    const period = enabled ? read(f.rotationPeriodDays, 'rotationPeriod', defaults.rotationPeriodDays) : undefined;
    key.rotation = { enabled, ...(typeof period === 'number' ? { periodDays: period } : {}) };
  }
  const window = read(f.deletionWindowDays, 'pendingWindowDays', defaults.deletionWindowDays);
  if (typeof window === 'number') key.pendingWindowDays = window;
  if (f.policy.state === 'known') {
    const grants = grantsOf(f.policy.value);
    if (grants === undefined) miss('access');
    else key.access = grants;
  } else if (f.policy.state === 'unknown') miss('access');
  if (unknownAttrs.length > 0) key.unknown = unknownAttrs;
  return key;
}

/**
 * Who may do what, from the Allow statements (with or without conditions: a condition narrows a
 * grant, it does not make a wildcard principal safe). Undefined when a statement cannot be read
 * (an unresolved principal or action list, `NotAction`, `NotPrincipal`): the access rules then
 * skip the key rather than judge half of its policy.
 */
function grantsOf(statements: readonly PolicyStatement[]): AccessGrant[] | undefined {
  const byPrincipal = new Map<string, Set<string>>();
  for (const s of statements) {
    if (s.effect.state !== 'known') return undefined;
    if (s.effect.value !== 'Allow') continue;
    if (s.notPrincipals.state !== 'absent' || s.principals.state !== 'known') return undefined;
    if (s.notActions.state === 'known' && s.actions.state === 'absent') {
      // Everything but the listed actions: judged as the known KMS actions it leaves.
      const ops = kmsOperationsExcept(s.notActions.value);
      for (const p of s.principals.value) byPrincipal.set(p, new Set([...(byPrincipal.get(p) ?? []), ...ops]));
      continue;
    }
    if (s.notActions.state !== 'absent' || s.actions.state !== 'known') return undefined;
    // As a live key's grants read (src/policy/backend-keys.ts): the normalised operations, which
    // IAM's case-insensitive names and `*` map onto, beside the actions as written; `*` is `kms:*`
    // in a key policy, where only KMS actions apply.
    const normalised = s.actions.value.flatMap(kmsActionToOperations);
    for (const p of s.principals.value) {
      const ops = byPrincipal.get(p) ?? new Set<string>();
      for (const a of [...normalised, ...s.actions.value]) ops.add(a);
      if (normalised.includes('*')) ops.add('kms:*');
      byPrincipal.set(p, ops);
    }
  }
  return [...byPrincipal].map(([principal, ops]) => ({ principal, operations: [...ops] }));
}

function storeSource(refKind: string, store: string | undefined): string {
  if (refKind === 'SealedSecret') return 'kms';
  if (store !== undefined && /vault/i.test(store)) return 'vault';
  return 'secret-manager';
}
