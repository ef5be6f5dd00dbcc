/**
 * What the `keywarden respond` end-to-end suites share: a temp folder with a git repository and a
 * state folder, the CLI run in-process (every stdout and stderr kept for the canary check) or as
 * its own OS process (for SIGKILL), and the canary check itself: a raw secret in no output, no
 * file under the state folder (WAL included), no commit message, no branch name and no tree of a
 * remediation branch.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { PipelineReport } from '../../src/pipeline/types.js';
import { git, initRepo } from './git-repo.js';

export const PROJECT = path.resolve(import.meta.dirname, '..', '..');
const TSX = pathToFileURL(path.join(PROJECT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const LAUNCHER = path.join(import.meta.dirname, 'keywarden-cli.ts');

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export interface Harness {
  dir: string;
  repo: string;
  state: string;
  env: NodeJS.ProcessEnv;
  /** Every stdout and stderr the CLI wrote in this harness (the canary check reads them). */
  outputs: string[];
  /** The CLI in this process, in the repository. */
  kw(...argv: string[]): Promise<CliRun>;
  /** `respond --format json` in this process; the report parsed. */
  respond(...argv: string[]): Promise<CliRun & { report: PipelineReport }>;
  /** The CLI as its own OS process (node + tsx), in the repository; resolves with its exit code or signal. */
  spawnCli(argv: string[], extraEnv?: NodeJS.ProcessEnv): Promise<CliRun & { signal: NodeJS.Signals | null }>;
  write(file: string, content: string | Buffer): void;
  commit(message: string): string;
  cleanup(): void;
}

/**
 * A repository on `main` with one clean commit and `.github/keywarden.yml` = `policy` committed,
 * a state folder, and an environment with nothing from the caller's but PATH.
 */
export function createHarness(prefix: string, policy: string, extraEnv: NodeJS.ProcessEnv = {}): Harness {
  const dir = mkdtempSync(path.join(tmpdir(), `kw-${prefix}-`));
  const repo = path.join(dir, 'app');
  const state = path.join(dir, 'state');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    KEYWARDEN_STATE_DIR: state,
    KEYWARDEN_CACHE_DIR: path.join(PROJECT, '.cache', 'keywarden', 'policy'),
    ...(process.env.KEYWARDEN_OPA ? { KEYWARDEN_OPA: process.env.KEYWARDEN_OPA } : {}),
    ...extraEnv,
  };
  initRepo(repo);
  mkdirSync(path.join(repo, '.github'), { recursive: true });
  writeFileSync(path.join(repo, '.github', 'keywarden.yml'), policy);
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'policy');
  const outputs: string[] = [];

  const kw = async (...argv: string[]): Promise<CliRun> => {
    let out = '';
    let err = '';
    const code = await main(argv, { cwd: repo, env, stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false });
    outputs.push(out, err);
    return { code, out, err };
  };

  const h: Harness = {
    dir,
    repo,
    state,
    env,
    outputs,
    kw,
    respond: async (...argv) => {
      const r = await kw('respond', '.', ...argv, '--format', 'json');
      let report: PipelineReport;
      try {
        report = JSON.parse(r.out) as PipelineReport;
      } catch {
        throw new Error(`respond printed no JSON report (exit ${r.code}): ${r.err}`);
      }
      return { ...r, report };
    },
    spawnCli: (argv, more = {}) =>
      new Promise((resolve, reject) => {
        // cwd is the repository; tsx is imported by absolute URL, so nothing resolves from there.
        const child = spawn(process.execPath, ['--import', TSX, LAUNCHER, ...argv], { cwd: repo, env: { ...env, ...more }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
        child.on('error', reject);
        child.on('close', (code, signal) => {
          outputs.push(out, err);
          resolve({ code: code ?? -1, signal, out, err });
        });
      }),
    write: (file, content) => {
      mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
      writeFileSync(path.join(repo, file), content);
    },
    commit: (message) => {
      git(repo, 'add', '-A');
      git(repo, 'commit', '-qm', message);
      return git(repo, 'rev-parse', 'HEAD').trim();
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  return h;
}

/** Every regular file under `dir`, recursively (SQLite WAL and SHM files included). */
export function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return [];
  }
  return names.map((n) => path.join(dir, n)).filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile());
}

