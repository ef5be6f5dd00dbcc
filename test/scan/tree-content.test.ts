/**
 * A tree cannot hide a secret in its contents: an extension or a stray NUL does not make a text
 * file binary; real binaries (SQLite, zip members, compiled code) are scanned for printable runs;
 * UTF-16 is decoded. Real files; zips made by Python's zipfile, databases by SQLite itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { scan } from '../../src/scan/scan.js';
import { createRuleset } from '../../src/scan/engine.js';
import { selectDetectors } from '../../src/scan/select-detectors.js';
import { CHUNK_SIZE, classifyContent, createChunkScanner, scanUnit } from '../../src/scan/sources/read-file.js';
import { awsKeys } from '../helpers/git-repo.js';

const detectors = { include: ['aws-access-key-id'] };
const awsKey = awsKeys('tree-content');
let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-tree-content-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(files: Record<string, string | Buffer>): string {
  const root = path.join(dir, `t${n++}`);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  return root;
}
const rows = (r: Awaited<ReturnType<typeof scan>>): unknown[][] => r.findings.map((f) => [f.file, f.startLine, f.startColumn, ...(f.member ? [f.member] : [])]);

describe('text is text', () => {
  it('*.dat, *.bin and *.db files that hold text are scanned, with lines', async () => {
    const k = [awsKey(), awsKey(), awsKey()];
    const root = tree({ 'a.dat': `x\nKEY=${k[0]}\n`, 'b.bin': `${k[1]}\n`, 'c.db': `\n\n  ${k[2]}\n` });
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(rows(r)).toEqual([
      ['a.dat', 2, 5],
      ['b.bin', 1, 1],
      ['c.db', 3, 3],
    ]);
    expect(r.summary.skipped).toBe(0);
  });

  it('a file with one NUL byte and then a secret is scanned as text', async () => {
    const k = awsKey();
    const root = tree({ 'nul.txt': Buffer.concat([Buffer.from('header\0more\n'), Buffer.from(`aws = "${k}"\n`)]) });
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(rows(r)).toEqual([['nul.txt', 2, 8]]);
  });
});

describe('binaries are scanned for printable runs', () => {
  it('finds a secret in a row of a SQLite database, on line 1 at its byte offset', async () => {
    const k = awsKey();
    const root = tree({});
    mkdirSync(root, { recursive: true });
    const file = path.join(root, 'app.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE settings (id INTEGER PRIMARY KEY, name TEXT, value TEXT)');
    db.prepare('INSERT INTO settings (name, value) VALUES (?, ?)').run('theme', 'dark');
    db.prepare('INSERT INTO settings (name, value) VALUES (?, ?)').run('aws', JSON.stringify({ aws_access_key_id: k, region: 'eu-west-1' }));
    db.close();
    const bytes = readFileSync(file);
    expect(classifyContent(bytes)).toBe('binary');
    const r = await scan({ path: root, detectors, workers: 0 });
    const at = bytes.indexOf(k);
    expect(at).toBeGreaterThan(0);
    expect(r.findings.map((f) => [f.file, f.startLine, f.startColumn, f.endColumn])).toEqual([['app.sqlite', 1, at + 1, at + 1 + k.length]]);
  });

  it('finds UTF-16LE runs in a binary (as strings -el does)', async () => {
    const k = awsKey();
    const utf16 = Buffer.from(`key=${k}`, 'utf16le');
    const bin = Buffer.concat([Buffer.alloc(300, 0), Buffer.from([1, 2, 3, 255]), utf16, Buffer.alloc(100, 0)]);
    const root = tree({ 'app.exe': bin });
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(rows(r)).toEqual([['app.exe', 1, 304 + 8 + 1]]);
  });

  it('finds a secret in a deflated zip member and in a stored one, naming the member; members of a nested zip too', async () => {
    const k = [awsKey(), awsKey()];
    const root = tree({});
    mkdirSync(root, { recursive: true });
    const py = [
      'import sys, zipfile, io',
      'inner = io.BytesIO()',
      'with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z: z.writestr("deep.txt", "nested " * 50)',
      'with zipfile.ZipFile(sys.argv[1], "w") as z:',
      '    z.writestr("docs/readme.txt", ("filler line\\n" * 200) + "aws_key = " + sys.argv[2] + "\\n", compress_type=zipfile.ZIP_DEFLATED)',
      '    z.writestr("raw.cfg", "k=" + sys.argv[3] + "\\n", compress_type=zipfile.ZIP_STORED)',
      '    z.writestr("inner.zip", inner.getvalue())',
    ].join('\n');
    const file = path.join(root, 'bundle.jar');
    execFileSync('python3', ['-c', py, file, k[0]!, k[1]!]);
    expect(readFileSync(file).includes(k[0]!)).toBe(false); // really deflated
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(rows(r)).toEqual([
      ['bundle.jar', 1, 3, 'raw.cfg'],
      ['bundle.jar', 201, 11, 'docs/readme.txt'],
    ]);
  });

  it('scans images, audio and video for printable runs too (their magic bytes skip nothing)', async () => {
    const k = [awsKey(), awsKey()];
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 0), Buffer.from(k[0]!)]);
    const root = tree({ 'logo.png': png, 'notes.png': `${k[1]}\n` });
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(rows(r)).toEqual([
      ['logo.png', 1, 73],
      ['notes.png', 1, 1],
    ]);
    expect(r.summary.skipped).toBe(0);
  });
});

describe('UTF-16 is decoded', () => {
  const content = (k: string): string => `first line\nsecond: ${k}\n`;
  it.each([
    ['UTF-16LE with a BOM', (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')])],
    ['UTF-16BE with a BOM', (s: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(s, 'utf16le').swap16()])],
    ['UTF-16LE without a BOM', (s: string) => Buffer.from(s, 'utf16le')],
    ['UTF-16BE without a BOM', (s: string) => Buffer.from(s, 'utf16le').swap16()],
  ])('%s: found with the line and column of the decoded text', async (_, encode) => {
    const k = awsKey();
    const root = tree({ 'win.reg': encode(content(k)) });
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(rows(r)).toEqual([['win.reg', 2, 9]]);
    // A git blob (or stdin) gets the same treatment.
    const ruleset = createRuleset(selectDetectors(detectors));
    const u = scanUnit({ file: 'blob', content: encode(content(k)) }, ruleset, {});
    expect(u.findings.map((f) => [f.startLine, f.startColumn])).toEqual([[2, 9]]);
  });
});

describe('createChunkScanner', () => {
  const ruleset = createRuleset(selectDetectors(detectors));
  it('finds what a whole read finds, with exact lines, whatever the chunk sizes (text beyond one window)', () => {
    const k = [awsKey(), awsKey(), awsKey()];
    const line = `${'z'.repeat(63)}\n`;
    const lines = Math.ceil((CHUNK_SIZE * 2.1) / line.length);
    const at = [10, Math.floor(CHUNK_SIZE / line.length), lines - 3];
    const parts: string[] = [];
    for (let i = 0; i < lines; i++) {
      const j = at.indexOf(i);
      parts.push(j >= 0 ? `v ${k[j]}\n` : line);
    }
    const all = Buffer.from(parts.join(''));
    const s = createChunkScanner('big.txt', ruleset, {});
    let pos = 0;
    let step = 1;
    while (pos < all.length) {
      const next = Math.min(all.length, pos + step);
      s.push(all.subarray(pos, next));
      pos = next;
      step = (step * 7 + 13) % 3_000_000 || 1;
    }
    const r = s.end();
    expect(r.findings.map((f) => [f.startLine, f.startColumn])).toEqual(at.map((l) => [l + 1, 3]));
    expect(r.bytes).toBe(all.length);
  });

  it('decodes a UTF-16LE stream across windows with exact lines and columns', () => {
    const k = [awsKey(), awsKey(), awsKey()];
    const line = `${'é'.repeat(31)}\n`; // 64 bytes a line in UTF-16
    const lines = Math.ceil((CHUNK_SIZE * 2.1) / 64);
    const at = [3, Math.floor(CHUNK_SIZE / 64) - 1, Math.floor(CHUNK_SIZE / 64) + 300, lines - 2];
    const keys = [k[0], k[1], k[2], k[0]];
    const parts: string[] = [];
    for (let i = 0; i < lines; i++) {
      const j = at.indexOf(i);
      parts.push(j >= 0 ? `é ${keys[j]}\n` : line);
    }
    const all = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(parts.join(''), 'utf16le')]);
    const s = createChunkScanner('wide.txt', ruleset, {});
    for (let i = 0; i < all.length; i += 999_999) s.push(all.subarray(i, i + 999_999));
    expect(s.end().findings.map((f) => [f.startLine, f.startColumn])).toEqual(at.map((l) => [l + 1, 3]));
  });

  it('keeps byte offsets as columns for a binary stream', () => {
    const k = awsKey();
    const bin = Buffer.alloc(CHUNK_SIZE + 100_000, 0);
    const off = CHUNK_SIZE - 5; // across the first window's end, inside the overlap
    bin.write(`=${k};`, off, 'latin1');
    const s = createChunkScanner('blob.bin', ruleset, {});
    for (let i = 0; i < bin.length; i += 1 << 20) s.push(bin.subarray(i, i + (1 << 20)));
    const r = s.end();
    expect(r.findings.map((f) => [f.startLine, f.startColumn])).toEqual([[1, off + 2]]);
  });

  it('scans short content whole, as scanUnit does', () => {
    const k = awsKey();
    const s = createChunkScanner('-', ruleset, {});
    s.push(Buffer.from('a\n'));
    s.push(Buffer.from(`b ${k}\n`));
    expect(s.end().findings.map((f) => [f.file, f.startLine, f.startColumn])).toEqual([['-', 2, 3]]);
  });
});
