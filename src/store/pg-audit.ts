/**
 * The audit chain in PostgreSQL: one hash chain for every worker of the App, on any machine — the
 * same records, hashes, head row and signed checkpoints as the SQLite `AuditLog` (audit.ts), so
 * `verifyRecords` judges both the same way.
 *
 * - **Appends are serialised in the database**: each takes the head row `FOR UPDATE` in its
 *   transaction, so two workers appending at once are ordered, each record holding the hash of
 *   the one before, and the head moves with the record or not at all.
 * - A checkpoint (log id, count, head hash, time) is signed with `KEYWARDEN_AUDIT_KEY`'s Ed25519
 *   key in the same transaction as every `checkpointEvery`-th record, and on demand.
 * - Triggers refuse UPDATE and DELETE on the records and checkpoints (and TRUNCATE): only an
 *   owner who drops them can change history, and then the chain and the signed checkpoints say so.
 * - `verify` reads the records in insertion order (`pos`), not by seq: a record moved shows as
 *   reordered.
 *
 * Security: records carry ids, names, outcomes, error codes and fingerprints only.
 */
import { ErrorCode, KeywardenError } from '../errors.js';
import {
  canonicalJson,
  flatDetails,
  GENESIS_HASH,
  hashRecord,
  verifyRecords,
  type AuditEventInput,
  type AuditListOptions,
  type AuditRecord,
  type AuditVerifyOptions,
  type AuditVerifyResult,
  type AuditWriter,
  type StoredCheckpoint,
} from './audit.js';
import { CHECKPOINT_FORMAT, type CheckpointSigner, type SignedCheckpoint } from './checkpoint.js';
import { inTransaction, PG_SCHEMA, toPgStoreError, type PgClient, type PgPool } from './pg.js';

const LOG = `${PG_SCHEMA}.audit_log`;
const HEAD = `${PG_SCHEMA}.audit_head`;
const META = `${PG_SCHEMA}.audit_meta`;
const CHECKPOINT = `${PG_SCHEMA}.audit_checkpoint`;

interface Row {
  seq: string;
  body: string;
  prev_hash: string;
  hash: string;
}

function toRecord(r: Row): AuditRecord {
  try {
    const body = JSON.parse(r.body) as Omit<AuditRecord, 'hash' | 'prevHash'>;
    return { ...body, prevHash: r.prev_hash, hash: r.hash };
  } catch {
    // An unparsable body cannot hash to anything: verify reports it as edited.
    return { seq: Number(r.seq), time: '', actor: '', backend: '', keyId: null, operation: '', outcome: 'failed', reason: null, errorCode: null, details: {}, prevHash: r.prev_hash, hash: '' };
  }
}

export interface PgAuditLogOptions {
  /** Signs checkpoints (`KEYWARDEN_AUDIT_KEY`). Without one the chain is kept but unsigned. */
  signer?: CheckpointSigner;
  /** A checkpoint every this many records. Default 32. */
  checkpointEvery?: number;
}

export class PgAuditLog implements AuditWriter {
  readonly checkpointEvery: number;
  private id: string | undefined;

