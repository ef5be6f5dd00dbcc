/**
 * The App end to end against moto: a push adds an AWS key pair (made through moto's IAM); the
 * pushed pair is checked live with STS, the key is deactivated, a replacement is issued into the
 * secret sink, the PR branch holds no secret and still type-checks, the check run and the tracking
 * issue exist, merging the PR closes the issue, and the audit log verifies.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createAppHarness, expectNoCanaryInApp, type AppHarness } from '../helpers/app-harness.js';
import { awsConfigFile, createLeakableAccessKey, useMotoCredentials } from '../helpers/respond-aws.js';
import { PROJECT } from '../helpers/respond-harness.js';
import { motoSkipReason, startMoto, type MotoServer } from '../setup/moto.js';

const TSC = path.join(PROJECT, 'node_modules', '.bin', 'tsc');
const USER = 'deploy-bot';
const POLICY = `version: 1
name: app-aws
secrets:
  on-leak:
    - when: { type: aws-access-key }
      do: [revoke, rotate, open-pr, open-issue, fail-check]
      severity: critical
      message: An AWS key was pushed.
    - do: [open-pr, fail-check]
`;

describe.skipIf(motoSkipReason !== undefined)(`the App on a push that leaks an AWS key (moto)${motoSkipReason ? ` (skipped: ${motoSkipReason})` : ''}`, () => {
  let moto: MotoServer;
  let iam: IAMClient;
  let h: AppHarness;
  let restoreEnv: () => void;
  let leaked: { id: string; secret: string };

  beforeAll(async () => {
    moto = await startMoto();
    restoreEnv = useMotoCredentials(moto);
    iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: moto.credentials });
    leaked = await createLeakableAccessKey(iam, USER);
    h = await createAppHarness({
      env: {
        KEYWARDEN_BACKEND: 'aws-kms',
        KEYWARDEN_AWS_REGION: moto.region,
        KEYWARDEN_AWS_ENDPOINT: moto.endpoint,
        AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
        KEYWARDEN_AUDIT_KEY: randomBytes(32).toString('base64'),
      },
    });
    await h.gh.createRepo('acme', 'infra', {
      files: {
        '.github/keywarden.yml': POLICY,
        'package.json': '{ "name": "infra", "private": true, "type": "module" }\n',
        'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', types: ['node'], typeRoots: [path.join(PROJECT, 'node_modules', '@types')] }, include: ['src'] }),
        'src/index.ts': "import { aws } from './aws.js';\nexport const region: string = aws.region;\n",
      },
    });
  }, 120_000);
  afterEach(() => h.gh.assertNoViolations());
  afterAll(async () => {
    await h?.close();
    restoreEnv?.();
    await moto?.stop();
  });

  it('deactivates the key, issues the replacement, opens the PR and the issue, fails the check', async () => {
    const before = (await h.gh.refSha('acme', 'infra', 'heads/main'))!;
    const after = await h.gh.commit('acme', 'infra', { branch: 'main', files: { 'src/aws.ts': awsConfigFile(leaked.id, leaked.secret) }, message: 'deploy settings' });
    const t0 = Date.now();
    expect((await h.deliver(await h.gh.pushEvent('acme', 'infra', { before, after }))).status).toBe(202);
    expect(Date.now() - t0).toBeLessThan(30_000);
    await h.idle();

    const keys = ((await iam.send(new ListAccessKeysCommand({ UserName: USER }))).AccessKeyMetadata ?? []).map((k) => ({ id: k.AccessKeyId!, status: k.Status! }));
    expect(keys.find((k) => k.id === leaked.id)?.status).toBe('Inactive');
    const replacement = keys.find((k) => k.id !== leaked.id);
    expect(replacement?.status).toBe('Active');
    const stored = JSON.parse(readFileSync(path.join(h.state, 'issued', `aws-iam-${USER}.json`), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    expect(stored.accessKeyId).toBe(replacement!.id);

    const pr = [...h.gh.repoState('acme', 'infra').pulls.values()][0]!;
    expect(pr.body).toContain('An AWS key was pushed');
    expect(pr.body).toMatch(/\.github\/keywarden\.yml#L\d+/);
    const patched = (await h.gh.readFile('acme', 'infra', pr.head.ref, 'src/aws.ts'))!;
    expect(patched).not.toContain(leaked.secret);
    expect(patched).toMatch(/process\.env\['[A-Z_]+'\]/);

    // The PR branch type-checks.
    const wt = mkdtempSync(path.join(tmpdir(), 'kw-app-wt-'));
    try {
      for (const f of ['package.json', 'tsconfig.json', 'src/index.ts', 'src/aws.ts']) {
        mkdirSync(path.dirname(path.join(wt, f)), { recursive: true });
        writeFileSync(path.join(wt, f), (await h.gh.readFile('acme', 'infra', pr.head.ref, f))!);
      }
      execFileSync(TSC, ['-p', wt], { stdio: 'pipe' });
    } finally {
      rmSync(wt, { recursive: true, force: true });
    }

    const checks = h.gh.checkRuns('acme', 'infra').filter((c) => c.head_sha === after);
    expect(checks.map((c) => c.conclusion)).toEqual(['failure']);
    const issues = [...h.gh.repoState('acme', 'infra').issues.values()];
    expect(issues).toHaveLength(1);
    expect(issues[0]!.state).toBe('open');
    expect(issues[0]!.body).toContain(`#${pr.number}`);

    expectNoCanaryInApp(h, leaked.secret);
    expect(h.lines.join('\n')).not.toContain(stored.secretAccessKey);
    for (const r of h.gh.requests) expect(JSON.stringify(r.body ?? '')).not.toContain(stored.secretAccessKey);
  }, 120_000);

  it('closes the tracking issue when the fix is merged', async () => {
    const pr = [...h.gh.repoState('acme', 'infra').pulls.values()][0]!;
    await h.gh.mergePull('acme', 'infra', pr.number);
    const d = await h.gh.pullRequestEvent('acme', 'infra', pr.number, 'closed');
    expect((await h.deliver(d)).status).toBe(202);
    await h.idle();
    expect([...h.gh.repoState('acme', 'infra').issues.values()][0]!.state).toBe('closed');
  }, 60_000);

  it('verifies the audit log', async () => {
    let out = '';
    const code = await main(['audit', 'verify'], { cwd: h.state, env: h.env, stdout: (s) => void (out += s), stderr: (s) => void (out += s), isTTY: false });
    expect(code, out).toBe(0);
  }, 60_000);
});
