/**
 * The append-only, hash-chained audit log, with signed checkpoints.
 *
 * Each record holds the SHA-256 of the record before it, so editing, deleting or reordering
 * any record breaks the chain at that record, and `verify` names it. A head row (last seq and
 * hash, written in the same transaction as each append) catches records cut from the end.
 * Triggers refuse UPDATE and DELETE on the log and checkpoint tables, so only someone who
 * edits the file by hand can change history.
 *
 * Someone who edits the file by hand can also recompute every hash and the head row, so the
 * chain alone proves nothing against them. Checkpoints do: every `checkpointEvery` records (in
 * the same transaction as the append) and on demand, the log signs (log id, count, head hash,
 * time) with an Ed25519 key derived from a secret the file does not hold (see checkpoint.ts).
 * `verify` with the derived public key catches a rewritten or truncated chain up to the latest
 * checkpoint; against an exported checkpoint kept elsewhere it also catches a deleted or
 * replaced log. What it cannot catch, and why, is in docs/security-audit.md.
 *
 * Remote backends cannot share a transaction with this file, so they write an `intent` record
 * before the call and an outcome record (details.intentSeq) after it; an intent with no outcome
 * is reported by `verify` until it is reconciled (audited.ts).
 *
 * Security: records carry ids, names, outcomes, error codes and fingerprints only. Nothing in
 * this module accepts key material, and `details` takes flat primitive values.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ErrorCode, KeywardenError } from '../errors.js';
import { checkSignature, CHECKPOINT_FORMAT, type CheckpointSigner, type SignedCheckpoint } from './checkpoint.js';
import { openDatabase, toStoreError, type SqliteDatabase } from './sqlite.js';

/**
 * `intent`: a remote call is about to be made. `pending`: done but not yet complete (a
 * destruction waiting for the WAL to be folded away). `not-applied` / `unknown`: what
 * reconciliation observed for an intent whose process died.
 */
export type AuditOutcome = 'succeeded' | 'failed' | 'replayed' | 'intent' | 'pending' | 'not-applied' | 'unknown';

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
  details?: Record<string, string | number | boolean | null | undefined>;
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

export type AuditProblem =
  | 'edited'
  | 'missing'
  | 'reordered'
  | 'chain-broken'
  | 'truncated'
  | 'malformed'
  /** A checkpoint's signature does not verify under the trusted key. */
  | 'checkpoint-forged'
  /** The chain up to a signed checkpoint hashes to something else: it was rewritten. */
  | 'rewritten'
  /**
   * With a trusted key: the head is not covered by a signed checkpoint (more than
   * `checkpointEvery - 1` records after the latest one, or records and no checkpoint at all).
   */
  | 'checkpoint-missing'
  /** The log is not the one an exported checkpoint was made of (deleted and recreated). */
  | 'log-replaced'
  /** No log where one must be (an exported checkpoint says it had records). */
  | 'log-missing'
  /** Intents with no outcome: key operations whose result the log does not know. */
  | 'unreconciled'
  /** The keystore holds a key, version, state or alias that no audit record accounts for. */
  | 'unrecorded'
  /** Audit records describe a key, version, state or alias the keystore does not have. */
  | 'state-mismatch';

export interface AuditVerifyResult {
  ok: boolean;
  /** Records checked. */
  count: number;
  headHash: string;
  /** The first problem: the seq of the bad record (or the seq that should have come) and what is wrong. */
  firstBad?: { seq: number; problem: AuditProblem; message: string };
  checkpoints: {
    total: number;
    /** Checkpoints whose signature verified under a trusted key. */
    verified: number;
    latest?: number;
    /** Where the trusted key came from: derived from the secret, an exported checkpoint, or nowhere. */
    trust: 'secret' | 'export' | 'none';
  };
  /** When checked against an exported checkpoint: the count it vouches for. */
  anchor?: { count: number; time: string };
  /** Seqs of intent records with no outcome. */
  openIntents: number[];
}

/** A checkpoint as stored in the log's own table. */
export interface StoredCheckpoint {
  count: number;
  headHash: string;
  time: string;
  publicKey: string;
  signature: string;
}

