/**
 * `keywarden audit …`: read, verify and export the hash-chained audit log.
 *
 * `verify` exits 0 when the chain is intact and 1 when it is not, naming the first bad record.
 * It checks the live log, or a JSONL export given with `--file`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { openAuditLog } from '../../backends/open-backend.js';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { parseAuditJsonl, verifyRecords, type AuditRecord, type AuditVerifyResult } from '../../store/audit.js';
import type { CliIO } from '../main.js';

interface AuditFlags {
  stateDir?: string;
  format: 'text' | 'json';
}

function stateDirOf(flags: AuditFlags, io: CliIO): string {
  const cwd = io.cwd ?? process.cwd();
  return resolve(cwd, flags.stateDir ?? io.env?.KEYWARDEN_STATE_DIR ?? '.keywarden');
}

function addCommon(cmd: Command): Command {
  return cmd
    .option('--state-dir <dir>', 'where the audit log lives (default .keywarden)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'));
}

function formatRecord(r: AuditRecord): string {
  const extra = [r.errorCode ? `error=${r.errorCode}` : '', r.reason ? `reason=${r.reason}` : '', r.details.version !== undefined ? `version=${String(r.details.version)}` : '']
    .filter(Boolean)
    .join(' ');
  return `${String(r.seq).padStart(5)}  ${r.time}  ${r.backend.padEnd(8)} ${r.operation.padEnd(20)} ${r.outcome.padEnd(9)} ${r.keyId ?? '-'}  ${r.actor}${extra ? `  ${extra}` : ''}\n`;
}

function formatVerify(v: AuditVerifyResult, source: string): string {
  if (v.ok) return `Audit log intact: ${v.count} records, head ${v.headHash.slice(0, 16)}… (${source})\n`;
  return `Audit log BROKEN at record ${v.firstBad!.seq} (${v.firstBad!.problem}): ${v.firstBad!.message}\n  ${v.count} records before it verify. (${source})\n`;
}

export function registerAuditCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const audit = program.command('audit').description('Read, verify and export the tamper-evident audit log of key operations.');

  addCommon(audit.command('list').description('List audit records, oldest first.'))
    .option('--key <id>', 'only records about this key id')
    .option('--operation <op>', 'only this operation (rotate, disable, …)')
    .option('--after <seq>', 'only records after this sequence number')
    .option('--limit <n>', 'at most this many records')
    .action((flags: AuditFlags & { key?: string; operation?: string; after?: string; limit?: string }) => {
      const log = openAuditLog(stateDirOf(flags, io));
      try {
        const num = (v: string | undefined, name: string): number | undefined => {
          if (v === undefined) return undefined;
          const n = Number(v);
          if (!Number.isInteger(n) || n < 0) throw new KeywardenError(ErrorCode.USAGE, `${name} takes a whole number.`, { fault: 'user' });
          return n;
        };
        const after = num(flags.after, '--after');
        const limit = num(flags.limit, '--limit');
        const records = log.list({
          ...(flags.key ? { keyId: flags.key } : {}),
          ...(flags.operation ? { operation: flags.operation } : {}),
          ...(after !== undefined ? { afterSeq: after } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
        if (flags.format === 'json') io.stdout(`${JSON.stringify({ records }, null, 2)}\n`);
        else io.stdout(records.length ? records.map(formatRecord).join('') : 'No audit records.\n');
        setExit(0);
      } finally {
        log.close();
      }
    });

  addCommon(audit.command('verify').description('Check the hash chain; exit 1 and name the first bad record if anything was edited, deleted or reordered.'))
    .option('--file <jsonl>', 'verify a JSONL export instead of the live log')
    .action((flags: AuditFlags & { file?: string }) => {
      let result: AuditVerifyResult;
      let source: string;
      if (flags.file) {
        const path = resolve(io.cwd ?? process.cwd(), flags.file);
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch (e) {
          throw new KeywardenError(ErrorCode.FILE_UNREADABLE, `Could not read ${flags.file}.`, { fault: 'user', cause: e, location: { file: flags.file } });
        }
        result = verifyRecords(parseAuditJsonl(text));
        source = flags.file;
      } else {
        const log = openAuditLog(stateDirOf(flags, io));
        try {
          result = log.verify();
        } finally {
          log.close();
        }
        source = 'live log';
      }
      io.stdout(flags.format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : formatVerify(result, source));
      setExit(result.ok ? 0 : 1);
    });

  addCommon(audit.command('export').description('Write the audit log as JSON Lines, one record per line, in chain order.'))
    .option('-o, --output <file>', 'write to a file (mode 0600) instead of standard output')
    .action((flags: AuditFlags & { output?: string }) => {
      const log = openAuditLog(stateDirOf(flags, io));
      try {
        if (flags.output) {
          const lines: string[] = [];
          const n = log.exportJsonl((l) => lines.push(l));
          writeFileSync(resolve(io.cwd ?? process.cwd(), flags.output), lines.join(''), { mode: 0o600 });
          io.stderr(`Exported ${n} audit records to ${flags.output}.\n`);
        } else {
          log.exportJsonl((l) => io.stdout(l));
        }
        setExit(0);
      } finally {
        log.close();
      }
    });
}

