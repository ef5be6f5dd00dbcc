/**
 * The scan command against a hostile repository: output paths that lead out of it, and a pushed
 * key policy that tries to switch detection off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { awsKeys, git } from '../helpers/git-repo.js';

const awsKey = awsKeys('scan-hostile-cli');
let dir: string;
let n = 0;

async function run(cwd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false, cwd, env: {} });
  return { code, out, err };
}

function newRepo(files: Record<string, string> = {}): string {
  const repo = path.join(dir, `r${n++}`);
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(repo, 'README.md'), 'hello\n');
  for (const [k, v] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(repo, k)), { recursive: true });
    writeFileSync(path.join(repo, k), v);
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'base');
  return repo;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-hostile-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('output paths', () => {
  it('refuses -o through a committed symlink, before scanning, and leaves the target alone', async () => {
    const outside = path.join(dir, 'victim.txt');
    writeFileSync(outside, 'precious\n');
    const repo = newRepo();
    symlinkSync(outside, path.join(repo, 'report.sarif'));
    const r = await run(repo, ['scan', '.', '-f', 'sarif', '-o', 'report.sarif']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('KW_USAGE');
    expect(readFileSync(outside, 'utf8')).toBe('precious\n');
  });

  it('refuses -o into a symlinked folder that leads out of the repository', async () => {
    const outsideDir = path.join(dir, 'outside-dir');
    mkdirSync(outsideDir);
    const repo = newRepo();
    symlinkSync(outsideDir, path.join(repo, 'out'));
    const r = await run(repo, ['scan', '.', '-o', 'out/report.txt']);
    expect(r.code).toBe(2);
    expect(existsSync(path.join(outsideDir, 'report.txt'))).toBe(false);
  });

  it('a missing folder, a folder as target, and a symlinked baseline are usage errors', async () => {
    const repo = newRepo();
    mkdirSync(path.join(repo, 'adir'));
    expect((await run(repo, ['scan', '.', '-o', 'nope/report.txt'])).code).toBe(2);
    expect((await run(repo, ['scan', '.', '-o', 'adir'])).code).toBe(2);
    const outside = path.join(dir, 'victim-baseline.json');
    writeFileSync(outside, '{}');
    symlinkSync(outside, path.join(repo, 'baseline.json'));
    const r = await run(repo, ['scan', '.', '--baseline', 'baseline.json', '--update-baseline']);
    expect(r.code).toBe(2);
    expect(readFileSync(outside, 'utf8')).toBe('{}');
  });

  it('writes a normal report file and replaces it atomically', async () => {
    const repo = newRepo({ 'a.txt': `AWS_ACCESS_KEY_ID=${awsKey()}\n` });
    const r = await run(repo, ['scan', '.', '-f', 'json', '-o', 'report.json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(readFileSync(path.join(repo, 'report.json'), 'utf8'))).toHaveLength(1);
    expect(lstatSync(path.join(repo, 'report.json')).isFile()).toBe(true);
  });
});

describe('detection settings of a range', () => {
  it("come from the base revision: a pushed `detectors: [none]` is reported, not obeyed", async () => {
    const repo = newRepo({ '.github/keywarden.yml': 'version: 1\nsecrets:\n  detectors: [recommended]\n' });
    const base = git(repo, 'rev-parse', 'HEAD').trim();
    writeFileSync(path.join(repo, '.github/keywarden.yml'), "version: 1\nsecrets:\n  detectors: [none]\n  ignore-paths: ['**']\n");
    writeFileSync(path.join(repo, 'leak.txt'), `AWS_ACCESS_KEY_ID=${awsKey()}\n`);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'turn it off');
    const r = await run(repo, ['scan', '.', '--git', `${base}..HEAD`, '-f', 'json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).map((f: { file: string }) => f.file)).toEqual(['leak.txt']);
    expect(r.err).toContain('KW_POLICY_CHANGED_IN_RANGE');
    // The tree scan of the same checkout reads the working copy's policy, as the team wrote it.
    expect((await run(repo, ['scan', '.', '-f', 'json'])).code).toBe(0);
  });

  it('a pushed policy added where the base had none is reported too, and a symlinked policy is never followed', async () => {
    const repo = newRepo();
    const base = git(repo, 'rev-parse', 'HEAD').trim();
    mkdirSync(path.join(repo, '.github'));
    symlinkSync('/etc/passwd', path.join(repo, '.github/keywarden.yml'));
    writeFileSync(path.join(repo, 'leak.txt'), `AWS_ACCESS_KEY_ID=${awsKey()}\n`);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'add a policy');
    const r = await run(repo, ['scan', '.', '--git', `${base}..HEAD`, '-f', 'json']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('KW_POLICY_CHANGED_IN_RANGE');
    expect(r.err).not.toContain('root:');
  });

  it('an explicit -c inside the repository and a tracked baseline are read at the base revision too', async () => {
    const repo = newRepo({ 'ci/policy.yml': 'version: 1\nsecrets:\n  detectors: [recommended]\n', '.keywarden-baseline.json': '{"version":1,"secrets":{}}\n' });
    const base = git(repo, 'rev-parse', 'HEAD').trim();
    const key = awsKey();
    writeFileSync(path.join(repo, 'ci/policy.yml'), 'version: 1\nsecrets:\n  detectors: [none]\n');
    writeFileSync(path.join(repo, 'leak.txt'), `AWS_ACCESS_KEY_ID=${key}\n`);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'leak');
    // The pusher also accepts their own key in the checked-out baseline.
    const accepted = await run(repo, ['scan', '.', '--no-config', '--baseline', '.keywarden-baseline.json', '--update-baseline']);
    expect(accepted.code).toBe(0);
    git(repo, 'commit', '-qam', 'accept it');
    const r = await run(repo, ['scan', '.', '--git', `${base}..HEAD`, '-c', 'ci/policy.yml', '--baseline', '.keywarden-baseline.json', '-f', 'json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toHaveLength(1);
    expect(r.err.match(/KW_POLICY_CHANGED_IN_RANGE/g)).toHaveLength(2);
  });
});
