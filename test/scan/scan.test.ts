import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scan } from '../../src/scan/scan.js';
import { CHUNK_SIZE } from '../../src/scan/sources/read-file.js';
import type { DetectorSelection } from '../../src/scan/select-detectors.js';
import { isKeywardenError } from '../../src/errors.js';

// Only a synthetic token type: these tests are about sources, threads and bookkeeping.
const selection: DetectorSelection = {
  builtins: false,
  custom: [{ id: 'test-token', pattern: '\\btstk_[A-Za-z0-9]{24}\\b' }],
};
const tok = (): string => `tstk_${randomBytes(40).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 24)}`;
const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

let dir: string;
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.test', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.test' },
  });

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-scan-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string | Buffer>): string {
  const root = path.join(dir, name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  return root;
}

describe.each([0, 2])('tree scan with %i workers', (workers) => {
  it('honours .gitignore (nested too), skips binaries and big files with a count, reports relative paths', async () => {
    const t = [tok(), tok(), tok(), tok(), tok()];
    const root = tree(`tree-${workers}`, {
      '.gitignore': 'ignored/\n*.log\n',
      'src/a.js': `const a = "${t[0]}";\n`,
      'src/deep/b.py': `\n\nB = '${t[1]}'\n`,
      'src/deep/.gitignore': 'local.txt\n',
      'src/deep/local.txt': `${t[2]}\n`,
      'ignored/c.js': `${t[3]}\n`,
      'app.log': `${t[3]}\n`,
      'img.bin': Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(t[4]!)]),
      'big.txt': `${t[4]}\n${'x'.repeat(5000)}\n`,
    });
    const r = await scan({ path: root, detectors: selection, workers, maxFileSize: 4096, gitignore: true });
    // A binary is scanned for printable runs: neither its extension nor a NUL byte hides a secret.
    expect(r.findings.map((f) => [f.file, f.startLine, f.fingerprint])).toEqual([
      ['img.bin', 1, sha(t[4]!)],
      ['src/a.js', 1, sha(t[0]!)],
      ['src/deep/b.py', 3, sha(t[1]!)],
    ]);
    // What the .gitignore files excluded is counted, never silently left out.
    expect(r.summary.skippedBy).toEqual({ 'too-large': 1, gitignored: 3 });
    expect(r.summary.skipped).toBe(4);
    expect(r.summary.files).toBe(5); // .gitignore ×2, a.js, b.py, img.bin
    expect(r.skipped.filter((s) => s.reason === 'gitignored').map((s) => s.file).sort()).toEqual(['app.log', 'ignored/c.js', 'src/deep/local.txt']);
  });

  it('outside a git work tree scans what a .gitignore names: it means nothing to git there', async () => {
    const t = [tok(), tok()];
    const root = tree(`unpacked-${workers}`, {
      '.gitignore': '.env\n*.pem\ndist/\n',
      '.env': `TOKEN=${t[0]}\n`,
      'dist/bundle.js': `var k="${t[1]}";\n`,
    });
    const r = await scan({ path: root, detectors: selection, workers });
    expect(r.findings.map((f) => f.file).sort()).toEqual(['.env', 'dist/bundle.js']);
    expect(r.summary.skippedBy).toEqual({});
  });
});

describe('big files', () => {
  it('streams files above the chunk size and keeps exact lines across chunk borders', async () => {
    const t = [tok(), tok(), tok()];
    const line = `${'y'.repeat(99)}\n`;
    const lines: string[] = [];
    const total = Math.ceil((CHUNK_SIZE * 2.2) / line.length);
    const at = [Math.floor(CHUNK_SIZE / line.length) - 1, Math.floor(CHUNK_SIZE / line.length) + 300, total - 5];
    for (let i = 0; i < total; i++) {
      const k = at.indexOf(i);
      lines.push(k >= 0 ? `key ${t[k]}\n` : line);
    }
    const root = tree('big', { 'huge.txt': lines.join('') });
    const r = await scan({ path: root, detectors: selection, workers: 0 });
    expect(r.findings.map((f) => [f.startLine, f.fingerprint])).toEqual(at.map((l, k) => [l + 1, sha(t[k]!)]));
  });
});

describe('bad input', () => {
  it('throws a typed error for a missing path', async () => {
    await expect(scan({ path: path.join(dir, 'nope'), detectors: selection })).rejects.toMatchObject({ code: 'KW_PATH_NOT_FOUND' });
  });

  it('warns about invalid UTF-8, scans a symlink as its target path, and scans the rest', async () => {
    const t = [tok(), tok()];
    const root = tree('bad', {
      'latin1.txt': Buffer.concat([Buffer.from([0xe9, 0xff, 0x20]), Buffer.from(`k=${t[0]}\n`)]),
      'ok.txt': `${t[1]}\n`,
    });
    git(root, 'init', '-q');
    symlinkSync('loop', path.join(root, 'loop'));
    const r = await scan({ path: root, detectors: selection, workers: 0 });
    expect(r.findings.map((f) => f.file)).toEqual(['latin1.txt', 'ok.txt']);
    expect(r.warnings.map((w) => [w.code, w.file])).toEqual(expect.arrayContaining([['KW_INVALID_UTF8', 'latin1.txt']]));
    expect(r.summary.skippedBy.unreadable).toBeUndefined();
  });

  it('rejects an unknown detector and an invalid custom pattern with typed errors', async () => {
    await expect(scan({ path: dir, detectors: { include: ['no-such-detector'] } })).rejects.toMatchObject({ code: 'KW_DETECTOR_INVALID' });
    const e = await scan({ path: dir, detectors: { custom: [{ id: 'bad', pattern: '(unclosed' }] } }).catch((x: unknown) => x);
    expect(isKeywardenError(e) && e.code).toBe('KW_DETECTOR_INVALID');
  });
});

