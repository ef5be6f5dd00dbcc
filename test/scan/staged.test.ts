/**
 * `scan --staged`: what the index adds against HEAD, and nothing else (not the work tree, not
 * what HEAD already holds), judged by HEAD's settings. Real git repositories; fake keys only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { scan } from '../../src/scan/scan.js';
import { awsKeys, git, gitTestEnv, initRepo } from '../helpers/git-repo.js';

let dir: string;
let n = 0;
const awsKey = awsKeys('staged');

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-staged-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function newRepo(): string {
  const repo = path.join(dir, `r${n++}`);
  initRepo(repo);
  return repo;
}

function put(repo: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    writeFileSync(path.join(repo, rel), content);
  }
}

function commitAll(repo: string, files: Record<string, string | Buffer>): void {
  put(repo, files);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'change');
}

const staged = async (repo: string, extra: { indexFile?: string } = {}) => scan({ path: repo, git: { staged: true, ...extra }, workers: 0 });
const where = (r: Awaited<ReturnType<typeof staged>>): [string, number][] => r.findings.map((f) => [f.file, f.startLine]);

async function cli(repo: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false, cwd: repo, env });
  return { code, out, err };
}

describe('scan --staged', () => {
  it('finds a staged secret and ignores what only the work tree holds', async () => {
    const repo = newRepo();
    const [a, b] = [awsKey(), awsKey()];
    put(repo, { 'app.env': `AWS_ACCESS_KEY_ID=${a}\n` });
    git(repo, 'add', 'app.env');
    // Changed after staging, and an untracked file: neither is in the commit.
    put(repo, { 'app.env': `AWS_ACCESS_KEY_ID=${a}\nOTHER=${b}\n`, 'loose.txt': `k = ${b}\n` });
    const r = await staged(repo);
    expect(where(r)).toEqual([['app.env', 1]]);
    expect(r.findings[0]!.commit).toBeUndefined();
    expect(JSON.stringify(r)).not.toContain(b);
    expect(r.summary.commits).toBeUndefined();
  });

  it('ignores secrets HEAD already holds that the index does not add', async () => {
    const repo = newRepo();
    const old = awsKey();
    commitAll(repo, { 'cfg.ini': `[aws]\nkey = ${old}\nregion = eu\n` });
    put(repo, { 'cfg.ini': `[aws]\nkey = ${old}\nregion = us\n` });
    git(repo, 'add', 'cfg.ini');
    expect(where(await staged(repo))).toEqual([]);
    const fresh = awsKey();
    put(repo, { 'cfg.ini': `[aws]\nkey = ${old}\nregion = us\nkey2 = ${fresh}\n` });
    git(repo, 'add', 'cfg.ini');
    expect(where(await staged(repo))).toEqual([['cfg.ini', 4]]);
  });

  it('scans everything in a repository with no commit yet', async () => {
    const repo = path.join(dir, `r${n++}`);
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    expect(where(await staged(repo))).toEqual([]); // nothing staged yet
    put(repo, { 'a/b.txt': `x\naws = ${awsKey()}\n` });
    git(repo, 'add', '-A');
    expect(where(await staged(repo))).toEqual([['a/b.txt', 2]]);
  });

  it('a staged deletion adds nothing; a staged binary blob is scanned whole', async () => {
    const repo = newRepo();
    commitAll(repo, { 'gone.txt': `k = ${awsKey()}\n` });
    git(repo, 'rm', '-q', 'gone.txt');
    const del = await staged(repo);
    expect(del.findings).toEqual([]);
    expect(del.summary.files).toBe(0);
    put(repo, { 'blob.bin': Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0]), Buffer.from(`\0aws_access_key_id=${awsKey()}\0`), Buffer.alloc(64)]) });
    git(repo, 'add', 'blob.bin');
    expect((await staged(repo)).findings.map((f) => f.file)).toEqual(['blob.bin']);
  });

  it('a rename counts as a new file, as it does for a range (no rename detection)', async () => {
    const repo = newRepo();
    commitAll(repo, { 'old.txt': `k = ${awsKey()}\n` });
    git(repo, 'mv', 'old.txt', 'new.txt');
    const before = where(await staged(repo));
    expect(before).toEqual([['new.txt', 1]]);
    git(repo, 'commit', '-qm', 'rename');
    const range = await scan({ path: repo, git: { range: 'HEAD^..HEAD' }, workers: 0 });
    expect(range.findings.map((f) => [f.file, f.startLine])).toEqual(before);
  });

  it('shows names with newlines and invalid UTF-8 safely', async () => {
    const repo = newRepo();
    const k = awsKey();
    put(repo, { 'line\nbreak.txt': `k = ${k}\n` });
    writeFileSync(Buffer.from(path.join(repo, 'bad-\xff.txt'), 'latin1'), `k = ${k}\n`);
    git(repo, 'add', '-A');
    const files = (await staged(repo)).findings.map((f) => f.file).sort();
    expect(files).toEqual(['bad-\\xff.txt', 'line\nbreak.txt']);
    const r = await cli(repo, ['scan', '--staged', '.', '--no-progress']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('line\\nbreak.txt');
  });

  it('reads the index that GIT_INDEX_FILE names (git commit -a stages into one)', async () => {
    const repo = newRepo();
    const index = path.join(dir, `index-${n}`);
    put(repo, { 'other.txt': `k = ${awsKey()}\n` });
    execFileSync('git', ['-c', 'core.hooksPath=/dev/null', 'add', 'other.txt'], { cwd: repo, env: { ...gitTestEnv, GIT_INDEX_FILE: index } });
    expect(where(await staged(repo))).toEqual([]);
    expect(where(await staged(repo, { indexFile: index }))).toEqual([['other.txt', 1]]);
    const r = await cli(repo, ['scan', '--staged', '-f', 'json'], { GIT_INDEX_FILE: index });
    expect(r.code).toBe(1);
    expect((JSON.parse(r.out) as { file: string }[]).map((f) => f.file)).toEqual(['other.txt']);
  });
});

describe('scan --staged judges with HEAD\'s settings', () => {
  it('a staged policy that ignores every path does not hide the secret it stages', async () => {
    const repo = newRepo();
    put(repo, { '.github/keywarden.yml': 'version: 1\nsecrets:\n  ignore-paths: ["**"]\n', 'leak.txt': `k = ${awsKey()}\n` });
    git(repo, 'add', '-A');
    const r = await cli(repo, ['scan', '--staged', '-f', 'json']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.out) as { file: string }[]).map((f) => f.file)).toEqual(['leak.txt']);
    expect(r.err).toContain('KW_POLICY_CHANGED_IN_RANGE');
  });

  it('HEAD\'s policy applies, and a staged edit of it is only reported', async () => {
    const repo = newRepo();
    commitAll(repo, { '.github/keywarden.yml': 'version: 1\nsecrets:\n  ignore-paths: ["fixtures/**"]\n' });
    put(repo, { 'fixtures/k.txt': `k = ${awsKey()}\n`, 'src/k.txt': `k = ${awsKey()}\n` });
    git(repo, 'add', '-A');
    let r = await cli(repo, ['scan', '--staged', '-f', 'json']);
    expect((JSON.parse(r.out) as { file: string }[]).map((f) => f.file)).toEqual(['src/k.txt']);
    expect(r.err).not.toContain('KW_POLICY_CHANGED_IN_RANGE');
    put(repo, { '.github/keywarden.yml': 'version: 1\nsecrets:\n  ignore-paths: ["**"]\n' });
    git(repo, 'add', '-A');
    r = await cli(repo, ['scan', '--staged', '-f', 'json']);
    expect((JSON.parse(r.out) as { file: string }[]).map((f) => f.file)).toEqual(['src/k.txt']);
    expect(r.err).toContain('KW_POLICY_CHANGED_IN_RANGE');
  });

  it('a tracked baseline is read at HEAD: staging a baseline that accepts the staged secret does not hide it', async () => {
    const repo = newRepo();
    put(repo, { 'k.txt': `k = ${awsKey()}\n` });
    git(repo, 'add', 'k.txt');
    expect((await cli(repo, ['scan', '--staged', '--baseline', 'kb.json', '--update-baseline'])).code).toBe(0);
    git(repo, 'add', 'kb.json');
    let r = await cli(repo, ['scan', '--staged', '--baseline', 'kb.json', '-f', 'json']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.out) as { file: string }[]).map((f) => f.file)).toEqual(['k.txt']);
    expect(r.err).toContain('KW_POLICY_CHANGED_IN_RANGE');
    // Once HEAD holds the baseline, it accepts the secret wherever it is staged again.
    git(repo, 'commit', '-qm', 'accept');
    put(repo, { 'copy.txt': readFileSync(path.join(repo, 'k.txt')) });
    git(repo, 'add', 'copy.txt');
    r = await cli(repo, ['scan', '--staged', '--baseline', 'kb.json', '-f', 'json']);
    expect(r.code, r.err).toBe(0);
  });

  it('refuses --staged with another mode', async () => {
    const repo = newRepo();
    for (const other of [['--git', 'HEAD'], ['--history'], ['--stdin']]) {
      const r = await cli(repo, ['scan', '--staged', ...other]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('KW_USAGE');
    }
  });
});
