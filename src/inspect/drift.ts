/**
 * Drift: what the repository declares about a key against what the KMS says of it. Pure: key facts
 * and the backend's inventory in, drift out.
 *
 * A declared AWS key is matched to a live one by alias (Terraform and CloudFormation never know the
 * key id before apply; the alias is the name both sides share). Then, for each attribute the
 * repository states as a known value — or leaves out, so that AWS's documented default applies —
 * the live value is compared:
 *
 * - `missing`: the declared aliases point at no key in the KMS (deleted, or never applied);
 * - `rotation`: automatic rotation on in the repository, off in the KMS (or the other way);
 * - `rotation-period`: a different period (an absent period is AWS's default, 365 days; a KMS that
 *   does not report its period is not compared);
 * - `spec`, `usage`: a different key spec or usage;
 * - `state`: declared enabled, but disabled or pending deletion in the KMS.
 *
 * An unknown value (not resolvable without running Terraform) is not compared; a key without a
 * known alias cannot be matched and is counted as `unmatched`, never guessed.
 *
 * A key that code or a dotenv file names (`key-ref`: an ARN, an alias, a key id) is looked up too:
 * `missing` when the KMS has no such key, `state` when it is disabled or pending deletion. An ARN of
 * another account or region than the inventory's, and AWS-managed aliases (`alias/aws/…`), are not
 * the inventory's to judge and are left alone.
 */
import type { ManagedKey } from '../model/keys.js';
import type { KeyFact, KeyRefFact, Value } from './facts.js';

export type DriftKind = 'missing' | 'rotation' | 'rotation-period' | 'spec' | 'usage' | 'state';

export interface Drift {
  kind: DriftKind;
  /** The key's address in the repository (`aws_kms_key.main`, a CloudFormation logical id). */
  key: string;
  file: string;
  line: number;
  column: number;
  /** The alias the key was matched by (or looked for). */
  alias: string;
  /** The live key's id; absent for `missing`. */
  liveKeyId?: string;
  /** Both sides, as short text: `true`/`false`, `90 days`, a spec name. */
  declared: string;
  live: string;
  message: string;
}

export interface DriftResult {
  drift: Drift[];
  /** Declared keys compared with a live one. */
  compared: number;
  /** Declared keys with no known alias: they cannot be matched to a live key. */
  unmatched: number;
}

const AWS_DEFAULT_ROTATION_DAYS = 365;

const known = <T>(v: Value<T>): T | undefined => (v.state === 'known' ? v.value : undefined);
const at = (v: Value<unknown>, f: KeyFact): { line: number; column: number } => (v.state !== 'absent' && v.line !== undefined ? { line: v.line, column: v.column ?? 1 } : { line: f.line, column: f.column });

/** AWS's spec names as the repository writes them, in the inventory's vocabulary (`SYMMETRIC_DEFAULT` is `AES_256`). */
const specName = (s: string): string => (s === 'SYMMETRIC_DEFAULT' ? 'AES_256' : s);

/**
 * `backend`: the kind of backend the inventory comes from. Only an `aws-kms` inventory can say
 * anything of declared AWS keys; with another backend nothing is compared (every declared AWS key
 * is counted as `unmatched`), so a team on the local keystore is never told its KMS keys are gone.
 */
