/**
 * Bad input never crashes or hangs a scan: UTF-16 with a BOM is decoded, NUL bytes in text and
 * invalid UTF-8 are scanned, and a 100 MB single line (or a 100 MB file with no newline at all) is
 * scanned in windows, its secret still found; over the size limit it is counted and named in a
 * typed warning. Every file is generated here, in a temp dir, from the fixture generators.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scan } from '../../src/scan/scan.js';
import { createRng } from '../fixtures/secrets/gen-util.js';
import { secretGenerators } from '../fixtures/secrets/generators.js';
import { awsKeys } from '../helpers/git-repo.js';

const detectors = { include: ['aws-access-key-id', 'github-pat-classic'] };
const awsKey = awsKeys('bad-input');
const rng = createRng('bad-input');
const ghToken = (): string => secretGenerators['github-pat-classic']!(rng).secret;
const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const MB = 1024 * 1024;

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-bad-input-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(files: Record<string, string | Buffer>): string {
  const root = path.join(dir, `t${n++}`);
  mkdirSync(root, { recursive: true });
  for (const [rel, content] of Object.entries(files)) writeFileSync(path.join(root, rel), content);
  return root;
}

/** Writes `head`, then `size` bytes of filler without a newline, then `tail`, a megabyte at a time. */
function writeHuge(file: string, head: string, size: number, tail: string): void {
  // Words and punctuation, no keyword of the selected detectors, no newline.
  const unit = Buffer.from('lorem ipsum dolor sit amet, consectetur adipiscing elit; '.repeat(Math.ceil(MB / 57)).slice(0, MB));
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, head);
    for (let left = size; left > 0; left -= unit.length) writeSync(fd, unit, 0, Math.min(unit.length, left));
    writeSync(fd, tail);
  } finally {
    closeSync(fd);
  }
}

