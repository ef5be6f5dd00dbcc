/**
 * A content kind adds views of the bytes, never takes one away: a forged BOM, magic bytes of an
 * image, or a change of encoding past the sniffed start hides no secret, in a tree, a git range,
 * the history or a stream; and a secret two views see is reported once. Real files and real git
 * repositories; every secret from the generators.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { scan } from '../../src/scan/scan.js';
import { createRuleset } from '../../src/scan/engine.js';
import { selectDetectors } from '../../src/scan/select-detectors.js';
import { CHUNK_SIZE, classifyContent, createChunkScanner, scanUnit } from '../../src/scan/sources/read-file.js';
import { awsKeys, git } from '../helpers/git-repo.js';

const detectors = { include: ['aws-access-key-id'] };
const ruleset = createRuleset(selectDetectors(detectors));
const awsKey = awsKeys('content-views');

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-content-views-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A git repository with these files committed: scanned as a tree, a range and the history. */
function repo(files: Record<string, Buffer>): string {
  const root = path.join(dir, `r${n++}`);
  mkdirSync(root);
  git(root, 'init', '-q', '-b', 'main');
  for (const [rel, content] of Object.entries(files)) writeFileSync(path.join(root, rel), content);
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'init');
  return root;
}

type Row = [string, number];
const rows = (r: { findings: { file: string; startLine: number }[] }): Row[] => r.findings.map((f) => [f.file, f.startLine]);

