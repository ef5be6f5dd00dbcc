/**
 * A pushed range cannot hide a secret from `scan --git`: each case below once made a range that
 * adds an AWS key scan clean. Real git repositories; fake keys from the generators.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { scan } from '../../src/scan/scan.js';
import { awsKeys, git, initRepo } from '../helpers/git-repo.js';

let dir: string;
let n = 0;
const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const awsKey = awsKeys('git-hostile');

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A repo with one clean commit; returns its path and the base commit. */
function newRepo(): { repo: string; base: string } {
  const repo = path.join(dir, `r${n++}`);
  return { repo, base: initRepo(repo) };
}

function commit(repo: string, files: Record<string, string | Buffer>, message = 'change'): string {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    writeFileSync(path.join(repo, rel), content);
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', message);
  return git(repo, 'rev-parse', 'HEAD').trim();
}

async function rangeFingerprints(repo: string, range: string): Promise<string[]> {
  const r = await scan({ path: repo, git: { range }, workers: 0 });
  return r.findings.map((f) => f.fingerprint);
}

describe('scan --git on a hostile range', () => {
  it('ignores .gitattributes that mark every file binary or give it a diff driver', async () => {
    const { repo, base } = newRepo();
    const key = awsKey();
    git(repo, 'config', 'diff.hide.textconv', 'true'); // a textconv that prints nothing
    const head = commit(repo, {
      '.gitattributes': '* -diff\n*.cfg binary\n*.ini diff=hide\n',
      'a.txt': `aws_access_key_id = ${key}\n`,
      'b.cfg': `aws_access_key_id = ${key}\n`,
      'c.ini': `aws_access_key_id = ${key}\n`,
    });
    const r = await scan({ path: repo, git: { range: `${base}..${head}` }, workers: 0 });
    expect(r.findings.map((f) => [f.file, f.startLine])).toEqual([
      ['a.txt', 1],
      ['b.cfg', 1],
      ['c.ini', 1],
    ]);
    expect(r.summary.skipped).toBe(0);
  });

  it('is not fooled by added lines that look like diff headers', async () => {
    const { repo, base } = newRepo();
    const key = awsKey();
    const lines = ['+ /dev/null', '++ b/other.txt', 'diff --git a/x b/x', '@@ -1,2 +1,9 @@', '--- a/z', 'Binary files a/q and b/q differ', `key: ${key}`];
    const head = commit(repo, { 'notes.txt': `${lines.join('\n')}\n` });
    const r = await scan({ path: repo, git: { range: `${base}..${head}` }, workers: 0 });
    expect(r.findings.map((f) => [f.file, f.startLine, f.fingerprint])).toEqual([['notes.txt', 7, sha(key)]]);
  });

  it('splits lines on \\n only: a lone \\r before the secret does not hide it', async () => {
    const { repo, base } = newRepo();
    const key = awsKey();
    const head = commit(repo, { 'mac.txt': `first\rsecond aws_access_key_id=${key}\rthird\n` });
    expect(await rangeFingerprints(repo, `${base}..${head}`)).toEqual([sha(key)]);
  });

  it('covers what a merge brings into the branch, and what the merge itself adds', async () => {
    const { repo, base } = newRepo();
    const [k1, k2] = [awsKey(), awsKey()];
    git(repo, 'checkout', '-qb', 'feature');
    const feature = commit(repo, { 'feature.txt': `AWS_ACCESS_KEY_ID=${k1}\n` });
    git(repo, 'checkout', '-q', 'main');
    commit(repo, { 'main.txt': 'main work\n' });
    // An "evil merge": the merge commit itself adds a file that neither parent has.
    git(repo, 'merge', '-q', '--no-commit', '--no-ff', 'feature');
    writeFileSync(path.join(repo, 'evil.txt'), `AWS_ACCESS_KEY_ID=${k2}\n`);
    git(repo, 'add', 'evil.txt');
    git(repo, 'commit', '-qm', 'merge feature');
    const merge = git(repo, 'rev-parse', 'HEAD').trim();
    // The whole push: the feature commit once (not again for the merge), and the evil file.
    const whole = await scan({ path: repo, git: { range: `${base}..${merge}` }, workers: 0 });
    expect(whole.findings.map((f) => [f.file, f.commit])).toEqual([
      ['evil.txt', merge],
      ['feature.txt', feature],
    ]);
    // The feature branch was already pushed: the merge still brings its key into main.
    const onlyMerge = await scan({ path: repo, git: { range: `${feature}..${merge}` }, workers: 0 });
    expect(onlyMerge.findings.map((f) => [f.file, f.commit]).sort()).toEqual([
      ['evil.txt', merge],
      ['feature.txt', merge],
    ]);
    expect(await rangeFingerprints(repo, merge)).toEqual(expect.arrayContaining([sha(k1), sha(k2)]));
  });

  it('reports only what touches an added line, with the whole file as context', async () => {
    const { repo } = newRepo();
    const [old, fresh] = [awsKey(), awsKey()];
    const c1 = commit(repo, { 'cfg.txt': `a\nAWS_ACCESS_KEY_ID=${old}\nb\n` });
    const c2 = commit(repo, { 'cfg.txt': `a\nAWS_ACCESS_KEY_ID=${old}\nb\nnew=1\nAWS_ACCESS_KEY_ID=${fresh}\n` });
    const r = await scan({ path: repo, git: { range: `${c1}..${c2}` }, workers: 0 });
    expect(r.findings.map((f) => [f.startLine, f.fingerprint])).toEqual([[5, sha(fresh)]]);
  });

  it('streams a big blob (history, an added file) with exact lines, and still diffs a modified one', async () => {
    const { repo, base } = newRepo();
    const [k1, k2, k3] = [awsKey(), awsKey(), awsKey()];
    const filler = `${'x'.repeat(99)}\n`;
    const lines = Array.from({ length: 200_000 }, () => filler); // 20 MB: streamed in windows
    lines[83_885] = `AWS_ACCESS_KEY_ID=${k1}\n`; // around the first window's end (8 MiB)
    lines[199_999] = `AWS_ACCESS_KEY_ID=${k2}\n`;
    const c1 = commit(repo, { 'big.txt': lines.join('') });
    for (const git of [{ range: `${base}..${c1}` }, { history: true as const }]) {
      const r = await scan({ path: repo, git, workers: 0 });
      expect(r.findings.map((f) => [f.startLine, f.fingerprint])).toEqual([
        [83_886, sha(k1)],
        [200_000, sha(k2)],
      ]);
    }
    lines[100_000] = `AWS_ACCESS_KEY_ID=${k3}\n`;
    const c2 = commit(repo, { 'big.txt': lines.join('') });
    const r = await scan({ path: repo, git: { range: `${c1}..${c2}` }, workers: 0 });
    expect(r.findings.map((f) => [f.startLine, f.fingerprint])).toEqual([[100_001, sha(k3)]]);
  }, 60_000);

  it('old secrets cannot crowd a new one out of the per-file findings cap', async () => {
    const { repo } = newRepo();
    const old = Array.from({ length: 10_050 }, () => `AWS_ACCESS_KEY_ID=${awsKey()}`).join('\n');
    const c1 = commit(repo, { 'fixtures.env': `${old}\n` });
    const fresh = awsKey();
    const c2 = commit(repo, { 'fixtures.env': `${old}\nAWS_ACCESS_KEY_ID=${fresh}\n` });
    const r = await scan({ path: repo, git: { range: `${c1}..${c2}` }, workers: 0 });
    expect(r.findings.map((f) => f.fingerprint)).toEqual([sha(fresh)]);
    // In a tree scan the cap holds and says so.
    const t = await scan({ path: repo, workers: 0 });
    expect(t.findings).toHaveLength(10_000);
    expect(t.warnings.map((w) => w.code)).toContain('KW_TOO_MANY_FINDINGS');
  }, 60_000);

  it('scans names that are not UTF-8 or hold newlines, and counts submodules', async () => {
    const { repo, base } = newRepo();
    const key = awsKey();
    const weird = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from('\nx.txt')]);
    const sub = newRepo();
    // Create the non-UTF-8 file by its bytes.
    execFileSync('python3', ['-c', `import sys,os; open(os.path.join(sys.argv[1].encode(), bytes.fromhex(sys.argv[2])), 'wb').write(sys.argv[3].encode())`, repo, weird.toString('hex'), `AWS_ACCESS_KEY_ID=${key}\n`]);
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', sub.repo, 'vendor/sub');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'weird names');
    const r = await scan({ path: repo, git: { range: `${base}..HEAD` }, workers: 0 });
    const files = r.findings.map((f) => f.file);
    expect(files).toContain('caf\\xe9\nx.txt');
    expect(r.summary.skippedBy).toMatchObject({ submodule: 1 });
  });
});