export interface AuditVerifyOptions {
  /** The log's id, as the checkpoints were signed with it. */
  logId?: string;
  checkpoints?: readonly StoredCheckpoint[];
  /** Raw Ed25519 public key derived from the secret. Never one read from the database. */
  trustedKey?: Buffer;
  /** An exported checkpoint, kept where the database writer cannot reach. */
  anchor?: SignedCheckpoint;
  /**
   * With a trusted key: the writer signs a checkpoint in the same transaction as every this-many-th
   * record, so at most `checkpointEvery - 1` records may follow the latest checkpoint (a run killed
   * before its final checkpoint); that many or more means checkpoints were removed.
   */
  checkpointEvery?: number;
}

/** The first problem found, as `AuditVerifyResult.firstBad`. */
export type AuditProblemReport = NonNullable<AuditVerifyResult['firstBad']>;

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
 * The checkpoint interval: a signed checkpoint in the same transaction as every this-many-th
 * record. 1: every record commits with a checkpoint of itself, so a process killed at any point
 * leaves the head signed, and a head that no valid checkpoint covers is always tampering.
 */
const DEFAULT_CHECKPOINT_EVERY = 1;

/**
 * Checks a sequence of records in the order given, and the checkpoints and exported checkpoint
 * in `options` against it. Pure: works on the database and on a JSONL export.
 * `head`, when known, must match the last record (catches records cut from the end).
 */
export function verifyRecords(
  input: Iterable<AuditRecord>,
  head?: { seq: number; hash: string },
  options: AuditVerifyOptions = {},
): AuditVerifyResult {
  const stored = [...(options.checkpoints ?? [])].sort((a, b) => a.count - b.count);
  const trustedKey = options.trustedKey ?? (options.anchor ? Buffer.from(options.anchor.publicKey, 'base64') : undefined);
  const trust: AuditVerifyResult['checkpoints']['trust'] = options.trustedKey ? 'secret' : options.anchor ? 'export' : 'none';
  // The hashes the checkpoints vouch for, collected in one pass over the records.
  const wanted = new Set<number>([...stored.map((c) => c.count), ...(options.anchor ? [options.anchor.count] : [])]);
  const hashAt = new Map<number, string>([[0, GENESIS_HASH]]);
  const intents = new Set<number>();
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  let verified = 0;
  const result = (firstBad?: AuditVerifyResult['firstBad']): AuditVerifyResult => ({
    ok: firstBad === undefined,
    count,
    headHash: prev,
    ...(firstBad ? { firstBad } : {}),
    checkpoints: { total: stored.length, verified, ...(stored.length ? { latest: stored.at(-1)!.count } : {}), trust },
    ...(options.anchor ? { anchor: { count: options.anchor.count, time: options.anchor.time } } : {}),
    openIntents: [...intents].sort((a, b) => a - b),
  });
  const bad = (seq: number, problem: AuditProblem, message: string): AuditVerifyResult => result({ seq, problem, message });

  const records = [...input];
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (typeof r.seq !== 'number' || typeof r.hash !== 'string' || typeof r.prevHash !== 'string') {
      return bad(expectedSeq, 'malformed', `Record ${expectedSeq} is malformed.`);
    }
    if (r.seq !== expectedSeq) {
      const later = records.slice(i + 1).some((x) => x.seq === expectedSeq);
      if (!later && r.seq > expectedSeq) {
        return bad(
          expectedSeq,
          'missing',
          `Record ${expectedSeq} is missing: the log jumps from ${expectedSeq - 1} to ${r.seq}.`,
        );
      }
      return bad(
        expectedSeq,
        'reordered',
        `Record ${expectedSeq} is out of order: found record ${r.seq} in its place.`,
      );
    }
    if (hashRecord(r) !== r.hash) return bad(r.seq, 'edited', `Record ${r.seq} was edited: its hash does not match its content.`);
    if (r.prevHash !== prev) return bad(r.seq, 'chain-broken', `Record ${r.seq} does not follow record ${r.seq - 1}: the chain is broken.`);
    if (r.outcome === 'intent') intents.add(r.seq);
    const closes = r.details?.intentSeq;
    if (typeof closes === 'number') intents.delete(closes);
    prev = r.hash;
    expectedSeq++;
    count++;
    if (wanted.has(count)) hashAt.set(count, prev);
  }
  if (head && (head.seq !== count || head.hash !== prev)) {
    const seq = Math.min(head.seq, count + 1);
    return bad(seq, 'truncated', `Record ${seq} is missing: the log ends at ${count} but its head says ${head.seq}.`);
  }

  // A checkpoint (stored or exported) vouches for its count of records and the hash at that count.
  const against = (cp: { count: number; headHash: string }, subject: string, object: string): ReturnType<typeof bad> | undefined => {
    if (cp.count > count) {
      return bad(count + 1, 'truncated', `Records ${count + 1} to ${cp.count} are missing: ${subject} vouches for ${cp.count} records, the log has ${count}.`);
    }
    if (hashAt.get(cp.count) !== cp.headHash) {
      return bad(cp.count, 'rewritten', `The chain up to record ${cp.count} does not match ${object}: the log was rewritten.`);
    }
    return undefined;
  };
  for (const c of stored) {
    if (trustedKey) {
      const body = { logId: options.logId ?? '', count: c.count, headHash: c.headHash, time: c.time, signature: c.signature };
      if (!checkSignature(body, trustedKey)) {
        return bad(
          c.count,
          'checkpoint-forged',
          `The checkpoint at record ${c.count} was not signed by this log's key: the checkpoints were forged or altered.`,
        );
      }
      verified++;
    }
    const broken = against(c, 'a signed checkpoint', 'its signed checkpoint');
    if (broken) return broken;
  }
  const a = options.anchor;
  if (a) {
    if (options.trustedKey && !options.trustedKey.equals(Buffer.from(a.publicKey, 'base64'))) {
      return bad(0, 'checkpoint-forged', 'The exported checkpoint was not signed by this log\'s key.');
    }
    if (options.logId !== undefined && options.logId !== a.logId) {
      return bad(
        1,
        'log-replaced',
        `This is not the log the exported checkpoint was made of (it had ${a.count} records): the log was deleted or replaced.`,
      );
    }
    const broken = against(a, 'the exported checkpoint', 'the exported checkpoint');
    if (broken) return broken;
  }
  const every = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  const latest = stored.at(-1)?.count ?? 0;
  // After the export: it names what was cut or rewritten more precisely than a missing checkpoint.
  // The periodic checkpoint commits with every `every`-th record, so a killed run leaves at most
  // `every - 1` unsigned records behind the latest one; `every` or more were unsigned by hand.
  if (options.trustedKey && count > 0 && count - latest >= every) {
    return bad(
      latest + 1,
      'checkpoint-missing',
      every === 1
        ? `No signed checkpoint covers records ${latest + 1} to ${count} (every record is signed when it is written): checkpoints were removed.`
        : `No signed checkpoint covers records ${latest + 1} to ${count} (one is made with every ${every}th record): checkpoints were removed.`,
    );
  }

  if (intents.size) {
    const first = Math.min(...intents);
    return bad(
      first,
      'unreconciled',
      `${intents.size} key operation(s) have an intent but no outcome (first: record ${first}); their result is unknown until reconciled.`,
    );
  }
  return result();
}