describe('git sources', () => {
  let repo: string;
  const t = [tok(), tok(), tok(), tok()];
  let c1: string;
  let c2: string;
  let c3: string;
  beforeAll(() => {
    repo = path.join(dir, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(path.join(repo, 'a.txt'), `one\ntwo ${t[0]}\n`);
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'first');
    c1 = git(repo, 'rev-parse', 'HEAD').trim();
    writeFileSync(path.join(repo, 'a.txt'), `one\ntwo ${t[0]}\nthree\nfour ${t[1]}\n`);
    writeFileSync(path.join(repo, 'b.txt'), `${t[2]}\n`);
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'second');
    c2 = git(repo, 'rev-parse', 'HEAD').trim();
    // The same blob again under another name: history scans it once.
    writeFileSync(path.join(repo, 'copy.txt'), `${t[2]}\n`);
    writeFileSync(path.join(repo, 'b.txt'), `clean\n`);
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'third');
    c3 = git(repo, 'rev-parse', 'HEAD').trim();
    git(repo, 'checkout', '-qb', 'side', c1);
    writeFileSync(path.join(repo, 'side.txt'), `x\n${t[3]}\n`);
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'side');
    git(repo, 'checkout', '-q', 'main');
  });

  it('scans only the lines a range added, with commit and author', async () => {
    const r = await scan({ path: repo, git: { range: `${c1}..${c3}` }, detectors: selection, workers: 0 });
    expect(r.findings.map((f) => [f.file, f.startLine, f.commit, f.author, f.authorEmail, f.fingerprint])).toEqual([
      ['a.txt', 4, c2, 'Ada', 'ada@example.test', sha(t[1]!)],
      ['b.txt', 1, c2, 'Ada', 'ada@example.test', sha(t[2]!)],
      ['copy.txt', 1, c3, 'Ada', 'ada@example.test', sha(t[2]!)],
    ]);
    expect(r.summary.commits).toBe(2);
  });

  it('accepts a single revision as that commit alone', async () => {
    const r = await scan({ path: repo, git: { range: c1 }, detectors: selection, workers: 2 });
    expect(r.findings.map((f) => [f.file, f.startLine, f.commit])).toEqual([['a.txt', 2, c1]]);
  });

  it('scans every blob of the history once, from every branch, attributed to the commit that added it', async () => {
    const r = await scan({ path: repo, git: { history: true }, detectors: selection, workers: 2 });
    const rows = r.findings.map((f) => [f.file, f.fingerprint, f.commit]);
    expect(rows).toContainEqual(['a.txt', sha(t[0]!), c1]);
    expect(rows).toContainEqual(['a.txt', sha(t[1]!), c2]);
    expect(rows).toContainEqual(['b.txt', sha(t[2]!), c2]);
    expect(rows).toContainEqual(['side.txt', sha(t[3]!), expect.any(String)]);
    // a.txt at c2 contains t[0] again: a new blob, so it is reported there too; copy.txt shares b.txt's blob.
    expect(rows.filter((x) => x[0] === 'copy.txt')).toEqual([]);
    expect(r.summary.commits).toBe(4);
  });

  it('gives typed errors for a bad range and for a directory that is not a repository', async () => {
    await expect(scan({ path: repo, git: { range: 'main..nope' }, detectors: selection })).rejects.toMatchObject({ code: 'KW_BAD_REVISION_RANGE' });
    await expect(scan({ path: repo, git: { range: '--output=x' }, detectors: selection })).rejects.toMatchObject({ code: 'KW_BAD_REVISION_RANGE' });
    const plain = tree('plain', { 'x.txt': 'x' });
    await expect(scan({ path: plain, git: { history: true }, detectors: selection })).rejects.toMatchObject({ code: 'KW_NOT_A_GIT_REPO' });
  });
});

describe('content and baseline', () => {
  it('scans a buffer and drops findings whose fingerprint the baseline accepts', async () => {
    const t = [tok(), tok()];
    const bytes = Buffer.from(`${t[0]}\n${t[1]}\n`);
    const baseline = { version: 1 as const, secrets: { [sha(t[0]!)]: { ruleId: 'test-token' } } };
    const r = await scan({ content: { bytes, file: 'stdin.txt' }, detectors: selection, baseline });
    expect(r.findings.map((f) => [f.file, f.startLine])).toEqual([['stdin.txt', 2]]);
    expect(r.summary.suppressed).toBe(1);
  });
});

describe('deep pass', () => {
  it('--secretlint adds what only secretlint reports and never duplicates what we found', async () => {
    const t = tok();
    // A basic-auth URL secretlint reports; with no built-in detectors enabled only it can find it.
    const user = 'deploy';
    const pass = randomBytes(12).toString('hex');
    const bytes = Buffer.from(`a = "${t}"\nurl = "https://${user}:${pass}@git.example.test/repo.git"\n`);
    const r = await scan({ content: { bytes, file: 'x.js' }, detectors: selection, secretlint: true, workers: 1 });
    expect(r.findings.map((f) => f.ruleId)).toEqual(['test-token', 'secretlint/basicauth']);
    expect(JSON.stringify(r)).not.toContain(pass);
  });
});