export function compareDrift(all: readonly (KeyFact | KeyRefFact)[], inventory: readonly ManagedKey[], backend: string): DriftResult {
  const facts = all.filter((f): f is KeyFact => f.kind === 'key');
  const refs = all.filter((f): f is KeyRefFact => f.kind === 'key-ref');
  if (backend !== 'aws-kms') return { drift: [], compared: 0, unmatched: facts.filter((f) => f.provider === 'aws').length + refs.length };
  const byAlias = new Map<string, ManagedKey>();
  for (const k of inventory) {
    if (k.backend !== 'aws-kms') continue;
    for (const a of k.aliases) byAlias.set(a.startsWith('alias/') ? a : `alias/${a}`, k);
  }
  const drift: Drift[] = [];
  let compared = 0;
  let unmatched = 0;
  for (const f of facts) {
    if (f.provider !== 'aws') continue;
    const aliases = f.aliases.filter((a) => a.startsWith('alias/'));
    if (!aliases.length) {
      unmatched++;
      continue;
    }
    const alias = aliases.find((a) => byAlias.has(a));
    const base = { key: f.name, file: f.file, alias: alias ?? aliases[0]! };
    if (!alias) {
      drift.push({ ...base, kind: 'missing', line: f.line, column: f.column, declared: aliases.join(', '), live: 'no such key', message: `${f.name} is declared with ${aliases.join(', ')}, but no key in the KMS has ${aliases.length === 1 ? 'that alias' : 'those aliases'}: it was deleted, or never applied.` });
      continue;
    }
    compared++;
    const live = byAlias.get(alias)!;
    const add = (kind: DriftKind, v: Value<unknown>, declared: string, liveValue: string, message: string): void => {
      drift.push({ ...base, kind, ...at(v, f), liveKeyId: live.id, declared, live: liveValue, message });
    };
    // A replica inherits spec, usage and rotation from its primary: not its own to compare.
    const replica = f.resourceType === 'aws_kms_replica_key' || f.resourceType === 'AWS::KMS::ReplicaKey';
    const enabled = known(f.extra.enabled ?? { state: 'absent' });
    if (enabled !== false && (live.state === 'disabled' || live.state === 'pending-destruction' || live.state === 'destroyed')) {
      add('state', f.extra.enabled ?? { state: 'absent' }, 'enabled', live.state, `${f.name} is declared enabled, but the KMS key ${live.id} is ${live.state}.`);
    }
    if (replica) continue;
    const rotation = known(f.rotationEnabled) ?? (f.rotationEnabled.state === 'absent' ? false : undefined);
    if (rotation !== undefined && rotation !== live.rotation.automatic) {
      add('rotation', f.rotationEnabled, rotation ? 'on' : 'off', live.rotation.automatic ? 'on' : 'off', `${f.name} declares automatic rotation ${rotation ? 'on' : 'off'}, but it is ${live.rotation.automatic ? 'on' : 'off'} for the KMS key ${live.id}.`);
    } else if (rotation && live.rotation.automatic && live.rotation.periodDays !== undefined) {
      // A KMS that does not say its period (an emulator, an older API) is not compared.
      const period = known(f.rotationPeriodDays) ?? (f.rotationPeriodDays.state === 'absent' ? AWS_DEFAULT_ROTATION_DAYS : undefined);
      const livePeriod = live.rotation.periodDays;
      if (period !== undefined && period !== livePeriod) {
        add('rotation-period', f.rotationPeriodDays, `${period} days`, `${livePeriod} days`, `${f.name} declares a rotation period of ${period} days, but the KMS key ${live.id} rotates every ${livePeriod} days.`);
      }
    }
    const spec = known(f.spec) ?? (f.spec.state === 'absent' ? 'SYMMETRIC_DEFAULT' : undefined);
    const liveSpec = live.spec === 'OTHER' ? (live.vendorSpec ?? 'OTHER') : live.spec;
    if (spec !== undefined && specName(spec) !== liveSpec) {
      add('spec', f.spec, spec, liveSpec, `${f.name} declares the key spec ${spec}, but the KMS key ${live.id} is ${liveSpec}: a key's spec cannot change, so the declared key is not the live one.`);
    }
    const usage = known(f.usage) ?? (f.usage.state === 'absent' && f.resourceType !== 'aws_kms_external_key' ? 'encrypt-decrypt' : undefined);
    if (usage !== undefined && usage !== live.usage) {
      add('usage', f.usage, usage, live.usage, `${f.name} declares the key usage ${usage}, but the KMS key ${live.id} is for ${live.usage}.`);
    }
  }
  // Keys named by code and settings.
  const byArn = new Map<string, ManagedKey>();
  const byId = new Map<string, ManagedKey>();
  const scopes = new Set<string>();
  for (const k of inventory) {
    if (k.backend !== 'aws-kms') continue;
    byId.set(k.id, k);
    if (k.arn) {
      byArn.set(k.arn, k);
      const m = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}):/.exec(k.arn);
      if (m) scopes.add(m[1]!);
    }
  }
  for (const r of refs) {
    let live: ManagedKey | undefined;
    let name = r.ref;
    if (r.refKind === 'arn' || r.refKind === 'alias-arn') {
      const scope = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}):/.exec(r.ref)?.[1];
      if (!scope || !scopes.has(scope)) {
        unmatched++;
        continue;
      }
      if (r.refKind === 'arn') live = byArn.get(r.ref);
      else name = r.ref.slice(r.ref.indexOf(':alias/') + 1);
    } else if (r.refKind === 'key-id') live = byId.get(r.ref);
    if (r.refKind === 'alias' || r.refKind === 'alias-arn') {
      if (name.startsWith('alias/aws/')) continue;
      live = byAlias.get(name);
    }
    const base = { key: r.name, file: r.file, line: r.line, column: r.column, alias: name };
    if (!live) {
      drift.push({ ...base, kind: 'missing', declared: r.ref, live: 'no such key', message: `${r.file} names the KMS key ${r.ref}, but the KMS has no such key: it was deleted, or the name is wrong.` });
      continue;
    }
    compared++;
    if (live.state === 'disabled' || live.state === 'pending-destruction' || live.state === 'destroyed') {
      drift.push({ ...base, kind: 'state', liveKeyId: live.id, declared: r.ref, live: live.state, message: `${r.file} uses the KMS key ${r.ref}, which is ${live.state}: calls with it fail.` });
    }
  }
  return { drift, compared, unmatched };
}