describe('property: a planted secret is found in range, history and tree mode alike', () => {
  const line = fc.oneof(
    fc.constantFrom('+ /dev/null', '+++ b/x', '--- a/x', 'diff --git a/a b/b', '@@ -1 +1 @@', '\\ No newline at end of file', 'Binary files a/x and b/x differ', ''),
    fc.string({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1').replace(/[A-Za-z0-9]/g, '')),
  );
  const ending = fc.constantFrom('\n', '\r\n', '\r', '\n\r', '');
  const content = fc.array(fc.tuple(line, ending), { maxLength: 12 });

  it('holds for random contents and line endings', async () => {
    let i = 0;
    await fc.assert(
      fc.asyncProperty(content, content, fc.boolean(), async (before, after, binaryAttr) => {
        const { repo, base } = newRepo();
        const key = awsKey();
        const text = Buffer.concat([
          ...before.map(([l, e]) => Buffer.from(l + e, 'latin1')),
          Buffer.from(`\naws_access_key_id = ${key}\n`),
          ...after.map(([l, e]) => Buffer.from(l + e, 'latin1')),
        ]);
        const files: Record<string, string | Buffer> = { [`f${i++}.txt`]: text };
        if (binaryAttr) files['.gitattributes'] = '* -diff -text\n';
        const head = commit(repo, files);
        const expected = sha(key);
        const inRange = await scan({ path: repo, git: { range: `${base}..${head}` }, workers: 0 });
        const inHistory = await scan({ path: repo, git: { history: true }, workers: 0 });
        const inTree = await scan({ path: repo, workers: 0 });
        for (const r of [inRange, inHistory, inTree]) expect(r.findings.map((f) => f.fingerprint)).toContain(expected);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