/** The result of checking against an exported checkpoint when the log itself is gone. */
export function verifyMissingLog(anchor: SignedCheckpoint): AuditVerifyResult {
  return {
    ok: false,
    count: 0,
    headHash: GENESIS_HASH,
    firstBad: { seq: 1, problem: 'log-missing', message: `The audit log is gone, but the exported checkpoint vouches for ${anchor.count} records.` },
    checkpoints: { total: 0, verified: 0, trust: 'export' },
    anchor: { count: anchor.count, time: anchor.time },
    openIntents: [],
  };
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
CREATE TABLE IF NOT EXISTS audit_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_checkpoint (
  count INTEGER PRIMARY KEY,
  head_hash TEXT NOT NULL,
  time TEXT NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
`;

/** Columns added after the first release; ALTER TABLE can add virtual generated columns in place. */
const LATER_COLUMNS: Record<string, string> = {
  outcome: "TEXT GENERATED ALWAYS AS (json_extract(body, '$.outcome')) VIRTUAL",
  intent_seq: "INTEGER GENERATED ALWAYS AS (json_extract(body, '$.details.intentSeq')) VIRTUAL",
};

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

export interface AuditLogOptions {
  /** Signs checkpoints. Without one the log is chained but unsigned. */
  signer?: CheckpointSigner;
  /** A checkpoint every this many records. Default 32. */
  checkpointEvery?: number;
  /** Open for verification only: no schema is created; a log that is not there reads as empty. */
  readonly?: boolean;
  /**
   * Every record of this log was written with the signer present (the local keystore's log).
   * Then a head that no valid checkpoint covers is tampering, and nothing is appended or signed
   * on top of it (`KW_AUDIT_BROKEN`): a later honest run must not vouch for a forged history.
   */
  guardHead?: boolean;
  /**
   * Checks the state the records describe against state kept outside the log (the keystore's
   * keys, versions, states and aliases). Called by `verify` once the chain and checkpoints hold.
   */
  stateCheck?: (records: readonly AuditRecord[]) => AuditProblemReport | undefined;
}

/**
 * What writes to an audit log, as the audited backends see it: the SQLite `AuditLog` (sync, one
 * file per state folder) or the PostgreSQL `PgAuditLog` (one chain shared by every worker).
 * Callers `await` every result.
 */
export interface AuditWriter {
  logId(): string | Promise<string>;
  append(input: AuditEventInput): AuditRecord | Promise<AuditRecord>;
  openIntents(): AuditRecord[] | Promise<AuditRecord[]>;
  list(options?: AuditListOptions): AuditRecord[] | Promise<AuditRecord[]>;
  /** Signs a checkpoint when records were appended since the last one; a no-op without a signer. */
  checkpointIfMoved(time?: Date): void | Promise<void>;
}

export class AuditLog implements AuditWriter {
  private closed = false;
  private readonly signer: CheckpointSigner | undefined;
  readonly checkpointEvery: number;
  private readonly hasTables: boolean;
  private readonly guardHead: boolean;
  private readonly stateCheck: AuditLogOptions['stateCheck'];

  /** Opens (creating if needed, mode 0600) the audit log in a SQLite file. */
  static open(path: string, options: AuditLogOptions = {}): AuditLog {
    return new AuditLog(openDatabase(path, options.readonly ? { readonly: true } : {}), true, options);
  }

  constructor(
    readonly db: SqliteDatabase,
    private readonly ownsDb = false,
    options: AuditLogOptions = {},
  ) {
    this.signer = options.signer;
    this.guardHead = options.guardHead === true && options.signer !== undefined;
    this.stateCheck = options.stateCheck;
    this.checkpointEvery = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
    if (!Number.isInteger(this.checkpointEvery) || this.checkpointEvery < 1) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'checkpointEvery must be a whole number of records, at least 1.', { fault: 'internal' });
    }
    if (options.readonly) {
      this.hasTables = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").get() !== undefined;
      return;
    }
    this.hasTables = true;
    db.transaction(() => {
      db.exec(SCHEMA);
      const have = new Set((db.pragma('table_xinfo(audit_log)') as { name: string }[]).map((c) => c.name));
      for (const [name, decl] of Object.entries(LATER_COLUMNS)) if (!have.has(name)) db.exec(`ALTER TABLE audit_log ADD COLUMN ${name} ${decl}`);
      db.exec('CREATE INDEX IF NOT EXISTS audit_log_intent ON audit_log (intent_seq) WHERE intent_seq IS NOT NULL');
      // The id is made with the log. A log that has records or checkpoints but lost its id does
      // not get a new one: its checkpoints then fail (signed with the old id) and verify says so.
      const used = db.prepare('SELECT 1 FROM audit_log UNION ALL SELECT 1 FROM audit_checkpoint UNION ALL SELECT 1 FROM audit_head LIMIT 1').get() !== undefined;
      if (!used) db.prepare('INSERT INTO audit_meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING').run('log_id', randomUUID());
    }).immediate();
  }

  /** The random id fixed when the log was created; empty for a log that is not there. */
  logId(): string {
    if (!this.hasTables || !this.tableExists('audit_meta')) return '';
    return (this.db.prepare("SELECT v FROM audit_meta WHERE k = 'log_id'").get() as { v: string } | undefined)?.v ?? '';
  }

  /**
   * Appends one record; the chain head moves in the same transaction. Called inside a caller's
   * transaction (the local keystore's), it joins it as a savepoint: the key operation and its
   * record commit together or not at all.
   */
  append(input: AuditEventInput): AuditRecord {
    try {
      return this.db
        .transaction((): AuditRecord => {
          const head = this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string } | undefined;
          if (this.guardHead) this.assertHeadSigned(head ?? { seq: 0, hash: GENESIS_HASH });
          const seq = (head?.seq ?? 0) + 1;
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
          this.db.prepare('INSERT INTO audit_log (seq, body, prev_hash, hash) VALUES (?, ?, ?, ?)').run(seq, canonicalJson(body), prevHash, record.hash);
          this.db
            .prepare('INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash')
            .run(seq, record.hash);
          if (this.signer && seq % this.checkpointEvery === 0) this.insertCheckpoint(seq, record.hash, time);
          return record;
        })
        .immediate();
    } catch (e) {
      throw toStoreError(e, 'append to the audit log');
    }
  }

  /**
   * For a log that is signed from its first record: the head row must be the last record and be
   * covered by a checkpoint that verifies under this log's key and id. Constant time (one row
   * each, one signature): the full chain is `verify`'s job; this only keeps an honest run from
   * signing on top of a history someone rewrote and unsigned.
   */
  private assertHeadSigned(head: { seq: number; hash: string }): void {
    const broken = (why: string): KeywardenError =>
      new KeywardenError(ErrorCode.AUDIT_BROKEN, `The audit log was altered (${why}), so nothing was recorded or signed on top of it.`, {
        fault: 'backend',
        hint: 'Run "keywarden audit verify" (with --checkpoint and your latest export) and restore the keystore from a backup.',
      });
    const last = this.db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    if (head.seq === 0) {
      if (last || this.db.prepare('SELECT 1 FROM audit_checkpoint LIMIT 1').get()) throw broken('its head row is gone');
      return;
    }
    if (!last || last.seq !== head.seq || last.hash !== head.hash) throw broken('its head row does not match its last record');
    const c = this.db.prepare('SELECT count, head_hash, time, signature FROM audit_checkpoint ORDER BY count DESC LIMIT 1').get() as
      | { count: number; head_hash: string; time: string; signature: string }
      | undefined;
    if (!c || c.count !== head.seq || c.head_hash !== head.hash) throw broken('no signed checkpoint covers its head');
    if (!checkSignature({ logId: this.logId(), count: c.count, headHash: c.head_hash, time: c.time, signature: c.signature }, this.signer!.publicKey)) {
      throw broken('its latest checkpoint does not verify under this log\'s key and id');
    }
  }

  private insertCheckpoint(count: number, headHash: string, time: string): StoredCheckpoint {
    const signer = this.signer!;
    const signature = signer.sign({ logId: this.logId(), count, headHash, time });
    const c: StoredCheckpoint = { count, headHash, time, publicKey: signer.publicKey.toString('base64'), signature };
    this.db
      .prepare('INSERT INTO audit_checkpoint (count, head_hash, time, public_key, signature) VALUES (?, ?, ?, ?, ?)')
      .run(c.count, c.headHash, c.time, c.publicKey, c.signature);
    return c;
  }

  /**
   * Signs the current head now (on demand), unless the latest checkpoint already covers it.
   * Needs the signer; returns the checkpoint as `audit checkpoint --export` writes it.
   */
  checkpoint(time: Date = new Date()): SignedCheckpoint {
    if (!this.signer) {
      throw new KeywardenError(ErrorCode.KEYSTORE_LOCKED, 'No checkpoint signing key is available for this audit log.', {
        fault: 'config',
        hint: 'For the local keystore set KEYWARDEN_LOCAL_PASSPHRASE (or KEYWARDEN_LOCAL_KEK); for remote backends set KEYWARDEN_AUDIT_KEY.',
      });
    }
    try {
      return this.db
        .transaction((): SignedCheckpoint => {
          const head = this.head();
          if (this.guardHead && head.seq > 0) this.assertHeadSigned(head);
          const latest = this.checkpoints().at(-1);
          const c = latest && latest.count === head.seq ? latest : this.insertCheckpoint(head.seq, head.hash, time.toISOString());
          return this.exportable(c);
        })
        .immediate();
    } catch (e) {
      throw toStoreError(e, 'sign an audit checkpoint');
    }
  }

  /** Signs a checkpoint when records were appended since the last one; a no-op without a signer. */
  checkpointIfMoved(time?: Date): void {
    if (!this.signer) return;
    const latest = this.checkpoints().at(-1)?.count ?? 0;
    if (this.head().seq > latest) this.checkpoint(time);
  }

  private exportable(c: StoredCheckpoint): SignedCheckpoint {
    return { format: CHECKPOINT_FORMAT, version: 1, logId: this.logId(), ...c };
  }

  /** The latest signed checkpoint, as `--export` writes it. */
  latestCheckpoint(): SignedCheckpoint | undefined {
    const c = this.checkpoints().at(-1);
    return c ? this.exportable(c) : undefined;
  }

  checkpoints(): StoredCheckpoint[] {
    if (!this.tableExists('audit_checkpoint')) return [];
    const rows = this.db.prepare('SELECT count, head_hash, time, public_key, signature FROM audit_checkpoint ORDER BY count').all() as {
      count: number;
      head_hash: string;
      time: string;
      public_key: string;
      signature: string;
    }[];
    return rows.map((r) => ({ count: r.count, headHash: r.head_hash, time: r.time, publicKey: r.public_key, signature: r.signature }));
  }

  private tableExists(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  list(options: AuditListOptions = {}): AuditRecord[] {
    if (!this.hasTables) return [];
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
    const sql = `SELECT seq, body, prev_hash, hash FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, limit) as DbRow[];
    return rows.map(rowToRecord);
  }

  /** Intent records that no later record closes (details.intentSeq), oldest first. */
  openIntents(): AuditRecord[] {
    if (!this.hasTables) return [];
    const rows = this.db
      .prepare(
        `SELECT seq, body, prev_hash, hash FROM audit_log WHERE outcome = 'intent'
         AND NOT EXISTS (SELECT 1 FROM audit_log o WHERE o.intent_seq = audit_log.seq) ORDER BY seq`,
      )
      .all() as DbRow[];
    return rows.map(rowToRecord);
  }

  /** Every record, in storage order (rowid), lazily. Storage order is what `verify` judges. */
  *records(): IterableIterator<AuditRecord> {
    if (!this.hasTables) return;
    // ORDER BY rowid, not seq: a record moved to another place must show up as reordered.
    const rows = this.db.prepare('SELECT seq, body, prev_hash, hash FROM audit_log ORDER BY rowid').iterate() as IterableIterator<DbRow>;
    for (const row of rows) {
      let rec: AuditRecord;
      try {
        rec = rowToRecord(row);
      } catch {
        // An unparsable body cannot hash to anything: verify reports it as edited.
        rec = {
          seq: row.seq,
          time: '',
          actor: '',
          backend: '',
          keyId: null,
          operation: '',
          outcome: 'failed',
          reason: null,
          errorCode: null,
          details: {},
          prevHash: row.prev_hash,
          hash: '',
        };
      }
      yield rec;
    }
  }

  head(): { seq: number; hash: string } {
    if (!this.hasTables) return { seq: 0, hash: GENESIS_HASH };
    const head = this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string } | undefined;
    return head ?? { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * Checks the chain, the head, every stored checkpoint (under `trustedKey` when given), an
   * exported checkpoint when given, and reports intents without an outcome.
   */
  verify(options: Pick<AuditVerifyOptions, 'trustedKey' | 'anchor'> = {}): AuditVerifyResult {
    const trustedKey = options.trustedKey ?? this.signer?.publicKey;
    const records = [...this.records()];
    const checkpoints = this.checkpoints();
    const logId = this.logId();
    const result = verifyRecords(records, this.head(), {
      logId,
      checkpoints,
      checkpointEvery: this.checkpointEvery,
      ...(trustedKey ? { trustedKey } : {}),
      ...(options.anchor ? { anchor: options.anchor } : {}),
    });
    const fail = (firstBad: AuditProblemReport): AuditVerifyResult => ({ ...result, ok: false, firstBad });
    // The id is written with the log; records without one mean its identity row was deleted.
    if (logId === '' && (records.length > 0 || checkpoints.length > 0) && (result.ok || result.firstBad?.problem === 'checkpoint-forged')) {
      return fail({ seq: 1, problem: 'log-replaced', message: 'The log has records but no log id: its identity row was deleted, so no checkpoint can vouch for it.' });
    }
    if (this.stateCheck && (result.ok || result.firstBad?.problem === 'unreconciled')) {
      const p = this.stateCheck(records);
      if (p) return fail(p);
    }
    return result;
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

export function flatDetails(d: AuditEventInput['details']): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(d ?? {})) {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}