/** The remediation branches Keywarden made in `repo`. */
export function remediationBranches(repo: string): string[] {
  return git(repo, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/keywarden/')
    .split('\n')
    .filter(Boolean);
}

/**
 * The raw secret reached none of: the outputs, the state folder's files, a branch or tag name,
 * a remediation branch's commit messages, or a remediation branch's tree (except `allowInTree`:
 * files the patch reported it could not edit).
 */
export function expectNoCanary(h: Harness, canary: string, options: { allowInTree?: string[] } = {}): void {
  const needle = Buffer.from(canary);
  for (const [i, o] of h.outputs.entries()) expect(o.includes(canary), `output #${i}`).toBe(false);
  for (const f of filesUnder(h.state)) expect(readFileSync(f).includes(needle), path.relative(h.state, f)).toBe(false);
  const refs = git(h.repo, 'for-each-ref', '--format=%(refname)');
  expect(refs).not.toContain(canary);
  expect(refs).not.toContain(canary.slice(0, 12));
  for (const b of remediationBranches(h.repo)) {
    expect(git(h.repo, 'log', '--format=%B%n%D', `main..${b}`)).not.toContain(canary);
    const except = (options.allowInTree ?? []).map((p) => `:(exclude)${p}`);
    // git grep exits 1 when nothing matches.
    let hits = '';
    try {
      hits = git(h.repo, 'grep', '-l', '-F', '-a', '-e', canary, b, '--', '.', ...except);
    } catch (e) {
      if ((e as { status?: number }).status !== 1) throw e;
    }
    expect(hits, `the tree of ${b}`).toBe('');
  }
}

/** Keywarden's local keystore: a new exportable HMAC key under `alias`, and its exported token (the secret to leak). */
export async function issueLocalToken(h: Harness, alias: string): Promise<string> {
  const created = await h.kw('keys', 'create', '--spec', 'HMAC_256', '--alias', alias, '--exportable', '--reason', 'e2e');
  expect(created.code, created.err).toBe(0);
  const exported = await h.kw('keys', 'export', alias, '--format', 'token');
  expect(exported.code, exported.err).toBe(0);
  // The export's own stdout is the one place the secret is meant to appear.
  h.outputs.splice(h.outputs.length - 2, 1);
  return exported.out.trim();
}

export interface AuditRecordLite {
  operation: string;
  outcome: string;
  keyId?: string;
}

export async function auditRecords(h: Harness, ...flags: string[]): Promise<AuditRecordLite[]> {
  const list = await h.kw('audit', 'list', ...flags, '--format', 'json');
  expect(list.code, list.err).toBe(0);
  return (JSON.parse(list.out) as { records: AuditRecordLite[] }).records;
}

/**
 * Harnesses on the local keystore (a fresh passphrase each) for one test file, all cleaned up
 * after it: `const { localHarness, track } = localHarnesses(POLICY)`.
 */
export function localHarnesses(policy: string): { localHarness: (prefix: string) => Harness; track: (h: Harness) => Harness } {
  const all: Harness[] = [];
  afterAll(() => {
    for (const h of all) h.cleanup();
  });
  const track = (h: Harness): Harness => {
    all.push(h);
    return h;
  };
  return { localHarness: (prefix) => track(createHarness(prefix, policy, { KEYWARDEN_LOCAL_PASSPHRASE: `local-pass-${randomBytes(6).toString('hex')}` })), track };
}

export interface KeyView {
  currentVersion: number;
  state: string;
  versions: Array<{ version: number; state: string }>;
}

/** `keywarden keys describe ALIAS --format json`, which must succeed. */
export async function describeKey(h: Harness, alias: string): Promise<KeyView> {
  const r = await h.kw('keys', 'describe', alias, '--format', 'json');
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as KeyView;
}
