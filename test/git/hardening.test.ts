/**
 * Running git on an untrusted repository never runs a command the repository configures. Each
 * case plants one kind (fsmonitor, textconv, external diff, filters, gpg for signed commits, a
 * promisor remote's lazy fetch over core.sshCommand and ext::) and scans the repository in tree,
 * range and history mode; the planted command would create a marker file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scan } from '../../src/scan/scan.js';
import { gitArgv, gitEnv, runGit } from '../../src/git/run-git.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';
import { git, initRepo } from '../helpers/git-repo.js';

let dir: string;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-githard-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A script that records that it ran. */
function trap(name: string): { script: string; marker: string } {
  const marker = path.join(dir, `${name}.ran`);
  const script = path.join(dir, `${name}.sh`);
  writeFileSync(script, `#!/bin/sh\ntouch '${marker}'\ncat >/dev/null 2>&1\nexit 0\n`);
  chmodSync(script, 0o755);
  return { script, marker };
}

function repoWith(config: Record<string, string>, files: Record<string, string> = {}): { repo: string; base: string } {
  const repo = path.join(dir, `r${n++}`);
  const base = initRepo(repo);
  for (const [k, v] of Object.entries(files)) writeFileSync(path.join(repo, k), v);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'change', '--allow-empty');
  for (const [k, v] of Object.entries(config)) git(repo, 'config', k, v);
  // An untracked, modified file makes index refreshes and diffs against the work tree likely.
  writeFileSync(path.join(repo, 'untracked.txt'), 'new\n');
  writeFileSync(path.join(repo, 'README.md'), 'hello again\n');
  return { repo, base };
}

async function scanAllModes(repo: string, base: string): Promise<void> {
  await scan({ path: repo, workers: 0 });
  await scan({ path: repo, git: { range: `${base}..HEAD` }, workers: 0 });
  await scan({ path: repo, git: { history: true }, workers: 0 });
}

