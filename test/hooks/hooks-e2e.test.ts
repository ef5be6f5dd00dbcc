/**
 * The installed hooks, end to end: real `git commit` and `git push` (to a local bare repository)
 * run the hook that `keywarden hook install` wrote, which runs the built CLI. Fake keys only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { awsKeys, initRepo } from '../helpers/git-repo.js';
import { assertBuilt, devEnv, devGit, kw, type Run } from './helpers.js';

let dir: string;
let n = 0;
const awsKey = awsKeys('hooks-e2e');
const passphrase = `kw-hook-test-${randomBytes(8).toString('hex')}`;

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(path.join(tmpdir(), 'kw-hooks-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Repo {
  repo: string;
  env: NodeJS.ProcessEnv;
  state: string;
  git: (...args: string[]) => Run;
  head: () => string;
}

async function newRepo(hooks: ('pre-commit' | 'pre-push')[]): Promise<Repo> {
  const id = n++;
  const repo = path.join(dir, `r${id}`);
  initRepo(repo);
  const state = path.join(dir, `state${id}`);
  const env = devEnv(path.join(dir, `home${id}`), { KEYWARDEN_STATE_DIR: state, KEYWARDEN_LOCAL_PASSPHRASE: passphrase });
  for (const h of hooks) {
    const r = await kw(repo, env, ['hook', 'install', h]);
    expect(r.code, r.err).toBe(0);
  }
  const git = (...args: string[]): Run => devGit(repo, env, ...args);
  return { repo, env, state, git, head: () => git('rev-parse', 'HEAD').out.trim() };
}

function write(repo: string, file: string, text: string): void {
  writeFileSync(path.join(repo, file), text);
}

async function auditRecords(r: Repo): Promise<{ operation: string; reason: string; actor: string; details: Record<string, string | number> }[]> {
  const list = await kw(r.repo, r.env, ['audit', 'list', '-f', 'json']);
  expect(list.code, list.err).toBe(0);
  return (JSON.parse(list.out) as { records: { operation: string; reason: string; actor: string; details: Record<string, string | number> }[] }).records;
}

describe('pre-commit hook', () => {
  it('blocks a commit that adds a secret, lets a clean one through', async () => {
    const r = await newRepo(['pre-commit']);
    const before = r.head();
    const key = awsKey();
    write(r.repo, 'app.env', `AWS_ACCESS_KEY_ID=${key}\n`);
    r.git('add', 'app.env');
    const blocked = r.git('commit', '-qm', 'leak');
    expect(blocked.code).not.toBe(0);
    expect(r.head()).toBe(before);
    expect(blocked.out + blocked.err).toContain('commit blocked');
    expect(blocked.out + blocked.err).toContain('app.env');
    expect(blocked.out + blocked.err).not.toContain(key);

    r.git('rm', '-q', '--cached', 'app.env');
    write(r.repo, 'notes.md', 'nothing secret\n');
    r.git('add', 'notes.md');
    const ok = r.git('commit', '-qm', 'clean');
    expect(ok.code, ok.err).toBe(0);
    expect(r.head()).not.toBe(before);
  });

  it('blocks git commit -a, which stages into its own index', async () => {
    const r = await newRepo(['pre-commit']);
    const before = r.head();
    write(r.repo, 'README.md', `hello\nkey = ${awsKey()}\n`);
    expect(r.git('commit', '-qam', 'leak').code).not.toBe(0);
    expect(r.head()).toBe(before);
  });

  it('lets a bypass with a reason through and records it, fingerprints only', async () => {
    const r = await newRepo(['pre-commit']);
    const base = r.head();
    const key = awsKey();
    write(r.repo, 'fixture.txt', `aws = ${key}\n`);
    r.git('add', 'fixture.txt');

    const noReason = devGit(r.repo, { ...r.env, KEYWARDEN_BYPASS: '  \u0007 ' }, 'commit', '-qm', 'x');
    expect(noReason.code).not.toBe(0);
    expect(noReason.err).toContain('KW_BYPASS_REASON_INVALID');
    expect(r.head()).toBe(base);

    const ok = devGit(r.repo, { ...r.env, KEYWARDEN_BYPASS: 'documented\ttest fixture\u001b[2J' }, 'commit', '-qm', 'fixture');
    expect(ok.code, ok.err).toBe(0);
    expect(ok.err).toContain('recorded as audit record');
    expect(r.head()).not.toBe(base);

    const [rec, ...rest] = await auditRecords(r);
    expect(rest).toEqual([]);
    expect(rec).toMatchObject({ operation: 'hook-bypass', reason: 'documented test fixture [2J', actor: 'e@example.test' });
    expect(rec!.details).toMatchObject({ hook: 'pre-commit', sha: base, count: 1, user: 'e@example.test', rules: 'aws-access-key-id' });
    expect(String(rec!.details.fingerprints)).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The raw database file never holds the secret.
    for (const f of ['keystore.db', 'keystore.db-wal']) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path.join(r.state, f));
      } catch {
        continue;
      }
      expect(bytes.includes(Buffer.from(key))).toBe(false);
    }
    const verify = await kw(r.repo, r.env, ['audit', 'verify']);
    expect(verify.code, verify.out + verify.err).toBe(0);
  });

  it('refuses a bypass it cannot record (keystore locked) and records nothing when nothing was found', async () => {
    const r = await newRepo(['pre-commit']);
    const base = r.head();
    write(r.repo, 'k.txt', `k = ${awsKey()}\n`);
    r.git('add', 'k.txt');
    const { KEYWARDEN_LOCAL_PASSPHRASE: _p, ...locked } = r.env;
    const refused = devGit(r.repo, { ...locked, KEYWARDEN_BYPASS: 'a good reason' }, 'commit', '-qm', 'x');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('KW_BYPASS_NOT_RECORDED');
    expect(r.head()).toBe(base);

    r.git('rm', '-q', '--cached', 'k.txt');
    write(r.repo, 'clean.txt', 'ok\n');
    r.git('add', 'clean.txt');
    expect(devGit(r.repo, { ...r.env, KEYWARDEN_BYPASS: 'no need' }, 'commit', '-qm', 'clean').code).toBe(0);
    const list = await kw(r.repo, r.env, ['audit', 'list', '-f', 'json']);
    expect(list.out.includes('hook-bypass')).toBe(false);
  });
});

describe('pre-push hook', () => {
  async function withRemote(): Promise<Repo & { remote: string }> {
    const r = await newRepo(['pre-push']);
    const remote = path.join(dir, `remote${n++}.git`);
    devGit(dir, r.env, 'init', '-q', '--bare', remote);
    r.git('remote', 'add', 'origin', remote);
    const first = r.git('push', '-q', 'origin', 'main');
    expect(first.code, first.err).toBe(0);
    return { ...r, remote };
  }
  const remoteHead = (remote: string, env: NodeJS.ProcessEnv, ref: string): string => devGit(remote, env, 'rev-parse', '--verify', '-q', ref).out.trim();

  it('blocks a push whose secret came two commits back, and records a bypass with the pushed tip', async () => {
    const r = await withRemote();
    const pushedBefore = remoteHead(r.remote, r.env, 'main');
    write(r.repo, 'a.txt', `k = ${awsKey()}\n`);
    r.git('add', 'a.txt');
    r.git('-c', 'core.hooksPath=/dev/null', 'commit', '-qm', 'leak');
    for (const f of ['b.txt', 'c.txt']) {
      write(r.repo, f, 'clean\n');
      r.git('add', f);
      r.git('commit', '-qm', f);
    }
    const blocked = r.git('push', 'origin', 'main');
    expect(blocked.code).not.toBe(0);
    expect(blocked.err + blocked.out).toContain('push blocked');
    expect(blocked.out).toContain('a.txt');
    expect(remoteHead(r.remote, r.env, 'main')).toBe(pushedBefore);

    const tip = r.head();
    const ok = devGit(r.repo, { ...r.env, KEYWARDEN_BYPASS: 'rotated already' }, 'push', 'origin', 'main');
    expect(ok.code, ok.err).toBe(0);
    expect(remoteHead(r.remote, r.env, 'main')).toBe(tip);
    const recs = await auditRecords(r);
    expect(recs.map((x) => [x.operation, x.details.hook, x.details.sha])).toEqual([['hook-bypass', 'pre-push', tip]]);
  });

  it('a new branch is judged by the commits no remote has; a deletion passes', async () => {
    const r = await withRemote();
    r.git('checkout', '-qb', 'feature');
    write(r.repo, 'f.txt', 'clean\n');
    r.git('add', 'f.txt');
    r.git('commit', '-qm', 'clean feature');
    const clean = r.git('push', '-q', 'origin', 'feature');
    expect(clean.code, clean.err).toBe(0);

    r.git('checkout', '-qb', 'leaky');
    write(r.repo, 'g.txt', `k = ${awsKey()}\n`);
    r.git('add', 'g.txt');
    r.git('-c', 'core.hooksPath=/dev/null', 'commit', '-qm', 'leak');
    const blocked = r.git('push', 'origin', 'leaky');
    expect(blocked.code).not.toBe(0);
    expect(remoteHead(r.remote, r.env, 'leaky')).toBe('');

    const del = r.git('push', '-q', 'origin', ':feature');
    expect(del.code, del.err).toBe(0);
    expect(remoteHead(r.remote, r.env, 'feature')).toBe('');
  });
});
