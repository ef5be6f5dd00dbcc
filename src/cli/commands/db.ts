/**
 * `keywarden db migrate` and `keywarden db status`: the App's PostgreSQL database
 * (`KEYWARDEN_DATABASE_URL`, or `--url`). `migrate` applies the migrations this Keywarden has
 * and the database lacks, under an advisory lock (the App also migrates at start-up, so this is
 * for a deploy step that runs before the new version starts); `status` prints the schema version
 * and the queue's depth, running and dead-letter counts. On SQLite (no URL) there is nothing to
 * migrate: each file's schema is written when it is opened.
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