  constructor(
    private readonly pool: PgPool,
    private readonly options: PgAuditLogOptions = {},
  ) {
    this.checkpointEvery = options.checkpointEvery ?? 32;
    if (!Number.isInteger(this.checkpointEvery) || this.checkpointEvery < 1) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'checkpointEvery must be a whole number of records, at least 1.', { fault: 'internal' });
    }
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toPgStoreError(e, what);
    }
  }

  async logId(): Promise<string> {
    if (this.id !== undefined) return this.id;
    const { rows } = await this.run('read the audit log id', () => this.pool.query<{ v: string }>(`SELECT v FROM ${META} WHERE k = 'log_id'`));
    this.id = rows[0]?.v ?? '';
    return this.id;
  }

  async append(input: AuditEventInput): Promise<AuditRecord> {
    const logId = this.options.signer ? await this.logId() : '';
    return this.run('append to the audit log', () =>
      inTransaction(this.pool, async (c) => {
        // The head row, locked: appends from every process are ordered here.
        const head = (await c.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${HEAD} WHERE id = 1 FOR UPDATE`)).rows[0];
        const seq = Number(head?.seq ?? 0) + 1;
        const prevHash = head?.hash ?? GENESIS_HASH;
        const time = (input.time ?? new Date()).toISOString();
        const partial: Omit<AuditRecord, 'hash'> = {
          seq,
          time,
          actor: input.actor,
          backend: input.backend,
          keyId: input.keyId ?? null,
          operation: input.operation,
          outcome: input.outcome,
          reason: input.reason ?? null,
          errorCode: input.errorCode ?? null,
          details: flatDetails(input.details),
          prevHash,
        };
        const record: AuditRecord = { ...partial, hash: hashRecord(partial) };
        const { prevHash: _p, hash: _h, ...body } = record;
        const intentSeq = typeof record.details.intentSeq === 'number' ? record.details.intentSeq : null;
        await c.query(`INSERT INTO ${LOG} (seq, body, prev_hash, hash, key_id, operation, outcome, intent_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
          seq,
          canonicalJson(body),
          prevHash,
          record.hash,
          record.keyId,
          record.operation,
          record.outcome,
          intentSeq,
        ]);
        await c.query(`UPDATE ${HEAD} SET seq = $1, hash = $2 WHERE id = 1`, [seq, record.hash]);
        if (this.options.signer && seq % this.checkpointEvery === 0) await this.insertCheckpoint(c, logId, seq, record.hash, time);
        return record;
      }),
    );
  }

  private async insertCheckpoint(c: PgClient, logId: string, count: number, headHash: string, time: string): Promise<StoredCheckpoint> {
    const signer = this.options.signer!;
    const signature = signer.sign({ logId, count, headHash, time });
    const cp: StoredCheckpoint = { count, headHash, time, publicKey: signer.publicKey.toString('base64'), signature };
    await c.query(`INSERT INTO ${CHECKPOINT} (count, head_hash, time, public_key, signature) VALUES ($1, $2, $3, $4, $5)`, [cp.count, cp.headHash, cp.time, cp.publicKey, cp.signature]);
    return cp;
  }

  /** Signs the current head now, unless the latest checkpoint covers it; returns it as `--export` writes it. */
  async checkpoint(time: Date = new Date()): Promise<SignedCheckpoint> {
    if (!this.options.signer) {
      throw new KeywardenError(ErrorCode.KEYSTORE_LOCKED, 'No checkpoint signing key is available for this audit log.', { fault: 'config', hint: 'Set KEYWARDEN_AUDIT_KEY (base64, 32 bytes).' });
    }
    const logId = await this.logId();
    const c = await this.run('sign an audit checkpoint', () =>
      inTransaction(this.pool, async (tx) => {
        const head = (await tx.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${HEAD} WHERE id = 1 FOR UPDATE`)).rows[0]!;
        const latest = (await tx.query<{ count: string; head_hash: string; time: string; public_key: string; signature: string }>(`SELECT * FROM ${CHECKPOINT} ORDER BY count DESC LIMIT 1`)).rows[0];
        if (latest && Number(latest.count) === Number(head.seq)) {
          return { count: Number(latest.count), headHash: latest.head_hash, time: latest.time, publicKey: latest.public_key, signature: latest.signature };
        }
        return this.insertCheckpoint(tx, logId, Number(head.seq), head.hash, time.toISOString());
      }),
    );
    return { format: CHECKPOINT_FORMAT, version: 1, logId, ...c };
  }

  async checkpointIfMoved(time?: Date): Promise<void> {
    if (!this.options.signer) return;
    const [head, cps] = await Promise.all([this.head(), this.checkpoints()]);
    if (head.seq > (cps.at(-1)?.count ?? 0)) await this.checkpoint(time);
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    const { rows } = await this.run('read the audit checkpoints', () =>
      this.pool.query<{ count: string; head_hash: string; time: string; public_key: string; signature: string }>(`SELECT * FROM ${CHECKPOINT} ORDER BY count`),
    );
    return rows.map((r) => ({ count: Number(r.count), headHash: r.head_hash, time: r.time, publicKey: r.public_key, signature: r.signature }));
  }

  async head(): Promise<{ seq: number; hash: string }> {
    const { rows } = await this.run('read the audit head', () => this.pool.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${HEAD} WHERE id = 1`));
    return rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : { seq: 0, hash: GENESIS_HASH };
  }

  async list(options: AuditListOptions = {}): Promise<AuditRecord[]> {
    const where = ['seq > $1'];
    const args: unknown[] = [options.afterSeq ?? 0];
    if (options.keyId !== undefined) where.push(`key_id = $${args.push(options.keyId)}`);
    if (options.operation !== undefined) where.push(`operation = $${args.push(options.operation)}`);
    const limit = options.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(options.limit))}` : '';
    const { rows } = await this.run('read the audit log', () => this.pool.query<Row>(`SELECT seq, body, prev_hash, hash FROM ${LOG} WHERE ${where.join(' AND ')} ORDER BY seq${limit}`, args));
    return rows.map(toRecord);
  }

  async openIntents(): Promise<AuditRecord[]> {
    const { rows } = await this.run('read open intents', () =>
      this.pool.query<Row>(`SELECT seq, body, prev_hash, hash FROM ${LOG} l WHERE outcome = 'intent' AND NOT EXISTS (SELECT 1 FROM ${LOG} o WHERE o.intent_seq = l.seq) ORDER BY seq`),
    );
    return rows.map(toRecord);
  }

  /** Every record in insertion order, which is what `verify` judges. */
  async records(): Promise<AuditRecord[]> {
    const { rows } = await this.run('read the audit log', () => this.pool.query<Row>(`SELECT seq, body, prev_hash, hash FROM ${LOG} ORDER BY pos`));
    return rows.map(toRecord);
  }

  /** Checks the chain, the head and every checkpoint (under `trustedKey`, default the signer's), and an exported checkpoint when given. */
  async verify(options: Pick<AuditVerifyOptions, 'trustedKey' | 'anchor'> = {}): Promise<AuditVerifyResult> {
    const trustedKey = options.trustedKey ?? this.options.signer?.publicKey;
    const [records, head, checkpoints, logId] = await Promise.all([this.records(), this.head(), this.checkpoints(), this.logId()]);
    return verifyRecords(records, head, {
      logId,
      checkpoints,
      checkpointEvery: this.checkpointEvery,
      ...(trustedKey ? { trustedKey } : {}),
      ...(options.anchor ? { anchor: options.anchor } : {}),
    });
  }

  async exportJsonl(write: (line: string) => void): Promise<number> {
    const records = await this.records();
    for (const r of records) write(`${canonicalJson(r)}\n`);
    return records.length;
  }
}
