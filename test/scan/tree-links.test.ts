/**
 * A tree cannot make the scan read outside it or hang: symlinks are never followed out of the
 * root (a symlink's content is its target path, as git commits it), a tracked path under a
 * directory that became a symlink is refused, and FIFOs, sockets and devices are counted, never
 * opened. Real files, real FIFOs (mkfifo), real git repositories.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scan } from '../../src/scan/scan.js';
import { awsKeys, git } from '../helpers/git-repo.js';

const detectors = { include: ['aws-access-key-id'] };
const awsKey = awsKeys('tree-links');

let dir: string;
let outside: string;
let outsideKey: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-tree-links-'));
  // What lies outside every scan root: a secret that must never be read.
  outside = path.join(dir, 'outside');
  mkdirSync(outside);
  outsideKey = awsKey();
  writeFileSync(path.join(outside, 'secret.env'), `AWS_ACCESS_KEY_ID=${outsideKey}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function newRoot(mode: 'plain' | 'git'): string {
  const root = path.join(dir, `t${n++}`);
  mkdirSync(root);
  writeFileSync(path.join(root, 'readme.md'), 'hello\n');
  if (mode === 'git') git(root, 'init', '-q', '-b', 'main');
  return root;
}
const commit = (root: string): void => {
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'x');
};

describe.each(['plain', 'git'] as const)('symlinks (%s tree)', (mode) => {
  it('a symlink to a file outside the root is scanned as its target path, never as the target', async () => {
    const root = newRoot(mode);
    symlinkSync(path.join(outside, 'secret.env'), path.join(root, 'creds.env'));
    if (mode === 'git') commit(root);
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(r.findings).toEqual([]);
    expect(r.summary.files).toBe(2); // readme.md and the link itself
    expect(r.summary.bytes).toBe('hello\n'.length + path.join(outside, 'secret.env').length);
  });

  it('a symlink whose target path is a secret is reported, as git would commit it', async () => {
    const root = newRoot(mode);
    const k = awsKey();
    symlinkSync(`${k}.pem`, path.join(root, 'dangling'));
    if (mode === 'git') commit(root);
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(r.findings.map((f) => [f.file, f.startLine, f.startColumn])).toEqual([['dangling', 1, 1]]);
  });

  it('a symlinked directory is not descended into', async () => {
    const root = newRoot(mode);
    symlinkSync(outside, path.join(root, 'linked'));
    if (mode === 'git') commit(root);
    const r = await scan({ path: root, detectors, workers: 2 });
    expect(r.findings).toEqual([]);
  });

  it('a FIFO is counted as special and never opened: the scan does not hang', async () => {
    const root = newRoot(mode);
    const k = awsKey();
    writeFileSync(path.join(root, 'pipe'), `${k}\n`);
    if (mode === 'git') commit(root); // tracked as a file, then replaced by a FIFO in the work tree
    rmSync(path.join(root, 'pipe'));
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    execFileSync('mkfifo', [path.join(root, 'fifo2')]);
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(r.findings).toEqual([]);
    // git does not list an untracked FIFO; the walker lists both.
    expect(r.summary.skippedBy).toEqual({ special: mode === 'git' ? 1 : 2 });
  }, 10_000);
});

describe('paths git lists', () => {
  it('refuses a tracked path whose directory is now a symlink out of the root', async () => {
    const root = newRoot('git');
    mkdirSync(path.join(root, 'conf'));
    writeFileSync(path.join(root, 'conf', 'secret.env'), 'clean\n');
    commit(root);
    rmSync(path.join(root, 'conf'), { recursive: true });
    symlinkSync(outside, path.join(root, 'conf'));
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(r.findings).toEqual([]);
    expect(r.summary.skippedBy).toEqual({ 'outside-root': 1 });
    expect(r.skipped).toEqual([{ file: 'conf/secret.env', reason: 'outside-root' }]);
  });
});

describe('the scan root', () => {
  it.each(['plain', 'git'] as const)('may itself be a symlink (%s tree): resolved once, paths stay relative', async (mode) => {
    const root = newRoot(mode);
    const k = awsKey();
    mkdirSync(path.join(root, 'src'));
    writeFileSync(path.join(root, 'src', 'a.js'), `const k = '${k}';\n`);
    const link = path.join(dir, `link-${n++}`);
    symlinkSync(root, link);
    const r = await scan({ path: link, detectors, workers: 0 });
    expect(r.findings.map((f) => f.file)).toEqual(['src/a.js']);
  });
});
