/**
 * `node --import tsx bench/backends/run.ts [--quick] [--no-docs]`
 *
 * The three backends side by side, in one run, each wrapped by the audit log as the CLI
 * uses them: local (SQLite keystore), aws-kms (against moto on loopback) and pkcs11 (SoftHSM2).
 *
 * Measured, sequentially (one caller, so the numbers are per-operation cost, not throughput
 * under contention):
 * - rotate ops/s;
 * - disable ops/s (each disable is followed by an untimed enable);
 * - envelope encrypt ops/s: generateDataKey + AES-256-GCM of a 4 KiB payload in process;
 * - envelope decrypt ops/s: decrypt of the data key + AES-256-GCM open;
 * - disable requested → confirmed: from calling disable until the backend reports the key
 *   disabled and, where it enforces it, refuses to encrypt with it (median and p95).
 *
 * Writes the `### Backends` section of docs/benchmarks.md (unless --no-docs).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditedBackend } from '../../src/backends/audited.js';
import { AwsKmsBackend } from '../../src/backends/aws-kms.js';
import { LocalBackend } from '../../src/backends/local.js';
import { Pkcs11Backend } from '../../src/backends/pkcs11.js';
import type { KeyBackend } from '../../src/backends/port.js';
import { isKeywardenError } from '../../src/errors.js';
import { AuditLog } from '../../src/store/audit.js';
import { SqliteIdempotencyStore } from '../../src/store/idempotency.js';
import { openDatabase } from '../../src/store/sqlite.js';
import { motoSkipReason, startMoto, type MotoServer } from '../../test/setup/moto.js';
import { createSoftHsmToken, softHsmSkipReason, type SoftHsmToken } from '../../test/setup/softhsm.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const log = (s: string): void => void process.stderr.write(`bench:backends: ${s}\n`);
const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const DOCS = !args.has('--no-docs');

interface Counts {
  rotate: number;
  disable: number;
  envelope: number;
  latency: number;
}
const COUNTS: Record<string, Counts> = QUICK
  ? { local: { rotate: 50, disable: 50, envelope: 200, latency: 10 }, 'aws-kms': { rotate: 10, disable: 10, envelope: 30, latency: 5 }, pkcs11: { rotate: 10, disable: 10, envelope: 30, latency: 5 } }
  : { local: { rotate: 300, disable: 300, envelope: 2000, latency: 50 }, 'aws-kms': { rotate: 60, disable: 60, envelope: 300, latency: 25 }, pkcs11: { rotate: 60, disable: 60, envelope: 300, latency: 25 } };

interface Row {
  backend: string;
  note: string;
  rotate?: number;
  disable?: number;
  encrypt?: number;
  decrypt?: number;
  latencyMedianMs?: number;
  latencyP95Ms?: number;
  confirmedBy?: string;
  skipped?: string;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
let seq = 0;
const idem = (label: string): { idempotencyKey: string } => ({ idempotencyKey: `bench-${label}-${process.pid}-${seq++}` });

async function opsPerSecond(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  await fn(-1); // warm-up, untimed
  const t0 = now();
  for (let i = 0; i < n; i++) await fn(i);
  return n / ((now() - t0) / 1000);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function measureBackend(name: string, b: KeyBackend, counts: Counts): Promise<Omit<Row, 'backend' | 'note'>> {
  const { keyId } = await b.create({ spec: 'AES_256', alias: name === 'aws-kms' ? 'alias/bench-rotate' : 'bench-rotate' }, idem('create'));
  const rotate = await opsPerSecond(counts.rotate, () => b.rotate(keyId, idem('rotate')));

  const { keyId: dk } = await b.create({ spec: 'AES_256' }, idem('create'));
  let disableMs = 0;
  for (let i = -1; i < counts.disable; i++) {
    const t0 = now();
    await b.disable(dk, idem('disable'));
    if (i >= 0) disableMs += now() - t0;
    await b.enable(dk, idem('enable'));
  }
  const disable = counts.disable / (disableMs / 1000);

  const payload = randomBytes(4096);
  const sealed: { dataKey: Uint8Array; iv: Buffer; tag: Buffer; ct: Buffer }[] = [];
  const encrypt = await opsPerSecond(counts.envelope, async () => {
    const d = await b.generateDataKey(dk, { context: { bench: 'envelope' } });
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', d.plaintext, iv);
    const ct = Buffer.concat([c.update(payload), c.final()]);
    sealed.push({ dataKey: d.ciphertext, iv, tag: c.getAuthTag(), ct });
  });
  let j = 0;
  const decrypt = await opsPerSecond(counts.envelope, async () => {
    const s = sealed[j++ % sealed.length]!;
    const d = await b.decrypt(s.dataKey, { context: { bench: 'envelope' } });
    const dc = createDecipheriv('aes-256-gcm', d.plaintext, s.iv);
    dc.setAuthTag(s.tag);
    Buffer.concat([dc.update(s.ct), dc.final()]);
  });

  // Disable requested → confirmed. Confirmation: describe says disabled, and encrypt is refused
  // where the backend enforces it (probed once first, so the probe is not part of the timing when it never refuses).
  await b.disable(dk, idem('probe-d'));
  const enforces = await b.encrypt(dk, Buffer.from('probe')).then(
    () => false,
    (e: unknown) => isKeywardenError(e),
  );
  await b.enable(dk, idem('probe-e'));
  const lat: number[] = [];
  for (let i = 0; i < counts.latency; i++) {
    const t0 = now();
    await b.disable(dk, idem('lat-d'));
    for (;;) {
      const k = await b.describe(dk);
      if (k.state !== 'disabled') continue;
      if (enforces) {
        const refused = await b.encrypt(dk, Buffer.from('x')).then(
          () => false,
          () => true,
        );
        if (!refused) continue;
      }
      break;
    }
    lat.push(now() - t0);
    await b.enable(dk, idem('lat-e'));
  }
  return {
    rotate,
    disable,
    encrypt,
    decrypt,
    latencyMedianMs: percentile(lat, 50),
    latencyP95Ms: percentile(lat, 95),
    confirmedBy: enforces ? 'describe + refused encrypt' : 'describe (backend does not refuse)',
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'kw-bench-backends-'));
  const rows: Row[] = [];
  let moto: MotoServer | undefined;
  let token: SoftHsmToken | undefined;
  try {
    const audit = AuditLog.open(path.join(work, 'audit.db'));
    const wrap = (b: KeyBackend): KeyBackend => new AuditedBackend(b, audit, { actor: 'bench' });

    log('local');
    {
      const b = wrap(LocalBackend.open({ path: path.join(work, 'keystore.db'), kek: randomBytes(32) }));
      rows.push({ backend: 'local', note: 'SQLite keystore, WAL, AES-256-GCM envelope', ...(await measureBackend('local', b, COUNTS.local!)) });
      await b.close();
    }

    if (motoSkipReason) rows.push({ backend: 'aws-kms', note: 'moto', skipped: motoSkipReason });
    else {
      log('aws-kms (moto)');
      moto = await startMoto();
      const state = openDatabase(path.join(work, 'state-aws.db'));
      const b = wrap(new AwsKmsBackend({ region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials, idempotency: new SqliteIdempotencyStore(state) }));
      rows.push({ backend: 'aws-kms', note: 'moto 5.2.5 on 127.0.0.1 (HTTP, in-memory)', ...(await measureBackend('aws-kms', b, COUNTS['aws-kms']!)) });
      await b.close();
      state.close();
    }

    if (softHsmSkipReason) rows.push({ backend: 'pkcs11', note: 'SoftHSM2', skipped: softHsmSkipReason });
    else {
      log('pkcs11 (SoftHSM2)');
      token = createSoftHsmToken('keywarden-bench');
      const b = wrap(Pkcs11Backend.open({ library: token.lib, tokenLabel: token.label, pin: token.pin, statePath: path.join(work, 'state-p11.db') }));
      rows.push({ backend: 'pkcs11', note: 'SoftHSM2 2.6, file object store', ...(await measureBackend('pkcs11', b, COUNTS.pkcs11!)) });
      await b.close();
    }
    const verified = audit.verify();
    log(`audit chain after the run: ${verified.ok ? 'intact' : 'BROKEN'} (${verified.count} records)`);
    audit.close();
  } finally {
    await moto?.stop();
    token?.cleanup();
    rmSync(work, { recursive: true, force: true });
  }

  const table = render(rows);
  process.stdout.write(table);
  if (DOCS && !QUICK) {
    writeSection(path.join(repoRoot, 'docs', 'benchmarks.md'), table);
    log('wrote the ### Backends section of docs/benchmarks.md');
  }
}

const f = (n: number | undefined, digits = 0): string => (n === undefined ? '–' : n.toFixed(digits));

function render(rows: Row[]): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  const lines = [
    '### Backends',
    '',
    `\`node --import tsx bench/backends/run.ts\` on ${os.cpus().length} × ${cpu}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}${QUICK ? ' (quick)' : ''}; load average at the end ${load} (the machine is shared: compare rows of one run, not runs).`,
    'One sequential caller; every verb goes through the audited wrapper (one hash-chained audit record per mutation) and the idempotency store.',
    'Envelope encrypt = generateDataKey + AES-256-GCM of 4 KiB in process; decrypt = decrypt the data key + open.',
    '',
    '| backend | rotate ops/s | disable ops/s | envelope encrypt ops/s | envelope decrypt ops/s | disable → confirmed median ms | p95 ms | confirmed by | setup |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    if (r.skipped) lines.push(`| ${r.backend} | – | – | – | – | – | – | skipped: ${r.skipped} | ${r.note} |`);
    else
      lines.push(
        `| ${r.backend} | ${f(r.rotate)} | ${f(r.disable)} | ${f(r.encrypt)} | ${f(r.decrypt)} | ${f(r.latencyMedianMs, 1)} | ${f(r.latencyP95Ms, 1)} | ${r.confirmedBy ?? ''} | ${r.note} |`,
      );
  }
  lines.push(
    '',
    'moto answers from memory over loopback, so the aws-kms figures measure Keywarden\'s own overhead plus HTTP, not AWS latency (real KMS adds tens of ms per call and enforces request quotas).',
    'aws-kms rotate and disable each make several calls (describe, act, list rotations); local and pkcs11 work in one process.',
    '',
  );
  return `${lines.join('\n')}\n`;
}

/** Replaces the `### Backends` section (up to the next `### ` or `## ` heading) or appends it. */
function writeSection(file: string, section: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const start = text.indexOf('### Backends');
  let next: string;
  if (start < 0) next = `${text.trimEnd()}\n\n${section}`;
  else {
    const rest = text.slice(start + 1);
    const m = /\n#{2,3} /.exec(rest);
    const end = m ? start + 1 + m.index + 1 : text.length;
    next = `${text.slice(0, start)}${section}${text.slice(end)}`;
  }
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:backends: failed: ${isKeywardenError(e) ? `${e.message} [${e.code}]` : e instanceof Error ? e.name : String(e)}\n`);
  process.exitCode = 1;
});