describe('git hardening', () => {
  it.each([
    ['core.fsmonitor', (t: string) => ({ 'core.fsmonitor': t }), {}],
    ['diff textconv', (t: string) => ({ 'diff.x.textconv': t }), { '.gitattributes': '* diff=x\n', 'a.txt': 'a\n' }],
    ['diff.external', (t: string) => ({ 'diff.external': t }), { 'a.txt': 'a\n' }],
    ['diff driver command', (t: string) => ({ 'diff.x.command': t }), { '.gitattributes': '* diff=x\n', 'a.txt': 'a\n' }],
    ['clean/smudge filter', (t: string) => ({ 'filter.x.clean': t, 'filter.x.smudge': t, 'filter.x.required': 'true' }), { '.gitattributes': '* filter=x\n', 'a.txt': 'a\n' }],
    ['filter process', (t: string) => ({ 'filter.x.process': t }), { '.gitattributes': '* filter=x\n', 'a.txt': 'a\n' }],
    ['pager', (t: string) => ({ 'core.pager': t, 'pager.log': t, 'pager.ls-files': t }), {}],
  ])('%s runs nothing', async (name, config, files) => {
    const t = trap(name.replace(/\W+/g, '-'));
    const { repo, base } = repoWith(config(t.script), files);
    await scanAllModes(repo, base);
    expect(existsSync(t.marker)).toBe(false);
  });

  it('a signed commit with log.showSignature and gpg.program runs no gpg', async () => {
    const t = trap('gpg');
    const { repo, base } = repoWith({ 'log.showSignature': 'true', 'gpg.program': t.script, 'gpg.format': 'openpgp' });
    // A commit object carrying a (fake) signature header, made by hand.
    const tree = git(repo, 'rev-parse', 'HEAD^{tree}').trim();
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const body = `tree ${tree}\nparent ${head}\nauthor M <m@example.test> 1700000000 +0000\ncommitter M <m@example.test> 1700000000 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n x\n -----END PGP SIGNATURE-----\n\nsigned\n`;
    const signed = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo, input: body, encoding: 'utf8' }).trim();
    git(repo, 'update-ref', 'refs/heads/main', signed);
    await scanAllModes(repo, base);
    expect(existsSync(t.marker)).toBe(false);
  });

  it("a partial clone's lazy fetch of a missing blob starts no transport (core.sshCommand, ext::)", async () => {
    for (const url of ['ssh://attacker.invalid/x.git', 'ext::SCRIPT']) {
      const t = trap(`promisor-${url.slice(0, 3)}`);
      const { repo, base } = repoWith({});
      // A commit whose blob is then removed from the object store: reading it would fetch.
      writeFileSync(path.join(repo, 'gone.txt'), 'this blob will be missing\n');
      git(repo, 'add', 'gone.txt');
      git(repo, 'commit', '-qm', 'gone');
      const blob = git(repo, 'rev-parse', 'HEAD:gone.txt').trim();
      rmSync(path.join(repo, '.git', 'objects', blob.slice(0, 2), blob.slice(2)));
      git(repo, 'config', 'core.repositoryformatversion', '1');
      git(repo, 'config', 'extensions.partialClone', 'origin');
      git(repo, 'config', 'remote.origin.url', url.replace('SCRIPT', `${t.script} %G`));
      git(repo, 'config', 'remote.origin.promisor', 'true');
      git(repo, 'config', 'core.sshCommand', t.script);
      git(repo, 'config', 'protocol.ext.allow', 'always');
      const r = await scan({ path: repo, git: { range: `${base}..HEAD` }, workers: 0 });
      await scan({ path: repo, git: { history: true }, workers: 0 });
      expect(existsSync(t.marker)).toBe(false);
      // The missing blob is counted, never silently dropped.
      expect(r.summary.skippedBy).toMatchObject({ unreadable: 1 });
    }
  });

  it('the environment cannot point git elsewhere or add config', async () => {
    const e = gitEnv({ PATH: '/usr/bin', GIT_DIR: '/etc', GIT_CONFIG_PARAMETERS: "'core.fsmonitor=x'", GIT_EXTERNAL_DIFF: 'x', GIT_CONFIG_COUNT: '1' });
    expect(Object.keys(e).filter((k) => ['GIT_DIR', 'GIT_CONFIG_PARAMETERS', 'GIT_EXTERNAL_DIFF', 'GIT_CONFIG_COUNT'].includes(k))).toEqual([]);
    expect(e.GIT_CONFIG_NOSYSTEM).toBe('1');
    expect(gitArgv('/r', ['log'])).toEqual(expect.arrayContaining(['-c', 'core.fsmonitor=false', '-c', 'protocol.allow=never', '-C', '/r', 'log']));
    // Every override is a setting this git accepts.
    const r = await runGit(dir, ['config', '--list']);
    expect(r.stderr).toBe('');
  });

  it('grafts cannot drop a commit out of a range', async () => {
    const { repo, base } = repoWith({});
    const key = secretGenerators['aws-access-key-id']!(createRng('grafts')).secret;
    writeFileSync(path.join(repo, 'creds.txt'), `aws_access_key_id = ${key}\n`);
    git(repo, 'add', 'creds.txt');
    git(repo, 'commit', '-qm', 'leak');
    const leak = git(repo, 'rev-parse', 'HEAD').trim();
    git(repo, 'commit', '-qm', 'more', '--allow-empty');
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    mkdirSync(path.join(repo, '.git', 'info'), { recursive: true });
    writeFileSync(path.join(repo, '.git', 'info', 'grafts'), `${base} ${leak}\n${head} ${leak}\n`);
    const r = await scan({ path: repo, git: { range: `${base}..${head}` }, workers: 0 });
    expect(r.findings.map((f) => f.file)).toEqual(['creds.txt']);
  });

  it('a FIFO where git expects a file stops git with a typed error instead of hanging', async () => {
    const before = process.env.KEYWARDEN_GIT_IDLE_TIMEOUT_MS;
    process.env.KEYWARDEN_GIT_IDLE_TIMEOUT_MS = '1500';
    try {
      const { repo } = repoWith({});
      mkdirSync(path.join(repo, 'sub'));
      execFileSync('mkfifo', [path.join(repo, 'sub', '.gitignore')]);
      await expect(scan({ path: repo, workers: 0 })).rejects.toMatchObject({ code: 'KW_GIT_FAILED' });
      const other = repoWith({});
      rmSync(path.join(other.repo, '.git', 'HEAD'));
      execFileSync('mkfifo', [path.join(other.repo, '.git', 'HEAD')]);
      await expect(scan({ path: other.repo, git: { range: `${other.base}..HEAD` }, workers: 0 })).rejects.toMatchObject({ code: expect.stringMatching(/^KW_(GIT_FAILED|NOT_A_GIT_REPO)$/) });
    } finally {
      if (before === undefined) delete process.env.KEYWARDEN_GIT_IDLE_TIMEOUT_MS;
      else process.env.KEYWARDEN_GIT_IDLE_TIMEOUT_MS = before;
    }
  }, 30_000);
});