/** The findings of every mode: tree, range, history, stream (the stream in odd-sized chunks). */
async function everyMode(files: Record<string, Buffer>): Promise<Record<string, Row[]>> {
  const root = repo(files);
  const tree = await scan({ path: root, detectors, workers: 0 });
  const range = await scan({ path: root, detectors, workers: 0, git: { range: 'HEAD' } });
  const history = await scan({ path: root, detectors, workers: 0, git: { history: true } });
  const stream: Row[] = [];
  for (const [name, content] of Object.entries(files)) {
    const s = createChunkScanner(name, ruleset, {});
    for (let i = 0; i < content.length; i += 7777) s.push(content.subarray(i, i + 7777));
    stream.push(...rows(s.end()));
  }
  return { tree: rows(tree), range: rows(range), history: rows(history), stream };
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const le = (s: string): Buffer => Buffer.from(s, 'utf16le');
const be = (s: string): Buffer => Buffer.from(s, 'utf16le').swap16();

describe('a BOM is trusted only when UTF-16 follows', () => {
  it('ff fe or fe ff in front of an ordinary .env hides nothing: it is text, on its raw lines, in every mode', async () => {
    const k = awsKey();
    const body = `# settings\naws_access_key_id = ${k}\n`;
    const files = { 'le.env': Buffer.concat([Buffer.from([0xff, 0xfe]), ascii(body)]), 'be.env': Buffer.concat([Buffer.from([0xfe, 0xff]), ascii(body)]) };
    expect(classifyContent(files['le.env'])).toBe('text');
    expect(classifyContent(files['be.env'])).toBe('text');
    const want = [
      ['be.env', 2],
      ['le.env', 2],
    ];
    const got = await everyMode(files);
    for (const mode of ['tree', 'range', 'history']) expect(got[mode]).toEqual(want);
    expect(got.stream).toEqual([...want].reverse());
  });

  it('real UTF-16 with a BOM is still decoded (lines of the decoded text), and reported once though two views see it', () => {
    const k = awsKey();
    for (const bytes of [Buffer.concat([Buffer.from([0xff, 0xfe]), le(`first\nkey: ${k}\n`)]), Buffer.concat([Buffer.from([0xfe, 0xff]), be(`first\nkey: ${k}\n`)])]) {
      expect(classifyContent(bytes)).toMatch(/^utf16/);
      expect(scanUnit({ file: 'w.txt', content: bytes }, ruleset, {}).findings.map((f) => [f.startLine, f.startColumn])).toEqual([[2, 6]]);
    }
  });
});

describe('mixed encodings', () => {
  it('UTF-16 then plain ASCII, text then UTF-16 (LE or BE, past the sniffed start), UTF-16 knocked off its alignment: all found, in every mode', async () => {
    const k = awsKey();
    const line = `aws_access_key_id = ${k}\n`;
    const files = {
      'a_utf16_then_ascii.txt': Buffer.concat([Buffer.from([0xff, 0xfe]), le('hello world\n'), ascii(line)]),
      'b_text_then_utf16le.log': Buffer.concat([ascii('log line of text\n'.repeat(600)), le(line)]),
      'c_text_then_utf16be.log': Buffer.concat([ascii('log line of text\n'.repeat(600)), be(line)]),
      'd_utf16_misaligned.txt': Buffer.concat([Buffer.from([0xff, 0xfe]), le('hello world\n'.repeat(50)), Buffer.from([0x41]), le(line)]),
    };
    expect(classifyContent(files['b_text_then_utf16le.log'])).toBe('text');
    const got = await everyMode(files);
    // Text keeps its contract: a UTF-16 run found in it sits on the raw line it starts on (601).
    const want: Row[] = [
      ['a_utf16_then_ascii.txt', 1],
      ['b_text_then_utf16le.log', 601],
      ['c_text_then_utf16be.log', 601],
      ['d_utf16_misaligned.txt', 1],
    ];
    for (const mode of ['tree', 'range', 'history', 'stream']) expect(got[mode]).toEqual(want);
  });

  it('a text stream longer than one window with a UTF-16 secret past the first window: on its raw line', () => {
    const k = awsKey();
    const filler = `${'t'.repeat(63)}\n`;
    const lines = Math.ceil((CHUNK_SIZE * 1.3) / filler.length);
    const all = Buffer.concat([ascii(filler.repeat(lines)), le(`k=${k}\n`)]);
    const s = createChunkScanner('big.log', ruleset, {});
    for (let i = 0; i < all.length; i += 1 << 20) s.push(all.subarray(i, i + (1 << 20)));
    expect(s.end().findings.map((f) => f.startLine)).toEqual([lines + 1]);
  });

  it('the same secret in ASCII and in UTF-16 of one text file is one finding (two views of one secret)', () => {
    const k = awsKey();
    const bytes = Buffer.concat([ascii(`key = ${k}\n`), le(`key = ${k}\n`)]);
    const r = scanUnit({ file: 'x.txt', content: bytes }, ruleset, {});
    expect(r.findings.map((f) => [f.startLine, f.startColumn])).toEqual([[1, 7]]);
  });
});

describe('media is scanned for printable runs', () => {
  it('PNG magic + NULs, ftyp at offset 4, an MP3 frame sync: found in every mode, nothing skipped', async () => {
    const k = awsKey();
    const s = ascii(`aws_access_key_id = ${k}\n`);
    const files = {
      'logo.png': Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200), s]),
      'notes.txt': Buffer.concat([ascii('\0\0\0\0ftyp'), Buffer.alloc(200), s]),
      'x.cfg': Buffer.concat([Buffer.from([0xff, 0xfb]), Buffer.alloc(100, 1), ascii('\n'), s]),
    };
    expect(Object.values(files).map(classifyContent)).toEqual(['media', 'media', 'media']);
    const want: Row[] = [
      ['logo.png', 1],
      ['notes.txt', 1],
      ['x.cfg', 1],
    ];
    const got = await everyMode(files);
    for (const mode of ['tree', 'range', 'history', 'stream']) expect(got[mode]).toEqual(want);
  });

  it('a real PNG with the secret in a tEXt chunk', async () => {
    const k = awsKey();
    const chunk = (type: string, data: Buffer): Buffer => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      const body = Buffer.concat([ascii(type), data]);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(zlib.crc32(body));
      return Buffer.concat([len, body, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(1, 0);
    ihdr.writeUInt32BE(1, 4);
    ihdr[8] = 8;
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('tEXt', ascii(`Comment\0aws_access_key_id=${k}`)),
      chunk('IDAT', zlib.deflateSync(Buffer.from([0, 0]))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    const root = repo({ 'icon.png': png });
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(rows(r)).toEqual([['icon.png', 1]]);
    expect(r.summary.skipped).toBe(0);
  });
});
