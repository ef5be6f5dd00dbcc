/**
 * The append-only, hash-chained audit log.
 *
 * Each record holds the SHA-256 of the record before it, so editing, deleting or reordering
 * any record breaks the chain at that record, and `verify` names it. A head row (last seq and
 * hash, written in the same transaction as each append) catches records cut from the end.
 * Triggers refuse UPDATE and DELETE on the log table, so only someone who edits the file by
 * hand can change history, and `verify` catches that too.
 *
 * Security: records carry ids, names, outcomes, error codes and fingerprints only. Nothing in
 * this module accepts key material, and `details` takes flat primitive values.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, KeywardenError } from '../errors.js';
import { openDatabase, toStoreError, type SqliteDatabase } from './sqlite.js';

export type AuditOutcome = 'succeeded' | 'failed' | 'replayed';

export interface AuditEventInput {
  actor: string;
  backend: string;
  keyId?: string | null;
  operation: string;
  outcome: AuditOutcome;
  /** Why: a finding fingerprint, a job id, a policy rule. Never a secret. */
  reason?: string;
  /** The `KW_…` code when the operation failed. */
  errorCode?: string;
  details?: Record<string, string | number | boolean | null>;
  /** Defaults to now; tests pass a fixed clock. */
  time?: Date;
}

export interface AuditRecord {
  seq: number;
  time: string;
  actor: string;
  backend: string;
  keyId: string | null;
  operation: string;
  outcome: AuditOutcome;
  reason: string | null;
  errorCode: string | null;
  details: Record<string, string | number | boolean | null>;
  prevHash: string;
  hash: string;
}

export type AuditProblem = 'edited' | 'missing' | 'reordered' | 'chain-broken' | 'truncated' | 'malformed';

export interface AuditVerifyResult {
  ok: boolean;
  /** Records checked. */
  count: number;
  headHash: string;
  /** The first bad record: its seq (or the seq that should have come) and what is wrong. */
  firstBad?: { seq: number; problem: AuditProblem; message: string };
}

export const GENESIS_HASH = '0'.repeat(64);

/** Canonical JSON: keys sorted at every level, no whitespace. Stable across runs and platforms. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

/** The hash of a record: SHA-256 over the canonical JSON of every field but `hash`. */
export function hashRecord(r: Omit<AuditRecord, 'hash'>): string {
  const body: Omit<AuditRecord, 'hash'> = {
    seq: r.seq,
    time: r.time,
    actor: r.actor,
    backend: r.backend,
    keyId: r.keyId,
    operation: r.operation,
    outcome: r.outcome,
    reason: r.reason,
    errorCode: r.errorCode,
    details: r.details,
    prevHash: r.prevHash,
  };
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/**
 * Checks a sequence of records in the order given. Pure: works on the database and on a JSONL export.
 * `head`, when known, must match the last record (catches records cut from the end).
 */
export function verifyRecords(input: Iterable<AuditRecord>, head?: { seq: number; hash: string }): AuditVerifyResult {
  const records = [...input];
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  const bad = (seq: number, problem: AuditProblem, message: string): AuditVerifyResult => ({
    ok: false,
    count,
    headHash: prev,
    firstBad: { seq, problem, message },
  });
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (typeof r.seq !== 'number' || typeof r.hash !== 'string' || typeof r.prevHash !== 'string') {
      return bad(expectedSeq, 'malformed', `Record ${expectedSeq} is malformed.`);
    }
    if (r.seq !== expectedSeq) {
      const later = records.slice(i + 1).some((x) => x.seq === expectedSeq);
      if (!later && r.seq > expectedSeq) {
        return bad(expectedSeq, 'missing', `Record ${expectedSeq} is missing: the log jumps from ${expectedSeq - 1} to ${r.seq}.`);
      }
      return bad(expectedSeq, 'reordered', `Record ${expectedSeq} is out of order: found record ${r.seq} in its place.`);
    }
    if (hashRecord(r) !== r.hash) return bad(r.seq, 'edited', `Record ${r.seq} was edited: its hash does not match its content.`);
    if (r.prevHash !== prev) return bad(r.seq, 'chain-broken', `Record ${r.seq} does not follow record ${r.seq - 1}: the chain is broken.`);
    prev = r.hash;
    expectedSeq++;
    count++;
  }
  if (head && (head.seq !== count || head.hash !== prev)) {
    const seq = Math.min(head.seq, count + 1);
    return bad(seq, 'truncated', `Record ${seq} is missing: the log ends at ${count} but its head says ${head.seq}.`);
  }
  return { ok: true, count, headHash: prev };
}

