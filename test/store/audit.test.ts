import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, canonicalJson, hashRecord, parseAuditJsonl, verifyRecords } from '../../src/store/audit.js';

let dir: string;
let log: AuditLog;

function fill(n: number): void {
  for (let i = 1; i <= n; i++) {
    log.append({
      actor: 'test',
      backend: 'local',
      keyId: `key-${i % 2}`,
      operation: i % 2 ? 'rotate' : 'disable',
      outcome: 'succeeded',
      reason: `finding:sha256:${'ab'.repeat(32)}`,
      details: { version: i },
      time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    });
  }
}

/** Tampering needs the triggers out of the way first, as an attacker editing the file would. */
function tamper(sql: string[]): void {
  log.db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
  for (const s of sql) log.db.exec(s);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-audit-'));
  log = AuditLog.open(join(dir, 'audit.db'));
});
afterEach(() => {
  log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('audit log', () => {
  it('chains records and verifies a clean log', () => {
    fill(5);
    const records = log.list();
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(records[0]!.prevHash).toBe('0'.repeat(64));
    for (let i = 1; i < records.length; i++) expect(records[i]!.prevHash).toBe(records[i - 1]!.hash);
    expect(log.verify()).toMatchObject({ ok: true, count: 5, headHash: records[4]!.hash, openIntents: [], checkpoints: { total: 0, trust: 'none' } });
  });

  it('creates its file with mode 0600', () => {
    fill(1);
    expect(statSync(join(dir, 'audit.db')).mode & 0o777).toBe(0o600);
  });

  it('refuses UPDATE and DELETE through SQL', () => {
    fill(2);
    expect(() => log.db.exec("UPDATE audit_log SET body = '{}' WHERE seq = 1")).toThrow(/append-only/);
    expect(() => log.db.exec('DELETE FROM audit_log WHERE seq = 2')).toThrow(/append-only/);
    expect(log.verify().ok).toBe(true);
  });

  it('names the first edited record', () => {
    fill(5);
    tamper([`UPDATE audit_log SET body = json_set(body, '$.outcome', 'failed') WHERE seq = 3`]);
    expect(log.verify().firstBad).toMatchObject({ seq: 3, problem: 'edited' });
  });

  it('names an edited record whose hash was recomputed: the next one breaks', () => {
    fill(5);
    const r = log.list({ afterSeq: 1, limit: 1 })[0]!;
    // Rewrite record 2 consistently (new hash), but record 3 still points at the old one.
    const edited = { ...r, actor: 'mallory' };
    const { hash: _h, ...rest } = edited;
    const newHash = hashRecord(rest);
    const { prevHash: _p, hash: _x, ...body } = { ...edited, hash: newHash };
    tamper([`UPDATE audit_log SET body = '${canonicalJson(body)}', hash = '${newHash}' WHERE seq = 2`]);
    expect(log.verify().firstBad).toMatchObject({ seq: 3, problem: 'chain-broken' });
  });

  it('names a deleted record', () => {
    fill(5);
    tamper(['DELETE FROM audit_log WHERE seq = 2']);
    expect(log.verify().firstBad).toMatchObject({ seq: 2, problem: 'missing' });
  });

  it('names records cut from the end', () => {
    fill(5);
    tamper(['DELETE FROM audit_log WHERE seq = 5']);
    expect(log.verify().firstBad).toMatchObject({ seq: 5, problem: 'truncated' });
  });

  it('names the first reordered record', () => {
    fill(5);
    tamper(['UPDATE audit_log SET seq = -3 WHERE seq = 3', 'UPDATE audit_log SET seq = 3 WHERE seq = 4', 'UPDATE audit_log SET seq = 4 WHERE seq = -3']);
    expect(log.verify().firstBad).toMatchObject({ seq: 3, problem: 'reordered' });
  });

  it('exports JSONL that verifies on its own, and catches edits to the export', () => {
    fill(4);
    let out = '';
    expect(log.exportJsonl((l) => (out += l))).toBe(4);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(verifyRecords(parseAuditJsonl(out), log.head()).ok).toBe(true);

    const swapped = [lines[0], lines[2], lines[1], lines[3]].join('\n');
    expect(verifyRecords(parseAuditJsonl(swapped)).firstBad).toMatchObject({ seq: 2, problem: 'reordered' });

    const edited = out.replace('"operation":"disable"', '"operation":"enable"');
    expect(verifyRecords(parseAuditJsonl(edited)).firstBad).toMatchObject({ seq: 2, problem: 'edited' });

    const dropped = [lines[0], lines[1], lines[3]].join('\n');
    expect(verifyRecords(parseAuditJsonl(dropped)).firstBad).toMatchObject({ seq: 3, problem: 'missing' });
  });

  it('filters by key and operation', () => {
    fill(6);
    expect(log.list({ keyId: 'key-1' }).map((r) => r.seq)).toEqual([1, 3, 5]);
    expect(log.list({ operation: 'disable', limit: 2 }).map((r) => r.seq)).toEqual([2, 4]);
  });

  it('keeps the chain across reopen and two connections', () => {
    fill(2);
    const other = AuditLog.open(join(dir, 'audit.db'));
    other.append({ actor: 'b', backend: 'local', operation: 'rotate', outcome: 'succeeded' });
    log.append({ actor: 'a', backend: 'local', operation: 'rotate', outcome: 'failed', errorCode: 'KW_KEY_NOT_FOUND' });
    other.close();
    expect(log.verify()).toMatchObject({ ok: true, count: 4 });
    expect(readFileSync(join(dir, 'audit.db')).length).toBeGreaterThan(0);
  });
});

