/**
 * `keywarden keys …`: inventory and lifecycle of managed keys on the configured backend.
 *
 * The backend comes from flags, then the environment, then the policy file's `backend:`
 * block (see open-backend.ts). Secrets come only from the environment. Every mutating verb
 * takes `--idempotency-key` (a fresh one is made and printed when omitted, so a retry can
 * reuse it) and lands in the audit log. Output never holds key material.
 *
 * Opening a remote backend first reconciles the audit log: intents left without an outcome by
 * a process that died are settled by looking at the key (see backends/audited.ts).
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { Command, Option } from 'commander';
import type { OpenedBackend } from '../../backends/open-backend.js';
import { isKeySpec, type KeyBackend, type ManagedKey, type MutationOptions, type MutationResult } from '../../backends/port.js';
import { rotateWithFallback, type RotateWithFallbackResult } from '../../backends/rotate-with-fallback.js';
import { ErrorCode, KeywardenError, UnsupportedError } from '../../errors.js';
import { EXPORT_FORMATS, LocalBackend, type ExportFormat } from '../../backends/local.js';
import { backendSettingsOf } from '../backend-flags.js';
import type { CliIO } from '../main.js';
import { compose } from '../../compose.js';

interface CommonFlags {
  backend?: string;
  config?: string;
  stateDir?: string;
  keystore?: string;
  region?: string;
  endpoint?: string;
  pkcs11Library?: string;
  pkcs11Token?: string;
  format: 'text' | 'json';
}

interface MutationFlags extends CommonFlags {
  idempotencyKey?: string;
  reason?: string;
  actor?: string;
}

function addCommon(cmd: Command): Command {
  return cmd
    .option('--backend <kind>', 'local, aws-kms or pkcs11 (default: KEYWARDEN_BACKEND, then the policy file, then local)')
    .option('--config <file>', 'policy file whose backend: block to read (default: .github/keywarden.yml, if present)')
    .option('--state-dir <dir>', 'where the keystore, state and audit log live (default .keywarden)')
    .option('--keystore <file>', 'local: the keystore file')
    .option('--region <region>', 'aws-kms: the region')
    .option('--endpoint <url>', 'aws-kms: a custom endpoint (VPC endpoint, moto)')
    .option('--pkcs11-library <path>', 'pkcs11: the PKCS#11 module')
    .option('--pkcs11-token <label>', 'pkcs11: the token label')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'));
}

function addMutation(cmd: Command): Command {
  return addCommon(cmd)
    .option('--idempotency-key <key>', 'reuse to retry safely; a new one is made when omitted')
    .option('--reason <text>', 'why (e.g. a finding fingerprint); recorded in the audit log')
    .option('--actor <name>', 'who is acting; recorded in the audit log (default: the OS user)');
}

async function open(flags: CommonFlags, io: CliIO, actor: string): Promise<OpenedBackend> {
  const cwd = io.cwd ?? process.cwd();
  const env = io.env ?? process.env;
  const settings = backendSettingsOf(flags);
  const c = compose({ cwd, env, actor, backend: settings, ...(flags.config ? { policyFile: flags.config } : {}), ...(flags.stateDir ? { stateDir: flags.stateDir } : {}) });
  // The backend's own close() ends everything this command opened.
  return c.backend();
}

function actorOf(flags: MutationFlags, io: CliIO): string {
  if (flags.actor) return flags.actor;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:${io.env?.USER ?? 'unknown'}`;
  }
}

async function withBackend<T>(flags: CommonFlags, io: CliIO, actor: string, fn: (b: KeyBackend) => Promise<T>): Promise<T> {
  const opened = await open(flags, io, actor);
  try {
    const settled = await opened.backend.reconcile();
    for (const r of settled) {
      io.stderr(`audit: reconciled record ${r.intentSeq} (${r.operation}${r.keyId ? ` on ${r.keyId}` : ''}): ${r.outcome}\n`);
    }
    return await fn(opened.backend);
  } finally {
    await opened.close();
  }
}

function mutationOptions(flags: MutationFlags, verb: string, io: CliIO): MutationOptions {
  return {
    idempotencyKey: flags.idempotencyKey ?? `cli-${verb}-${randomUUID()}`,
    actor: actorOf(flags, io),
    ...(flags.reason ? { reason: flags.reason } : {}),
  };
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
const day = (iso: string | undefined): string => (iso ? iso.slice(0, 10) : '-');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function formatList(keys: ManagedKey[]): string {
  if (keys.length === 0) return 'No keys.\n';
  const rows = [['ID', 'ALIASES', 'SPEC', 'STATE', 'VERSION', 'CREATED', 'ROTATED', 'AUTO-ROTATE']];
  for (const k of keys) {
    rows.push([
      k.id,
      k.aliases.join(',') || '-',
      k.spec === 'OTHER' ? (k.vendorSpec ?? 'OTHER') : k.spec,
      k.state + (k.destructionAt ? ` (${day(k.destructionAt)})` : ''),
      String(k.currentVersion),
      day(k.createdAt),
      day(k.lastRotatedAt),
      k.rotation.automatic ? `every ${k.rotation.periodDays ?? '?'}d` : 'off',
    ]);
  }
  return table(rows);
}

function formatDescribe(k: ManagedKey): string {
  const lines = [
    `Key ${k.id}${k.arn ? ` (${k.arn})` : ''}`,
    `  backend:     ${k.backend}`,
    `  aliases:     ${k.aliases.join(', ') || '-'}`,
    `  spec:        ${k.spec === 'OTHER' ? (k.vendorSpec ?? 'OTHER') : k.spec} (${k.usage})`,
    `  state:       ${k.state}${k.destructionAt ? `, destroyed after ${k.destructionAt}` : ''}`,
    `  created:     ${k.createdAt}`,
    `  rotated:     ${k.lastRotatedAt ?? 'never'}`,
    `  rotation:    ${k.rotation.automatic ? `automatic every ${k.rotation.periodDays ?? '?'} days` : 'manual'}${k.rotation.inPlace ? '' : ' (by replacement)'}`,
    `  versions:    ${k.versions.map((v) => `${v.version}${v.current ? '*' : ''}${v.state === 'enabled' ? '' : `(${v.state})`}`).join(' ')}`,
  ];
  if (k.description) lines.push(`  description: ${k.description}`);
  const tags = Object.entries(k.tags);
  if (tags.length) lines.push(`  tags:        ${tags.map(([a, b]) => `${a}=${b}`).join(', ')}`);
  lines.push('  access:');
  for (const r of k.access) {
    lines.push(`    ${r.effect.padEnd(5)} ${r.principal}: ${r.operations.join(', ')}${r.conditional ? ' (conditional)' : ''} [${r.source}${r.ref ? ` ${r.ref}` : ''}]`);
  }
  return `${lines.join('\n')}\n`;
}

function formatMutation(r: MutationResult, verb: string, idempotencyKey: string): string {
  const what = r.replayed ? `${verb}: already done for this idempotency key (nothing changed)` : `${verb}: done`;
  return `${what}\n  key:     ${r.keyId}\n  state:   ${r.state}${r.version !== undefined ? `\n  version: ${r.version}` : ''}${
    r.destructionAt ? `\n  destroyed after: ${r.destructionAt}` : ''
  }\n  idempotency key: ${idempotencyKey}\n`;
}

function parseTags(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list ?? []) {
    const i = t.indexOf('=');
    if (i <= 0) throw new KeywardenError(ErrorCode.USAGE, `A tag is key=value, got "${t}".`, { fault: 'user' });
    out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

export function registerKeysCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const keys = program.command('keys').description('List, inspect, create, rotate, disable and destroy managed keys on the configured backend.');

  addCommon(keys.command('list').description('List the managed keys.')).action(async (flags: CommonFlags) => {
    const list = await withBackend(flags, io, 'cli', (b) => b.inventory());
    io.stdout(flags.format === 'json' ? json({ keys: list }) : formatList(list));
    setExit(0);
  });

  addCommon(keys.command('describe').description('Show one key: versions, rotation, state and its access policy.').argument('<key>', 'key id, ARN, alias or label')).action(
    async (ref: string, flags: CommonFlags) => {
      const key = await withBackend(flags, io, 'cli', (b) => b.describe(ref));
      io.stdout(flags.format === 'json' ? json(key) : formatDescribe(key));
      setExit(0);
    },
  );

  addMutation(keys.command('create').description('Create a key.'))
    .requiredOption('--spec <spec>', 'AES_256, RSA_3072, ECC_NIST_P256, HMAC_256, …')
    .option('--alias <alias>', 'alias (aws-kms: alias/…) or label')
    .option('--description <text>', 'description')
    .option('--tag <key=value...>', 'tags')
    .option('--exportable', 'local: allow "keys export" of its material (fixed at creation)')
    .action(async (flags: MutationFlags & { spec: string; alias?: string; description?: string; tag?: string[]; exportable?: boolean }) => {
      if (!isKeySpec(flags.spec)) throw new KeywardenError(ErrorCode.USAGE, `Unknown key spec "${flags.spec}".`, { fault: 'user' });
      const spec = flags.spec;
      const o = mutationOptions(flags, 'create', io);
      const r = await withBackend(flags, io, o.actor!, (b) =>
        b.create(
          {
            spec,
            ...(flags.alias ? { alias: flags.alias } : {}),
            ...(flags.description ? { description: flags.description } : {}),
            tags: parseTags(flags.tag),
            ...(flags.exportable ? { exportable: true } : {}),
          },
          o,
        ),
      );
      io.stdout(flags.format === 'json' ? json({ ...r, idempotencyKey: o.idempotencyKey }) : formatMutation(r, 'create', o.idempotencyKey));
      setExit(0);
    });

  addMutation(keys.command('rotate').description('Rotate a key: in place when the backend can, otherwise by replacement (a new key takes over its aliases).'))
    .argument('<key>', 'key id, ARN, alias or label')
    .option('--no-replace', 'fail instead of rotating by replacement when in-place rotation is unsupported')
    .action(async (ref: string, flags: MutationFlags & { replace: boolean }) => {
      const o = mutationOptions(flags, 'rotate', io);
      const r: RotateWithFallbackResult = await withBackend(flags, io, o.actor!, async (b) => {
        if (!flags.replace) {
          const m = await b.rotate(ref, o);
          return { mode: 'in-place' as const, keyId: m.keyId, ...(m.version !== undefined ? { version: m.version } : {}), replayed: m.replayed };
        }
        return rotateWithFallback(b, ref, o);
      });
      if (flags.format === 'json') io.stdout(json({ ...r, idempotencyKey: o.idempotencyKey }));
      else if (r.mode === 'in-place') io.stdout(`rotate: ${r.replayed ? 'already done for this idempotency key' : 'done'} in place\n  key:     ${r.keyId}\n  version: ${r.version ?? '?'}\n  idempotency key: ${o.idempotencyKey}\n`);
      else
        io.stdout(
          `rotate: the backend cannot rotate this key in place, so it was replaced\n  old key: ${r.oldKeyId} (still enabled; schedule its destruction when nothing uses it)\n  new key: ${r.newKeyId}\n  aliases moved: ${r.movedAliases.join(', ') || '-'}\n  idempotency key: ${o.idempotencyKey}\n`,
        );
      setExit(0);
    });

  const simple = (name: string, verb: 'disable' | 'enable' | 'cancelDestruction', description: string): void => {
    addMutation(keys.command(name).description(description))
      .argument('<key>', 'key id, ARN, alias or label')
      .action(async (ref: string, flags: MutationFlags) => {
        const o = mutationOptions(flags, name, io);
        const r = await withBackend(flags, io, o.actor!, (b) => b[verb](ref, o));
        io.stdout(flags.format === 'json' ? json({ ...r, idempotencyKey: o.idempotencyKey }) : formatMutation(r, name, o.idempotencyKey));
        setExit(0);
      });
  };
  simple('disable', 'disable', 'Disable a key (revoke its use); reversible with "keys enable".');
  simple('enable', 'enable', 'Enable a disabled key.');

  addMutation(keys.command('destroy').description('Schedule a key for destruction after a waiting window; "keys cancel-destroy" undoes it until then.'))
    .argument('<key>', 'key id, ARN, alias or label')
    .requiredOption('--window <days>', 'days to wait before destruction (aws-kms: 7–30)')
    .action(async (ref: string, flags: MutationFlags & { window: string }) => {
      const days = Number(flags.window);
      if (!Number.isInteger(days)) throw new KeywardenError(ErrorCode.USAGE, '--window takes a whole number of days.', { fault: 'user' });
      const o = mutationOptions(flags, 'destroy', io);
      const r = await withBackend(flags, io, o.actor!, (b) => b.scheduleDestruction(ref, days, o));
      io.stdout(flags.format === 'json' ? json({ ...r, idempotencyKey: o.idempotencyKey }) : formatMutation(r, 'destroy (scheduled)', o.idempotencyKey));
      setExit(0);
    });
  simple('cancel-destroy', 'cancelDestruction', 'Cancel a scheduled destruction; the key comes back disabled.');

  registerExport(keys, io, setExit);

  addCommon(keys.command('purge-due').description('Destroy keys whose waiting window has ended (local and pkcs11; KMS does this itself).')).action(async (flags: CommonFlags) => {
    const r = await withBackend(flags, io, 'cli', (b) => b.completeDueDestructions());
    const line = (x: MutationResult): string =>
      x.state === 'destroyed' ? `destroyed ${x.keyId}\n` : `destruction pending ${x.keyId} (another reader still holds old copies; run purge-due again)\n`;
    io.stdout(
      flags.format === 'json'
        ? json({ destroyed: r.filter((x) => x.state === 'destroyed'), pending: r.filter((x) => x.state !== 'destroyed') })
        : r.length
          ? r.map(line).join('')
          : 'Nothing is due.\n',
    );
    setExit(0);
  });
}

/**
 * `keys export <key>`: prints an exportable local key's material to stdout and nothing else
 * (one warning line on stderr, no secret in it). The keystore writes the `export` audit record,
 * never the material. Other backends refuse: their material never leaves them.
 */