describe('encodings', () => {
  it.each([
    ['UTF-16LE', (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')])],
    ['UTF-16BE', (s: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(s, 'utf16le').swap16()])],
  ])('a %s file with a BOM is decoded; columns count UTF-16 code units of the decoded line', async (_name, encode) => {
    const k = awsKey();
    const t = ghToken();
    // An emoji is two UTF-16 code units, an é one: the columns must count them so.
    const prefix = 'naïve 😀 = ';
    const root = tree({ 'w.txt': encode(`[creds]\r\n${prefix}${k}\r\ntoken: ${t}\r\n`) });
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(r.findings.map((f) => [f.ruleId, f.startLine, f.startColumn, f.endColumn, f.fingerprint])).toEqual([
      ['aws-access-key-id', 2, prefix.length + 1, prefix.length + 1 + k.length, sha(k)],
      ['github-pat-classic', 3, 'token: '.length + 1, 'token: '.length + 1 + t.length, sha(t)],
    ]);
    expect(r.summary.files).toBe(1);
    expect(r.warnings).toEqual([]);
  });

  it('a text file with NUL bytes that is not binary by the rules is scanned, lines kept', async () => {
    const k = awsKey();
    const text = Buffer.concat([Buffer.from('name=app\0\nflags=\0\0\nkey = '), Buffer.from(k), Buffer.from('\n'), Buffer.from('x'.repeat(200))]);
    const r = await scan({ path: tree({ 'nul.cfg': text }), detectors, workers: 0 });
    expect(r.findings.map((f) => [f.file, f.startLine, f.startColumn, f.fingerprint])).toEqual([['nul.cfg', 3, 7, sha(k)]]);
    expect(r.summary.skipped).toBe(0);
  });

  it('invalid UTF-8 (overlongs, lone continuations, surrogates, truncated sequences) is scanned with a warning', async () => {
    const k = awsKey();
    const bad = Buffer.from([0xc0, 0xaf, 0x80, 0xbf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82, 0x20, 0xf0, 0x9f]);
    // Mostly text, so not binary by the rules (which would scan it for printable runs instead).
    const prose = Buffer.from(`${'An ordinary line of configuration text.\n'.repeat(10)}`);
    const root = tree({ 'bad.txt': Buffer.concat([prose, bad, Buffer.from(` id=${k}\n`), bad, Buffer.from('\n'), prose]) });
    for (const workers of [0, 1]) {
      const r = await scan({ path: root, detectors, workers });
      expect(r.findings.map((f) => [f.file, f.startLine, f.fingerprint])).toEqual([['bad.txt', 11, sha(k)]]);
      expect(r.warnings.map((w) => [w.code, w.file])).toEqual([['KW_INVALID_UTF8', 'bad.txt']]);
    }
  });
});

describe('huge lines', () => {
  const size = 100 * MB;
  let root: string;
  const k = awsKey();
  const t = ghToken();
  beforeAll(() => {
    root = path.join(dir, 'huge');
    mkdirSync(root);
    // One 100 MB line between two short ones, its secrets after all the filler.
    writeHuge(path.join(root, 'one-line.txt'), 'first line\n', size, ` ${k}\nlast line\n`);
    // No newline at all, the token as its last bytes.
    writeHuge(path.join(root, 'no-newline.txt'), '', size, ` token=${t}`);
  });

  it('scans a 100 MB single line and a 100 MB file with no newline, and finds what follows the filler', async () => {
    const r = await scan({ path: root, detectors, workers: 0, maxFileSize: 128 * MB });
    expect(r.findings.map((f) => [f.file, f.startLine, f.fingerprint])).toEqual([
      ['no-newline.txt', 1, sha(t)],
      ['one-line.txt', 2, sha(k)],
    ]);
    const line2 = r.findings.find((f) => f.file === 'one-line.txt')!;
    expect(line2.startColumn).toBe(size + 2);
    expect(r.summary).toMatchObject({ files: 2, skipped: 0 });
    expect(r.warnings).toEqual([]);
  });

  it('over the size limit each file is counted as too large and named in a typed warning', async () => {
    const r = await scan({ path: root, detectors, workers: 1 });
    expect(r.findings).toEqual([]);
    expect(r.summary.skippedBy).toEqual({ 'too-large': 2 });
    expect(r.warnings.map((w) => [w.code, w.file]).sort()).toEqual([
      ['KW_FILE_TOO_LARGE', 'no-newline.txt'],
      ['KW_FILE_TOO_LARGE', 'one-line.txt'],
    ]);
    for (const w of r.warnings) expect(w.message).toMatch(/--max-file-size/);
  });

  it('a 100 MB line on standard input is scanned in bounded windows, the secret after it found', async () => {
    const filler = Buffer.alloc(MB, 'abcdefgh ');
    async function* stream(): AsyncGenerator<Buffer> {
      yield Buffer.from('head\n');
      for (let i = 0; i < 100; i++) yield filler;
      yield Buffer.from(` ${k}`);
    }
    const r = await scan({ content: { stream: stream(), file: '-' }, detectors, maxFileSize: 128 * MB });
    expect(r.findings.map((f) => [f.file, f.startLine, f.startColumn, f.fingerprint])).toEqual([['-', 2, 100 * MB + 2, sha(k)]]);
    expect(r.warnings).toEqual([]);
  });

  it('a UTF-16 line longer than a window keeps its columns in code units of the decoded text', async () => {
    const units = 10 * MB;
    const body = `${'é'.repeat(units)} ${k}\n`;
    const root = tree({ 'long16.txt': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')]) });
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(r.findings.map((f) => [f.startLine, f.startColumn, f.endColumn, f.fingerprint])).toEqual([[1, units + 2, units + 2 + k.length, sha(k)]]);
  });

  it('a million short lines, and the whole catalogue on a file of keyword lines, finish with the secret found', async () => {
    const many = path.join(dir, 'many');
    mkdirSync(many);
    writeFileSync(path.join(many, 'lines.txt'), `${'a\n'.repeat(1_000_000)}${k}\n`);
    // Every generic rule's keyword on every line, no value: all windows, no finding.
    writeFileSync(path.join(many, 'kw.env'), `${'password= secret: token=> Bearer  Basic  -u a: machine default\n'.repeat(100_000)}${k}\n`);
    const r = await scan({ path: many, workers: 0 });
    expect(r.findings.map((f) => [f.file, f.startLine, f.fingerprint]).sort()).toEqual([
      ['kw.env', 100_001, sha(k)],
      ['lines.txt', 1_000_001, sha(k)],
    ]);
  }, 120_000);

  it('a line of nothing but keywords is scanned to its end', async () => {
    const kw = path.join(dir, 'keywords');
    mkdirSync(kw);
    writeFileSync(path.join(kw, 'pw.env'), `${'password=AKIA ghp_ '.repeat((8 * MB) / 19)}${k}\n`);
    const r = await scan({ path: kw, detectors, workers: 0 });
    expect(r.findings.map((f) => [f.file, f.fingerprint])).toEqual([['pw.env', sha(k)]]);
  });
});