/** Parses a JSONL export back into records; a bad line is reported as a malformed record. */
export function parseAuditJsonl(text: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as AuditRecord);
    } catch (e) {
      throw new KeywardenError(ErrorCode.AUDIT_BROKEN, `Line ${i + 1} of the audit export is not valid JSON.`, {
        fault: 'user',
        cause: e,
        location: { line: i + 1 },
      });
    }
  }
  return out;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  key_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.keyId')) VIRTUAL,
  operation TEXT GENERATED ALWAYS AS (json_extract(body, '$.operation')) VIRTUAL
);
CREATE INDEX IF NOT EXISTS audit_log_key ON audit_log (key_id);
CREATE TABLE IF NOT EXISTS audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

interface DbRow {
  seq: number;
  body: string;
  prev_hash: string;
  hash: string;
}

function rowToRecord(row: DbRow): AuditRecord {
  // The seq inside the hashed body is authoritative; the row's own number is only storage order.
  const body = JSON.parse(row.body) as Omit<AuditRecord, 'hash' | 'prevHash'>;
  return { ...body, prevHash: row.prev_hash, hash: row.hash };
}

export interface AuditListOptions {
  keyId?: string;
  operation?: string;
  afterSeq?: number;
  limit?: number;
}

export class AuditLog {
  private closed = false;

  /** Opens (creating if needed, mode 0600) the audit log in a SQLite file. */
  static open(path: string): AuditLog {
    return new AuditLog(openDatabase(path), true);
  }

  constructor(
    readonly db: SqliteDatabase,
    private readonly ownsDb = false,
  ) {
    db.exec(SCHEMA);
  }

  /** Appends one record; the chain head moves in the same transaction. */
  append(input: AuditEventInput): AuditRecord {
    try {
      return this.db
        .transaction((): AuditRecord => {
          const head = this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string } | undefined;
          const seq = (head?.seq ?? 0) + 1;
          const prevHash = head?.hash ?? GENESIS_HASH;
          const partial: Omit<AuditRecord, 'hash'> = {
            seq,
            time: (input.time ?? new Date()).toISOString(),
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
          this.db.prepare('INSERT INTO audit_log (seq, body, prev_hash, hash) VALUES (?, ?, ?, ?)').run(seq, canonicalJson(body), prevHash, record.hash);
          this.db.prepare('INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash').run(seq, record.hash);
          return record;
        })
        .immediate();
    } catch (e) {
      throw toStoreError(e, 'append to the audit log');
    }
  }

  list(options: AuditListOptions = {}): AuditRecord[] {
    const where: string[] = ['seq > ?'];
    const args: unknown[] = [options.afterSeq ?? 0];
    if (options.keyId !== undefined) {
      where.push('key_id = ?');
      args.push(options.keyId);
    }
    if (options.operation !== undefined) {
      where.push('operation = ?');
      args.push(options.operation);
    }
    const limit = options.limit ?? -1;
    const rows = this.db.prepare(`SELECT seq, body, prev_hash, hash FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`).all(...args, limit) as DbRow[];
    return rows.map(rowToRecord);
  }

  /** Every record, in storage order (rowid), lazily. Storage order is what `verify` judges. */
  *records(): IterableIterator<AuditRecord> {
    // ORDER BY rowid, not seq: a record moved to another place must show up as reordered.
    for (const row of this.db.prepare('SELECT seq, body, prev_hash, hash FROM audit_log ORDER BY rowid').iterate() as IterableIterator<DbRow>) {
      let rec: AuditRecord;
      try {
        rec = rowToRecord(row);
      } catch {
        // An unparsable body cannot hash to anything: verify reports it as edited.
        rec = { seq: row.seq, time: '', actor: '', backend: '', keyId: null, operation: '', outcome: 'failed', reason: null, errorCode: null, details: {}, prevHash: row.prev_hash, hash: '' };
      }
      yield rec;
    }
  }

  head(): { seq: number; hash: string } {
    const head = this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string } | undefined;
    return head ?? { seq: 0, hash: GENESIS_HASH };
  }

  verify(): AuditVerifyResult {
    return verifyRecords(this.records(), this.head());
  }

  /** Writes one JSON record per line; returns the number written. */
  exportJsonl(write: (line: string) => void): number {
    let n = 0;
    for (const r of this.records()) {
      write(`${canonicalJson(r)}\n`);
      n++;
    }
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDb) this.db.close();
  }
}

function flatDetails(d: AuditEventInput['details']): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(d ?? {})) {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}
