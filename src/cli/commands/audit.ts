/**
 * `keywarden audit …`: read, verify, checkpoint and export the hash-chained audit log.
 *
 * The log is the configured backend's (local: inside the keystore file; remote: the state
 * folder's audit.db), found through the same flags, environment and policy file as `keys`.
 *
 * `verify` exits 0 when the chain, every signed checkpoint and the exported checkpoint given
 * with `--checkpoint` all hold and no intent lacks an outcome; 1 when anything does not
 * (naming the first problem); 2 for bad input (an empty, truncated or garbled checkpoint file).
 * It never creates a log: a deleted one is reported as missing.
 *
 * `--database [url]` (verify, checkpoint, export): the App's one shared chain in PostgreSQL
 * (default `KEYWARDEN_DATABASE_URL`), where every worker records remote-backend operations and
 * GitHub-side revocations; checkpoints there are signed with `KEYWARDEN_AUDIT_KEY`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { OpenedAuditLog } from '../../backends/open-backend.js';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { parseAuditJsonl, verifyMissingLog, verifyRecords, type AuditRecord, type AuditVerifyResult } from '../../store/audit.js';
import { parseCheckpoint, type SignedCheckpoint } from '../../store/checkpoint.js';
import { backendSettingsOf } from '../backend-flags.js';
import type { CliIO } from '../main.js';
import { prepareOutputFile, type OutputFile } from '../output-file.js';
import { compose } from '../../compose.js';

interface AuditFlags {
  database?: string | boolean;
  stateDir?: string;
  backend?: string;
  config?: string;
  keystore?: string;
  format: 'text' | 'json';
}

function addCommon(cmd: Command): Command {
  return cmd
    .option('--state-dir <dir>', 'where the state and remote backends\' audit log live (default .keywarden)')
    .option('--backend <kind>', 'whose log: local (in the keystore) or aws-kms / pkcs11 (state-dir/audit.db)')
    .option('--config <file>', 'policy file whose backend: block to read (default: .github/keywarden.yml, if present)')
    .option('--keystore <file>', 'local: the keystore file that holds the log')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'));
}

async function openLog(flags: AuditFlags, io: CliIO, options: { readonly: boolean; needKey: boolean }): Promise<OpenedAuditLog> {
  const cwd = io.cwd ?? process.cwd();
  const settings = backendSettingsOf(flags);
  const c = compose({ cwd, env: io.env ?? process.env, backend: settings, ...(flags.config ? { policyFile: flags.config } : {}), auditOnly: true, ...(flags.stateDir ? { stateDir: flags.stateDir } : {}) });
  return c.auditLog(options);
}

/** The shared PostgreSQL chain when `--database` is given (the URL, or KEYWARDEN_DATABASE_URL). */
async function openSharedLog(flags: AuditFlags, io: CliIO): Promise<{ log: import('../../store/pg-audit.js').PgAuditLog; source: string; close(): Promise<void> } | undefined> {
  if (flags.database === undefined || flags.database === false) return undefined;
  const env = io.env ?? process.env;
  const url = typeof flags.database === 'string' ? flags.database : env.KEYWARDEN_DATABASE_URL;
  if (!url || !/^postgres(ql)?:\/\//i.test(url)) {
    throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, '--database needs a postgres:// URL (or KEYWARDEN_DATABASE_URL).', { fault: 'user' });
  }
  const [{ createPgPool, redactUrl, pgSchemaVersion }, { PgAuditLog }, { readAuditSignerFromEnv }] = await Promise.all([
    import('../../store/pg.js'),
    import('../../store/pg-audit.js'),
    import('../../backends/open-backend.js'),
  ]);
  const pool = createPgPool({ url, max: 2 });
  if ((await pgSchemaVersion(pool).catch(async (e: unknown) => {
    await pool.end();
    throw e;
  })) < 3) {
    await pool.end();
    throw new KeywardenError(ErrorCode.PATH_NOT_FOUND, `There is no audit chain in ${redactUrl(url)} (run "keywarden db migrate").`, { fault: 'user' });
  }
  const signer = readAuditSignerFromEnv(env);
  return { log: new PgAuditLog(pool, signer ? { signer } : {}), source: redactUrl(url), close: () => pool.end() };
}

function readInput(io: CliIO, file: string, what: string): string {
  try {
    return readFileSync(resolve(io.cwd ?? process.cwd(), file), 'utf8');
  } catch (e) {
    throw new KeywardenError(ErrorCode.FILE_UNREADABLE, `Could not read the ${what} ${file}.`, { fault: 'user', cause: e, location: { file } });
  }
}

