/**
 * `keywarden respond` end to end on real git repositories with the embedded local keystore: a key
 * issued by the keystore is committed into TypeScript, and after respond the leaked version is
 * revoked, a new version is current, the remediation branch scans clean and type-checks, the audit
 * log verifies, a re-run does nothing twice, and the raw secret is nowhere it must not be.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { PipelineReport } from '../../src/pipeline/types.js';
import { scan } from '../../src/scan/scan.js';
import { git, initRepo } from '../helpers/git-repo.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';

const PROJECT = path.resolve(__dirname, '..', '..');
const TSC = path.join(PROJECT, 'node_modules', '.bin', 'tsc');

let dir: string;
let repo: string;
let state: string;
let env: NodeJS.ProcessEnv;
const outputs: string[] = [];

async function kw(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { cwd: repo, env, stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false });
  outputs.push(out, err);
  return { code, out, err };
}

const POLICY = `version: 1
name: e2e
backend: { kind: local }
secrets:
  on-leak:
    - when: { type: keywarden-key }
      do: [revoke, rotate, open-pr]
      severity: critical
    - when: { type: aws-access-key }
      do: [revoke, rotate, open-pr]
    - do: [open-pr]
`;

let token: string;
let awsPair: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-respond-'));
  repo = path.join(dir, 'app');
  state = path.join(dir, 'state');
  env = {
    PATH: process.env.PATH,
    HOME: dir,
    KEYWARDEN_LOCAL_PASSPHRASE: `local-pass-${randomBytes(6).toString('hex')}`,
    KEYWARDEN_STATE_DIR: state,
    KEYWARDEN_CACHE_DIR: path.join(PROJECT, '.cache', 'keywarden', 'policy'),
    ...(process.env.KEYWARDEN_OPA ? { KEYWARDEN_OPA: process.env.KEYWARDEN_OPA } : {}),
  };
  initRepo(repo);
  mkdirSync(path.join(repo, '.github'), { recursive: true });
  mkdirSync(path.join(repo, 'src'), { recursive: true });
  writeFileSync(path.join(repo, '.github', 'keywarden.yml'), POLICY);
  writeFileSync(path.join(repo, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', types: ['node'], typeRoots: [path.join(PROJECT, 'node_modules', '@types')] }, include: ['src'] }));
  writeFileSync(path.join(repo, 'src', 'main.ts'), "import { config } from './config.js';\nexport const region: string = config.region;\n");
  writeFileSync(path.join(repo, 'src', 'config.ts'), "export const config = { region: 'eu-west-1' };\n");
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'app');

  const created = await kw('keys', 'create', '--spec', 'HMAC_256', '--alias', 'payments-signing', '--exportable', '--reason', 'e2e');
  expect(created.code, created.err).toBe(0);
  const exported = await kw('keys', 'export', 'payments-signing', '--format', 'token');
  expect(exported.code).toBe(0);
  token = exported.out.trim();
  outputs.pop(); // the export's own stdout is the one place the secret is meant to appear
  outputs.pop();
  outputs.push(exported.err);

  const rng = createRng('respond-local');
  awsPair = secretGenerators['aws-credential-pair']!(rng).line;
  // The mistake: the key pasted into the typed config, and an AWS key pair in a second file.
  writeFileSync(
    path.join(repo, 'src', 'config.ts'),
    `// settings\nexport const config = {\n  region: 'eu-west-1',\n  // the signing key\n  signingKey: '${token}',\n};\n`,
  );
  writeFileSync(path.join(repo, 'src', 'legacy.js'), `${awsPair}\n`);
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'settings');
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('keywarden respond (local keystore)', () => {
  let report: PipelineReport;

  it('--dry-run prints the plan and changes nothing', async () => {
    const r = await kw('respond', '.', '--git', 'HEAD~1..HEAD', '--dry-run', '--format', 'json');
    expect(r.code).toBe(1);
    const plan = JSON.parse(r.out) as PipelineReport;
    expect(plan.steps.map((s) => `${s.step.kind}:${s.status}`)).toEqual(['revoke:planned', 'rotate:planned', 'patch:planned']);
    expect(git(repo, 'branch', '--list', 'keywarden/*').trim()).toBe('');
    const key = JSON.parse((await kw('keys', 'describe', 'payments-signing', '--format', 'json')).out) as { currentVersion: number };
    expect(key.currentVersion).toBe(1);
  }, 120_000);

  it('revokes the leaked version, rotates the key and commits the patch on a new branch', async () => {
    const before = git(repo, 'rev-parse', 'HEAD').trim();
    const status = git(repo, 'status', '--porcelain');
    const r = await kw('respond', '.', '--git', 'HEAD~1..HEAD', '--format', 'json');
    expect(r.code).toBe(1);
    report = JSON.parse(r.out) as PipelineReport;
    const kinds = report.steps.map((s) => `${s.step.kind}:${s.status}`);
    expect(kinds).toEqual(['revoke:done', 'rotate:done', 'patch:done']);
    const keyFinding = report.findings.find((f) => f.finding.type === 'keywarden-key')!;
    expect(keyFinding.target).toMatchObject({ kind: 'managed-key', backend: 'local', version: 1, revocable: 'version', how: 'material' });
    expect(keyFinding.actions).toEqual(expect.arrayContaining(['revoke', 'rotate', 'open-pr']));
    // The AWS key cannot be revoked without an AWS backend: said, not dropped.
    const awsNotDone = report.notDone.filter((n) => n.action === 'revoke');
    expect(awsNotDone.length).toBeGreaterThan(0);
    expect(awsNotDone.every((n) => n.reason.includes('no aws-iam revoker'))).toBe(true);
    // The user's branch, work tree and index are untouched.
    expect(git(repo, 'rev-parse', 'HEAD').trim()).toBe(before);
    expect(git(repo, 'status', '--porcelain')).toBe(status);
    expect(git(repo, 'symbolic-ref', '--short', 'HEAD').trim()).toBe('main');

    const d = JSON.parse((await kw('keys', 'describe', 'payments-signing', '--format', 'json')).out) as { currentVersion: number; versions: Array<{ version: number; state: string }> };
    expect(d.currentVersion).toBe(2);
    expect(d.versions.find((v) => v.version === 1)!.state).toBe('revoked');
  }, 120_000);

  it('leaves a branch whose code reads the environment, type-checks and scans clean', async () => {
    const branch = report.patch!.branch;
    expect(branch).toMatch(/^keywarden\/remediate-[0-9a-f]{12}$/);
    const wt = path.join(dir, 'wt');
    git(repo, 'worktree', 'add', '-q', wt, branch);
    const config = readFileSync(path.join(wt, 'src', 'config.ts'), 'utf8');
    expect(config).not.toContain(token);
    expect(config).toMatch(/process\.env/);
    expect(config).toContain('// the signing key');
    expect(readFileSync(path.join(wt, '.env.example'), 'utf8')).toMatch(/^[A-Z_]+=/m);
    expect(readFileSync(path.join(wt, 'REMEDIATION.md'), 'utf8')).toMatch(/filter-repo/);
    execFileSync(TSC, ['-p', wt], { stdio: 'pipe' });
    const clean = await scan({ path: wt, workers: 0 });
    expect(clean.findings.filter((f) => !f.file.startsWith('REMEDIATION'))).toEqual([]);
  }, 120_000);

  it('verifies the audit log, with the key operations and the decision in it', async () => {
    const v = await kw('audit', 'verify');
    expect(v.code).toBe(0);
    const list = await kw('audit', 'list', '--format', 'json');
    const ops = (JSON.parse(list.out) as { records: Array<{ operation: string }> }).records.map((r) => r.operation);
    expect(ops).toEqual(expect.arrayContaining(['revoke-version', 'rotate', 'respond']));
  }, 60_000);

  it('does nothing twice when run again', async () => {
    const r = await kw('respond', '.', '--git', 'HEAD~1..HEAD', '--format', 'json');
    const again = JSON.parse(r.out) as PipelineReport;
    expect(again.steps.every((s) => s.status === 'done' && s.replayed)).toBe(true);
    expect(again.patch?.branch ?? report.patch!.branch).toBe(report.patch!.branch);
    const d = JSON.parse((await kw('keys', 'describe', 'payments-signing', '--format', 'json')).out) as { currentVersion: number };
    expect(d.currentVersion).toBe(2);
    expect(git(repo, 'branch', '--list', 'keywarden/*').trim().split('\n')).toHaveLength(1);
  }, 120_000);

  it('never lets the raw secret reach an output, the stores, a commit or a branch name', () => {
    const awsSecret = /([A-Za-z0-9/+]{40})/.exec(awsPair.slice(awsPair.indexOf('AKIA') + 20))![1]!;
    for (const canary of [token, awsSecret]) {
      for (const o of outputs) expect(o).not.toContain(canary);
      for (const f of readdirSync(state, { recursive: true }) as string[]) {
        const p = path.join(state, f);
        try {
          expect(readFileSync(p).includes(Buffer.from(canary))).toBe(false);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EISDIR') throw e;
        }
      }
      const branch = report.patch!.branch;
      expect(git(repo, 'log', '--format=%B%n%D', `main..${branch}`)).not.toContain(canary);
      expect(branch).not.toContain(canary.slice(0, 12));
      // The branch's tree holds it nowhere (its parent does: that is the history REMEDIATION.md explains).
      expect(() => git(repo, 'grep', '-q', '-F', '-e', canary, branch, '--')).toThrow();
    }
  });
});