function registerExport(keys: Command, io: CliIO, setExit: (code: number) => void): void {
  const cmd = addCommon(keys.command('export').description('Print the material of a key created with --exportable (local keystore only; audited). The output is a secret.'))
    .argument('<key>', 'key id or alias')
    .option('--key-version <n>', 'the version to export (default: the current one)')
    .option('--reason <text>', 'why; recorded in the audit log')
    .option('--actor <name>', 'who is acting; recorded in the audit log (default: the OS user)');
  // The common -f/--format (text|json) becomes the material's format here.
  const format = cmd.options.find((o) => o.long === '--format');
  if (format) {
    format.choices([...EXPORT_FORMATS]).default('token');
    format.description = 'token (recognisable, checksummed), base64, hex or pem (RSA/EC keys)';
    // The option's default was stored when it was added; store the new one.
    cmd.setOptionValueWithSource('format', 'token', 'default');
  }
  cmd.action(async (ref: string, flags: Omit<MutationFlags, 'format'> & { format: ExportFormat; keyVersion?: string }) => {
    let version: number | undefined;
    if (flags.keyVersion !== undefined) {
      version = Number(flags.keyVersion);
      if (!Number.isSafeInteger(version) || version < 1) throw new KeywardenError(ErrorCode.USAGE, '--key-version takes a whole number from 1.', { fault: 'user' });
    }
    const actor = actorOf(flags as unknown as MutationFlags, io);
    const exported = await withBackend(flags as unknown as CommonFlags, io, actor, async (b) => {
      const local = (b as Partial<{ inner: KeyBackend }>).inner ?? b;
      if (!(local instanceof LocalBackend)) throw new UnsupportedError(b.name, 'export key material', 'Only keys of the local keystore created with --exportable can be exported.');
      return local.exportKey(ref, { format: flags.format, ...(version !== undefined ? { version } : {}) }, { actor, ...(flags.reason ? { reason: flags.reason } : {}) });
    });
    io.stderr(`warning: the output is secret key material (key ${exported.keyId} version ${exported.version}); do not commit or log it.\n`);
    io.stdout(`${exported.material}\n`);
    setExit(0);
  });
}