function formatRecord(r: AuditRecord): string {
  const extra = [r.errorCode ? `error=${r.errorCode}` : '', r.reason ? `reason=${r.reason}` : '', r.details.version !== undefined ? `version=${String(r.details.version)}` : '']
    .filter(Boolean)
    .join(' ');
  return `${String(r.seq).padStart(5)}  ${r.time}  ${r.backend.padEnd(8)} ${r.operation.padEnd(20)} ${r.outcome.padEnd(9)} ${r.keyId ?? '-'}  ${r.actor}${extra ? `  ${extra}` : ''}\n`;
}

function formatVerify(v: AuditVerifyResult, source: string): string {
  const cp = v.checkpoints;
  const trust = cp.trust === 'secret' ? 'key derived from the secret' : cp.trust === 'export' ? 'key from the exported checkpoint' : '';
  const cpLine =
    cp.trust === 'none'
      ? `  checkpoints: ${cp.total} stored, NOT verified (no signing key: KEYWARDEN_LOCAL_PASSPHRASE, or KEYWARDEN_AUDIT_KEY for remote backends)\n`
      : `  checkpoints: ${cp.verified} of ${cp.total} verified (${trust})\n`;
  const anchor = v.anchor ? `  exported checkpoint: ${v.anchor.count} records at ${v.anchor.time}${v.ok ? ', matched' : ''}\n` : '';
  if (v.ok) return `Audit log intact: ${v.count} records, head ${v.headHash.slice(0, 16)}… (${source})\n${cpLine}${anchor}`;
  const bad = v.firstBad!;
  if (bad.problem === 'unreconciled') {
    return `Audit log INCOMPLETE: ${bad.message}\n  Run any "keywarden keys" command (e.g. keys list) to reconcile them. (${source})\n${cpLine}`;
  }
  return `Audit log BROKEN at record ${bad.seq} (${bad.problem}): ${bad.message}\n  ${v.count} records checked. (${source})\n${cpLine}${anchor}`;
}

/**
 * Checks an output path before any work (exit 2 for a symlink, a FIFO or other special file, a
 * missing folder, or a folder inside the working folder that is a symlink leading out of it),
 * through the shared writer: a new file next to the target, renamed over it, so neither a
 * symlink nor a hard link planted there is written through.
 */
function prepareOut(io: CliIO, file: string, what: string): OutputFile {
  const cwd = io.cwd ?? process.cwd();
  return prepareOutputFile(file, cwd, { what, root: cwd, mode: 0o600 });
}

/** Writes the prepared file (owner-only: `prepareOut` asks for 0600). */
function writeOut(out: OutputFile, text: string): void {
  out.write(text);
}

