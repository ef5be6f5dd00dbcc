/**
 * The App's stores, on one engine: SQLite files in the state folder (the default, one machine),
 * or PostgreSQL when `KEYWARDEN_DATABASE_URL` is set (any number of `serve` and `worker`
 * processes on any number of machines). Handlers see only the ports.
 *
 * On PostgreSQL the schema is migrated at start-up (under an advisory lock, so replicas starting
 * together migrate once); one pool serves the queue, the step records and the idempotency records
 * of this process.
 */
import path from 'node:path';
import type { AuditWriter } from './audit.js';
import type { CheckpointSigner } from './checkpoint.js';
import type { IdempotencyStore } from './idempotency.js';
import type { JobQueue } from './queue.js';
import type { StepStore } from './steps.js';
import type { Logger } from '../util/logger.js';

export type StoreEngine = 'sqlite' | 'postgres';

export interface AppStores {
  engine: StoreEngine;
  queue: JobQueue;
  steps: StepStore;
  /** Shared idempotency records for remote backends; undefined on SQLite (each state folder keeps its own). */
  idempotency?: IdempotencyStore;
  /** The one audit chain of every worker; undefined on SQLite (each state folder's backend keeps its own). */
  audit?: AuditWriter;
  close(): Promise<void>;
}

export interface AppStoreSettings {
  stateDir: string;
  /** `postgres://…`: PostgreSQL; absent: SQLite in `stateDir`. */
  databaseUrl?: string;
  /** Connections per process on PostgreSQL. Default 10. */
  poolSize?: number;
  clock?: () => Date;
  logger?: Logger;
  /** Signs the shared audit chain's checkpoints (`KEYWARDEN_AUDIT_KEY`). */
  auditSigner?: CheckpointSigner;
}

export async function openAppStores(settings: AppStoreSettings): Promise<AppStores> {
  if (!settings.databaseUrl) {
    const [{ openSqliteQueue }, { SqliteStepStore }] = await Promise.all([import('./sqlite-queue.js'), import('./steps.js')]);
    const queue = openSqliteQueue(settings.stateDir, settings.clock ? { clock: settings.clock } : {});
    const steps = SqliteStepStore.open(path.join(settings.stateDir, 'pipeline.db'));
    return {
      engine: 'sqlite',
      queue,
      steps,
      close: async () => {
        await queue.close();
        await steps.close();
      },
    };
  }
  const [{ openPgStore }, { PgJobQueue }, { PgStepStore }, { PgIdempotencyStore }, { SpoolingQueue }, { PgAuditLog }] = await Promise.all([
    import('./pg.js'),
    import('./pg-queue.js'),
    import('./pg-steps.js'),
    import('./pg-idempotency.js'),
    import('./spool.js'),
    import('./pg-audit.js'),
  ]);
  const store = await openPgStore({ url: settings.databaseUrl, ...(settings.poolSize ? { max: settings.poolSize } : {}) });
  const queue = new SpoolingQueue(new PgJobQueue({ pool: store.pool, ...(settings.clock ? { clock: settings.clock } : {}) }), {
    dir: path.join(settings.stateDir, 'spool'),
    ...(settings.logger ? { logger: settings.logger } : {}),
  });
  return {
    engine: 'postgres',
    queue,
    steps: new PgStepStore(store.pool),
    idempotency: new PgIdempotencyStore(store.pool),
    audit: new PgAuditLog(store.pool, settings.auditSigner ? { signer: settings.auditSigner } : {}),
    close: async () => {
      await queue.close();
      await store.close();
    },
  };
}
