/**
 * Archives cannot hide a secret nor stall the scan: zip members over the size limit are read up
 * to it, a padding member cannot use the budget up unseen, a zip in a zip and a zip behind a
 * prefix are unpacked, gzip and tar.gz content is scanned; whatever is left out is counted and
 * warned; overlapping central-directory entries cost one expansion. Zips by Python's zipfile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scan } from '../../src/scan/scan.js';
import { createRuleset } from '../../src/scan/engine.js';
import { selectDetectors } from '../../src/scan/select-detectors.js';
import { createChunkScanner } from '../../src/scan/sources/read-file.js';
import { awsKeys } from '../helpers/git-repo.js';

const detectors = { include: ['aws-access-key-id'] };
const awsKey = awsKeys('content-archives');
let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-content-archives-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a Python snippet that writes archives into a fresh folder (argv[1]), the key as argv[2]. */
function archives(py: string, key: string): string {
  const root = path.join(dir, `a${n++}`);
  mkdirSync(root);
  const prelude = 'import sys, zipfile, io, gzip, tarfile, struct, zlib\nd = sys.argv[1]\nline = b"aws_access_key_id = " + sys.argv[2].encode() + b"\\n"\n';
  execFileSync('python3', ['-c', prelude + py, root, key]);
  return root;
}

const MB = 1024 * 1024;

describe('archives hide nothing silently', () => {
  it('a member over the size limit is read up to it, and the cut is counted and warned', async () => {
    const k = awsKey();
    const root = archives('with zipfile.ZipFile(d + "/big.zip", "w", zipfile.ZIP_DEFLATED) as z: z.writestr("cfg.env", line + b"A" * (3 * 1024 * 1024))', k);
    const r = await scan({ path: root, detectors, workers: 0, maxFileSize: 1 * MB });
    expect(r.findings.map((f) => [f.file, f.member, f.startLine])).toEqual([['big.zip', 'cfg.env', 1]]);
    expect(r.summary.skippedBy).toEqual({ 'too-large': 1 });
    expect(r.warnings.map((w) => w.code)).toEqual(['KW_ARCHIVE_PARTIAL']);
  });

  it('a padding member cannot use the budget up before a small member; the padding cut is counted', async () => {
    const k = awsKey();
    const root = archives(
      'with zipfile.ZipFile(d + "/pad.zip", "w", zipfile.ZIP_DEFLATED) as z:\n  z.writestr("pad.bin", b"A" * (1024 * 1024 - 10)); z.writestr("cfg.env", line)',
      k,
    );
    const r = await scan({ path: root, detectors, workers: 0, maxFileSize: 1 * MB });
    expect(r.findings.map((f) => [f.member, f.startLine])).toEqual([['cfg.env', 1]]);
    expect(r.summary.skippedBy).toEqual({ 'too-large': 1 });
    expect(r.warnings[0]!.message).toContain('pad.bin');
  });

  it('a zip in a zip, a zip behind a shell stub, a .gz and a .tgz: all found', async () => {
    const k = awsKey();
    const root = archives(
      [
        'inner = io.BytesIO()',
        'with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z: z.writestr("cfg.env", line)',
        'with zipfile.ZipFile(d + "/nested.zip", "w", zipfile.ZIP_DEFLATED) as z: z.writestr("inner.zip", inner.getvalue())',
        'b = io.BytesIO()',
        'with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z: z.writestr("cfg.env", line)',
        'open(d + "/prefixed.jar", "wb").write(b"#!/bin/sh\\nexec java -jar \\"$0\\"\\n" + b"\\0" * 64 + b.getvalue())',
        'open(d + "/env.gz", "wb").write(gzip.compress(line))',
        'with tarfile.open(d + "/backup.tgz", "w:gz") as t:',
        '  info = tarfile.TarInfo(".env"); info.size = len(line); t.addfile(info, io.BytesIO(line))',
      ].join('\n'),
      k,
    );
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(r.findings.map((f) => [f.file, f.member])).toEqual([
      ['backup.tgz', 'backup.tgz'], // the name Python's tarfile records in the gzip header
      ['env.gz', 'env'],
      ['nested.zip', 'inner.zip!/cfg.env'],
      ['prefixed.jar', 'cfg.env'],
    ]);
    expect(r.summary.skipped).toBe(0);
    expect(r.warnings).toEqual([]);
  });

  it('an archive at the third level is not unpacked, and says so', async () => {
    const k = awsKey();
    const root = archives(
      [
        'def z(name, data):',
        '  b = io.BytesIO()',
        '  with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as f: f.writestr(name, data)',
        '  return b.getvalue()',
        'open(d + "/deep.zip", "wb").write(z("l1.zip", z("l2.zip", z("cfg.env", line))))',
      ].join('\n'),
      k,
    );
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(r.findings).toEqual([]);
    expect(r.warnings.map((w) => [w.code, w.message.includes('nested too deep')])).toEqual([['KW_ARCHIVE_PARTIAL', true]]);
  });

  it('an archive streamed past one window is still unpacked', () => {
    const k = awsKey();
    const root = archives(
      [
        'import os',
        'with zipfile.ZipFile(d + "/big.zip", "w", zipfile.ZIP_STORED) as z:',
        '  z.writestr("noise.bin", os.urandom(9 * 1024 * 1024))',
        '  z.writestr("cfg.env", line, compress_type=zipfile.ZIP_DEFLATED)',
      ].join('\n'),
      k,
    );
    const bytes = readFileSync(path.join(root, 'big.zip'));
    const s = createChunkScanner('-', createRuleset(selectDetectors(detectors)), {});
    for (let i = 0; i < bytes.length; i += MB) s.push(bytes.subarray(i, i + MB));
    expect(s.end().findings.map((f) => f.member)).toEqual(['cfg.env']);
  });
});

describe('archives cannot stall the scan', () => {
  it('thousands of central-directory entries for one member that inflates past the limit: one expansion, counted', async () => {
    const root = archives(
      [
        'N = 5000',
        'raw = zlib.compressobj(9, zlib.DEFLATED, -15); data = raw.compress(b"A" * (60 * 1024 * 1024)) + raw.flush()',
        'local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8, 0, 0, 0, len(data), 1, 1, 0) + b"m" + data',
        'cd = b""',
        'for i in range(N):',
        '  nm = b"m%05d" % i',
        '  cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 8, 0, 0, 0, len(data), 1, len(nm), 0, 0, 0, 0, 0, 0) + nm',
        'eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, N, N, len(cd), len(local), 0)',
        'open(d + "/bomb.zip", "wb").write(local + cd + eocd)',
      ].join('\n'),
      'unused',
    );
    const started = performance.now();
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(r.summary.skippedBy).toEqual({ 'too-large': 1 });
    expect(r.warnings.map((w) => w.code)).toEqual(['KW_ARCHIVE_PARTIAL']);
  });

  it('distinct members that each inflate past the limit share one budget', async () => {
    const root = archives(
      'with zipfile.ZipFile(d + "/many.zip", "w", zipfile.ZIP_DEFLATED) as z:\n  for i in range(200): z.writestr("m%d" % i, b"A" * (2 * 1024 * 1024))',
      'unused',
    );
    const started = performance.now();
    const r = await scan({ path: root, detectors, workers: 0, maxFileSize: 1 * MB });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(r.warnings[0]!.message).toMatch(/^many\.zip is an archive not scanned in full: 200 member/);
  });
});
