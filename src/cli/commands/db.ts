/**
 * `keywarden db migrate` and `keywarden db status`: the App's PostgreSQL database
 * (`KEYWARDEN_DATABASE_URL`, or `--url`). `migrate` applies the migrations this Keywarden has
 * and the database lacks, under an advisory lock (the App also migrates at start-up, so this is
 * for a deploy step that runs before the new version starts); `status` prints the schema version
 * and the queue's depth, running and dead-letter counts. On SQLite (no URL) there is nothing to
 * migrate: each file's schema is written when it is opened.
 *
 * `keywarden db dead-letters` lists the dead-letter list — jobs that failed every attempt, or
 * failed with an error that is not worth retrying — with their error codes (never a payload's
 * text: ids and codes only), on PostgreSQL or, without a URL, on the state folder's SQLite queue.
 */
import type { Command } from 'commander';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { ExitCode, type CliIO } from '../main.js';

interface DbFlags {
  url?: string;
  format?: string;
}

function urlOf(flags: DbFlags, io: CliIO): string | undefined {
  const url = (flags.url ?? (io.env ?? process.env).KEYWARDEN_DATABASE_URL)?.trim();
  if (url && !/^postgres(ql)?:\/\//i.test(url)) {
    throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'The database URL must be a postgres:// URL.', { fault: 'user' });
  }
  return url || undefined;
}

export function registerDbCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const db = program.command('db').description("The App's PostgreSQL database (KEYWARDEN_DATABASE_URL): migrate its schema, show its state.");

  db.command('migrate')
    .description('Apply the schema migrations the database lacks (under an advisory lock; safe to run from several hosts at once).')
    .option('--url <postgres-url>', 'the database (default KEYWARDEN_DATABASE_URL)')
    .option('--format <f>', 'text or json', 'text')
    .action(async (flags: DbFlags) => {
      const url = urlOf(flags, io);
      if (!url) {
        io.stdout(flags.format === 'json' ? `${JSON.stringify({ engine: 'sqlite', applied: [] })}\n` : 'No KEYWARDEN_DATABASE_URL: the App uses SQLite in its state folder, whose schema is written when it is opened. Nothing to migrate.\n');
        return;
      }
      const { createPgPool, migratePg, redactUrl } = await import('../../store/pg.js');
      const pool = createPgPool({ url, max: 1 });
      try {
        const r = await migratePg(pool);
        if (flags.format === 'json') io.stdout(`${JSON.stringify({ engine: 'postgres', database: redactUrl(url), ...r })}\n`);
        else if (!r.applied.length) io.stdout(`The database is at schema ${r.to}, the newest this Keywarden knows. Nothing to do.\n`);
        else io.stdout(`Migrated ${redactUrl(url)} from schema ${r.from} to ${r.to}:\n${r.applied.map((m) => `  ${m.version}  ${m.name}\n`).join('')}`);
      } finally {
        await pool.end();
      }
    });

  db.command('dead-letters')
    .description('List dead jobs (the dead-letter list): id, kind, attempts, error code, when. PostgreSQL with a URL, else the state folder\'s SQLite queue.')
    .option('--url <postgres-url>', 'the database (default KEYWARDEN_DATABASE_URL)')
    .option('--state-dir <dir>', 'the SQLite state folder when there is no URL (default KEYWARDEN_STATE_DIR or .keywarden)')
    .option('--limit <n>', 'at most this many, newest first', '100')
    .option('--format <f>', 'text or json', 'text')
    .action(async (flags: DbFlags & { stateDir?: string; limit: string }) => {
      const url = urlOf(flags, io);
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, '--limit must be a whole number from 1 to 10000.', { fault: 'user' });
      let queue: import('../../store/queue.js').JobQueue;
      let closePool = async (): Promise<void> => {};
      if (url) {
        const [{ createPgPool }, { PgJobQueue }] = await Promise.all([import('../../store/pg.js'), import('../../store/pg-queue.js')]);
        const pool = createPgPool({ url, max: 1 });
        queue = new PgJobQueue({ pool });
        closePool = () => pool.end();
      } else {
        const [{ default: path }, { existsSync }, { openSqliteQueue, JOBS_DB_FILE }] = await Promise.all([import('node:path'), import('node:fs'), import('../../store/sqlite-queue.js')]);
        const env = io.env ?? process.env;
        const dir = path.resolve(io.cwd ?? process.cwd(), flags.stateDir ?? env.KEYWARDEN_STATE_DIR ?? '.keywarden');
        if (!existsSync(path.join(dir, JOBS_DB_FILE))) {
          throw new KeywardenError(ErrorCode.PATH_NOT_FOUND, `No job queue in ${dir} (and no KEYWARDEN_DATABASE_URL).`, { fault: 'user' });
        }
        queue = openSqliteQueue(dir);
      }
      try {
        const dead = await queue.listDead(limit);
        const rows = dead.map((j) => ({ id: j.id, kind: j.kind, attempts: j.attempts, code: j.lastError?.code ?? null, finishedAt: j.finishedAt?.toISOString() ?? null, ...(j.dedupeKey ? { dedupeKey: j.dedupeKey } : {}) }));
        if (flags.format === 'json') io.stdout(`${JSON.stringify({ dead: rows })}\n`);
        else if (!rows.length) io.stdout('No dead jobs.\n');
        else io.stdout(rows.map((r) => `${r.finishedAt ?? '-'}  ${r.kind.padEnd(14)} ${String(r.attempts).padStart(2)} attempts  ${r.code ?? '-'}  ${r.id}\n`).join(''));
        if (rows.length) setExit(ExitCode.FOUND);
      } finally {
        await queue.close();
        await closePool();
      }
    });

  db.command('status')
    .description("Print the schema version and the job queue's depth, running and dead-letter counts.")
    .option('--url <postgres-url>', 'the database (default KEYWARDEN_DATABASE_URL)')
    .option('--format <f>', 'text or json', 'text')
    .action(async (flags: DbFlags) => {
      const url = urlOf(flags, io);
      if (!url) {
        throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'Set KEYWARDEN_DATABASE_URL (or --url) to the App\'s PostgreSQL database.', { fault: 'user' });
      }
      const [{ createPgPool, pgSchemaVersion, PG_SCHEMA_VERSION, redactUrl }, { PgJobQueue }] = await Promise.all([import('../../store/pg.js'), import('../../store/pg-queue.js')]);
      const pool = createPgPool({ url, max: 1 });
      try {
        const schema = await pgSchemaVersion(pool);
        const queue = schema > 0 ? await new PgJobQueue({ pool }).stats() : undefined;
        const out = { engine: 'postgres', database: redactUrl(url), schema, newest: PG_SCHEMA_VERSION, ...(queue ? { queue } : {}) };
        if (flags.format === 'json') io.stdout(`${JSON.stringify(out)}\n`);
        else {
          io.stdout(`database  ${out.database}\nschema    ${schema}${schema < PG_SCHEMA_VERSION ? ` (this Keywarden knows ${PG_SCHEMA_VERSION}: run "keywarden db migrate")` : ''}\n`);
          if (queue) io.stdout(`queue     ${queue.queued} queued (${queue.due} due, oldest waiting ${Math.round(queue.oldestQueuedAgeMs / 1000)} s), ${queue.running} running, ${queue.dead} dead\n`);
        }
        if (schema < PG_SCHEMA_VERSION) setExit(ExitCode.FOUND);
      } finally {
        await pool.end();
      }
    });
}
