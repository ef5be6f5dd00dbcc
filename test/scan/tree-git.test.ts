/**
 * Tree scans inside git: submodules are reported as not scanned (and scanned with
 * `recurseSubmodules`), and a hostile `.git/config` can neither run a command nor hide a file
 * nor make the scan list files outside the root. Real git repositories.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { scan } from '../../src/scan/scan.js';
import { main } from '../../src/cli/main.js';
import { awsKeys } from '../helpers/git-repo.js';

const detectors = { include: ['aws-access-key-id'] };
const awsKey = awsKeys('tree-git');
const env = { ...process.env, GIT_AUTHOR_NAME: 'Eve', GIT_AUTHOR_EMAIL: 'e@example.test', GIT_COMMITTER_NAME: 'Eve', GIT_COMMITTER_EMAIL: 'e@example.test' };
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'protocol.file.allow=always', ...args], { cwd, encoding: 'utf8', env });

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-tree-git-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function repo(files: Record<string, string>): string {
  const root = path.join(dir, `r${n++}`);
  mkdirSync(root);
  git(root, 'init', '-q', '-b', 'main');
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'init');
  return root;
}

describe('submodules', () => {
  let parent: string;
  let subKey: string;
  beforeAll(() => {
    subKey = awsKey();
    const lib = repo({ 'lib/config.js': `export const key = '${subKey}';\n` });
    const unused = repo({ 'x.txt': 'x\n' });
    parent = repo({ 'app.js': 'console.log(1);\n' });
    git(parent, 'submodule', '--quiet', 'add', lib, 'vendor/lib');
    git(parent, 'submodule', '--quiet', 'add', unused, 'vendor/unused');
    git(parent, 'commit', '-qm', 'submodules');
    // One submodule not checked out: its directory is there, empty.
    git(parent, 'submodule', '--quiet', 'deinit', '-f', 'vendor/unused');
  });

  it('are counted as submodule, not scanned and not unreadable', async () => {
    const r = await scan({ path: parent, detectors, workers: 0 });
    expect(r.findings).toEqual([]);
    expect(r.summary.skippedBy).toEqual({ submodule: 2 });
    expect(r.skipped.map((s) => [s.file, s.reason])).toEqual([
      ['vendor/lib', 'submodule'],
      ['vendor/unused', 'submodule'],
    ]);
  });

  it('are scanned with recurseSubmodules (the one not checked out is still counted)', async () => {
    const r = await scan({ path: parent, detectors, workers: 0, recurseSubmodules: true });
    expect(r.findings.map((f) => [f.file, f.startLine])).toEqual([['vendor/lib/lib/config.js', 1]]);
    expect(r.summary.skippedBy).toEqual({ submodule: 1 });
  });

  it('an embedded repository (untracked, with its own .git) is counted the same way', async () => {
    const root = repo({ 'a.txt': 'a\n' });
    const k = awsKey();
    const nested = path.join(root, 'tools');
    mkdirSync(nested);
    git(nested, 'init', '-q');
    writeFileSync(path.join(nested, 'k.env'), `K=${k}\n`);
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(r.findings).toEqual([]);
    expect(r.skipped).toEqual([{ file: 'tools', reason: 'submodule', detail: 'embedded repository' }]);
    const deep = await scan({ path: root, detectors, workers: 0, recurseSubmodules: true });
    expect(deep.findings.map((f) => f.file)).toEqual(['tools/k.env']);
  });

  it('--recurse-submodules on the command line', async () => {
    const run = async (args: string[]): Promise<{ code: number; out: string }> => {
      let out = '';
      const code = await main(args, { stdout: (s) => void (out += s), stderr: () => undefined, isTTY: false, cwd: parent, env: {}, stdin: Readable.from([]) });
      return { code, out };
    };
    expect((await run(['scan', '.', '--no-config', '--detectors', 'aws-access-key-id', '--workers', '0', '-q'])).code).toBe(0);
    const deep = await run(['scan', '.', '--no-config', '--detectors', 'aws-access-key-id', '--workers', '0', '-q', '--recurse-submodules', '-f', 'json']);
    expect(deep.code).toBe(1);
    expect((JSON.parse(deep.out) as { file: string }[]).map((f) => f.file)).toEqual(['vendor/lib/lib/config.js']);
  });
});

describe('a hostile .git/config', () => {
  it('core.fsmonitor runs nothing, core.excludesFile hides nothing, core.worktree lists nothing outside', async () => {
    const k = [awsKey(), awsKey(), awsKey()];
    const root = repo({ 'tracked.env': `A=${k[0]}\n` });
    writeFileSync(path.join(root, 'untracked.env'), `B=${k[1]}\n`);
    // Somewhere else, with a secret git would list if it took the config's word for the work tree.
    const elsewhere = path.join(dir, `elsewhere-${n++}`);
    mkdirSync(elsewhere);
    writeFileSync(path.join(elsewhere, 'far.env'), `C=${k[2]}\n`);
    const marker = path.join(dir, `marker-${n++}`);
    const hook = path.join(dir, `fsmonitor-${n++}.sh`);
    writeFileSync(hook, `#!/bin/sh\ntouch '${marker}'\n`);
    chmodSync(hook, 0o755);
    const excludes = path.join(dir, `excludes-${n++}`);
    writeFileSync(excludes, '*\n');
    git(root, 'config', 'core.fsmonitor', hook);
    git(root, 'config', 'core.excludesFile', excludes);
    writeFileSync(path.join(root, '.git', 'info', 'exclude'), '*.env\n');
    // The attack works on plain git: the hook runs and the untracked file is hidden.
    execFileSync('git', ['status', '--porcelain'], { cwd: root, env });
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);

    const r = await scan({ path: root, detectors, workers: 0 });
    expect(existsSync(marker)).toBe(false);
    expect(r.findings.map((f) => f.file)).toEqual(['tracked.env', 'untracked.env']);

    git(root, 'config', 'core.worktree', elsewhere);
    const w = await scan({ path: root, detectors, workers: 0 });
    expect(existsSync(marker)).toBe(false);
    expect(w.findings.map((f) => f.file)).not.toContain('far.env');
    expect(w.findings.map((f) => f.file)).toEqual(expect.arrayContaining(['tracked.env', 'untracked.env']));
  });
});

describe('the index cannot make files submodules', () => {
  it('a gitlink over a regular file or a folder without a .git is scanned like untracked files (with and without --recurse-submodules)', async () => {
    const k = [awsKey(), awsKey()];
    const root = repo({ README: 'hi\n' });
    mkdirSync(path.join(root, 'vendor'));
    writeFileSync(path.join(root, 'vendor', 'creds.env'), `aws_access_key_id = ${k[0]}\n`);
    writeFileSync(path.join(root, 'top.env'), `aws_access_key_id = ${k[1]}\n`);
    const head = git(root, 'rev-parse', 'HEAD').trim();
    git(root, 'update-index', '--add', '--cacheinfo', `160000,${head},top.env`);
    git(root, 'update-index', '--add', '--cacheinfo', `160000,${head},vendor`);
    // The attack works on plain git: neither path is listed as a file.
    expect(git(root, 'ls-files', '--others')).toBe('');
    for (const recurseSubmodules of [false, true]) {
      const r = await scan({ path: root, detectors, workers: 0, recurseSubmodules });
      expect(r.findings.map((f) => f.file)).toEqual(['top.env', 'vendor/creds.env']);
      expect(r.summary.skipped).toBe(0);
    }
  });
});

describe('folders named .git', () => {
  it('.GIT and .Git are scanned in git listing as by the walker; a .git folder that is no repository is scanned too', async () => {
    const k = [awsKey(), awsKey(), awsKey()];
    const root = repo({ README: 'hi\n' });
    for (const d of ['app/.git', 'app/.GIT', 'app/.Git']) mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(path.join(root, 'app', '.git', 'config'), `[remote "origin"]\n  url = https://x@example.test/?key=${k[0]}\n`);
    writeFileSync(path.join(root, 'app', '.GIT', 'creds'), `aws_access_key_id = ${k[1]}\n`);
    writeFileSync(path.join(root, 'app', '.Git', 'creds'), `aws_access_key_id = ${k[2]}\n`);
    const want = ['app/.GIT/creds', 'app/.Git/creds', 'app/.git/config'];
    const listed = await scan({ path: root, detectors, workers: 0 });
    expect(listed.findings.map((f) => f.file)).toEqual(want);
    expect(listed.summary.skipped).toBe(0);
    const walked = await scan({ path: root, detectors, workers: 0, gitignore: false });
    expect(walked.findings.map((f) => f.file)).toEqual(want);
    expect(walked.summary.skipped).toBe(0);
  });

  it('a real nested repository keeps its git directory out, counted, in both listings', async () => {
    const k = awsKey();
    const root = repo({ README: 'hi\n' });
    const nested = path.join(root, 'tools');
    mkdirSync(nested);
    git(nested, 'init', '-q');
    git(nested, 'config', 'remote.origin.url', `https://example.test/?key=${k}`);
    const listed = await scan({ path: root, detectors, workers: 0 });
    expect(listed.findings).toEqual([]);
    expect(listed.summary.skippedBy).toEqual({ submodule: 1 });
    const walked = await scan({ path: root, detectors, workers: 0, gitignore: false });
    expect(walked.findings).toEqual([]);
    expect(walked.summary.skippedBy).toEqual({ submodule: 1 });
  });
});