export function registerAuditCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const audit = program.command('audit').description('Read, verify, checkpoint and export the tamper-evident audit log of key operations.');

  addCommon(audit.command('list').description('List audit records, oldest first.'))
    .option('--key <id>', 'only records about this key id')
    .option('--operation <op>', 'only this operation (rotate, disable, …)')
    .option('--after <seq>', 'only records after this sequence number')
    .option('--limit <n>', 'at most this many records')
    .action(async (flags: AuditFlags & { key?: string; operation?: string; after?: string; limit?: string }) => {
      const num = (v: string | undefined, name: string): number | undefined => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new KeywardenError(ErrorCode.USAGE, `${name} takes a whole number.`, { fault: 'user' });
        return n;
      };
      const after = num(flags.after, '--after');
      const limit = num(flags.limit, '--limit');
      const log = await openLog(flags, io, { readonly: true, needKey: false });
      try {
        const records =
          log.audit?.list({
            ...(flags.key ? { keyId: flags.key } : {}),
            ...(flags.operation ? { operation: flags.operation } : {}),
            ...(after !== undefined ? { afterSeq: after } : {}),
            ...(limit !== undefined ? { limit } : {}),
          }) ?? [];
        if (flags.format === 'json') io.stdout(`${JSON.stringify({ records }, null, 2)}\n`);
        else io.stdout(records.length ? records.map(formatRecord).join('') : 'No audit records.\n');
        setExit(0);
      } finally {
        log.close();
      }
    });

  addCommon(
    audit
      .command('verify')
      .description('Check the hash chain, every signed checkpoint and (with --checkpoint) an exported one; exit 1 and name the first problem.'),
  )
    .option('--file <jsonl>', 'verify a JSONL export instead of the live log')
    .option('--checkpoint <file>', 'an exported checkpoint (audit checkpoint --export) the log must still match')
    .option('--database [url]', "the App's shared chain in PostgreSQL (default KEYWARDEN_DATABASE_URL)")
    .action(async (flags: AuditFlags & { file?: string; checkpoint?: string }) => {
      // Bad input is refused before anything is judged: exit 2, never a pass.
      const anchor: SignedCheckpoint | undefined = flags.checkpoint
        ? parseCheckpoint(readInput(io, flags.checkpoint, 'checkpoint file'), flags.checkpoint)
        : undefined;
      let result: AuditVerifyResult;
      let source: string;
      const shared = flags.file ? undefined : await openSharedLog(flags, io);
      if (shared) {
        try {
          result = await shared.log.verify(anchor ? { anchor } : {});
          source = shared.source;
        } finally {
          await shared.close();
        }
      } else if (flags.file) {
        result = verifyRecords(parseAuditJsonl(readInput(io, flags.file, 'audit export')), undefined, anchor ? { anchor } : {});
        source = flags.file;
      } else {
        let log: OpenedAuditLog;
        try {
          log = await openLog(flags, io, { readonly: true, needKey: true });
        } catch (e) {
          // A keystore that lost its KDF record or check value is a failed verification (exit 1),
          // with its typed error; never an unsigned pass, never "bad input".
          if (!(e instanceof KeywardenError) || (e.code !== ErrorCode.KEYSTORE_TAMPERED && e.code !== ErrorCode.AUDIT_BROKEN)) throw e;
          if (flags.format === 'json') io.stdout(`${JSON.stringify({ ok: false, error: e.toJSON() }, null, 2)}\n`);
          io.stderr(`keywarden: ${e.message} [${e.code}]${e.hint ? `\n  hint: ${e.hint}` : ''}\n`);
          setExit(1);
          return;
        }
        try {
          source = log.path;
          if (!log.audit) {
            if (!anchor) {
              throw new KeywardenError(ErrorCode.PATH_NOT_FOUND, `There is no audit log at ${log.path}.`, {
                fault: 'user',
                hint: 'Check --state-dir / --keystore, or pass --checkpoint FILE to check a log that should be there.',
              });
            }
            result = verifyMissingLog(anchor);
          } else result = log.audit.verify(anchor ? { anchor } : {});
        } finally {
          log.close();
        }
      }
      io.stdout(flags.format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : formatVerify(result, source));
      setExit(result.ok ? 0 : 1);
    });

  addCommon(audit.command('checkpoint').description('Sign a checkpoint of the log head now; with --export, write the latest one to a file or stdout.'))
    .option('--export [file]', 'write the signed checkpoint (JSON) to FILE, or to standard output when no FILE or "-"')
    .option('--database [url]', "the App's shared chain in PostgreSQL (default KEYWARDEN_DATABASE_URL)")
    .action(async (flags: AuditFlags & { export?: string | boolean }) => {
      const out = typeof flags.export === 'string' && flags.export !== '-' ? prepareOut(io, flags.export, 'checkpoint (--export)') : undefined;
      const shared = await openSharedLog(flags, io);
      const log = shared ? { audit: shared.log, path: shared.source, close: () => void shared.close() } : await openLog(flags, io, { readonly: false, needKey: true });
      try {
        if (!log.audit) throw new KeywardenError(ErrorCode.PATH_NOT_FOUND, `There is no audit log at ${log.path}.`, { fault: 'user' });
        const c = await log.audit.checkpoint();
        const text = `${JSON.stringify(c, null, 2)}\n`;
        if (flags.export === undefined) {
          io.stdout(flags.format === 'json' ? text : `Signed checkpoint: ${c.count} records, head ${c.headHash.slice(0, 16)}… at ${c.time}\n`);
        } else if (flags.export === true || flags.export === '-') io.stdout(text);
        else if (out && typeof flags.export === 'string') {
          writeOut(out, text);
          io.stderr(`Wrote the checkpoint of ${c.count} records to ${flags.export}. Keep it where the database writer cannot reach.\n`);
        }
        setExit(0);
      } finally {
        log.close();
      }
    });

  addCommon(audit.command('export').description('Write the audit log as JSON Lines, one record per line, in chain order.'))
    .option('-o, --output <file>', 'write to a file (mode 0600) instead of standard output')
    .option('--database [url]', "the App's shared chain in PostgreSQL (default KEYWARDEN_DATABASE_URL)")
    .action(async (flags: AuditFlags & { output?: string }) => {
      const out = flags.output ? prepareOut(io, flags.output, 'audit export (-o)') : undefined;
      const shared = await openSharedLog(flags, io);
      const log = shared ? { audit: shared.log, path: shared.source, close: () => void shared.close() } : await openLog(flags, io, { readonly: true, needKey: false });
      try {
        const lines: string[] = [];
        const n = (await log.audit?.exportJsonl((l) => lines.push(l))) ?? 0;
        if (out && flags.output) {
          writeOut(out, lines.join(''));
          io.stderr(`Exported ${n} audit records to ${flags.output}.\n`);
        } else io.stdout(lines.join(''));
        setExit(0);
      } finally {
        log.close();
      }
    });
}
