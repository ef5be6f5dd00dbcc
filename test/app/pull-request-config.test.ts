/**
 * The App's pull-request check runs `keywarden check` too: a PR that adds or changes a
 * configuration file gets the key policy's violations it brings annotated at their file and line
 * (the policy from the default branch, the built-in packs through `extends:`), including a
 * violation its change causes in a file it does not touch (a variable's default turned bad);
 * violations that were on the default branch already are counted, not held against the PR; a file
 * that does not parse is a warning at its line, never a crash.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAppHarness, type AppHarness } from '../helpers/app-harness.js';
import { tokenOctokit } from '../github-fake/clients.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/inspect/terraform');
const POLICY = 'version: 1\nname: infra\nextends: [keywarden:aws-kms-baseline, keywarden:leak-response]\n';
const BAD_KEY = 'resource "aws_kms_key" "legacy" {\n  description         = "legacy"\n  enable_key_rotation = false\n}\n';

describe('the App checks the key configuration a pull request changes', () => {
  let h: AppHarness;
  let n = 0;
  const main = readFileSync(path.join(FIXTURES, 'compliant/main.tf'), 'utf8');
  const variables = readFileSync(path.join(FIXTURES, 'compliant/variables.tf'), 'utf8');
  beforeAll(async () => {
    h = await createAppHarness();
    await h.gh.createRepo('acme', 'infra', { files: { 'README.md': '# infra\n', '.github/keywarden.yml': POLICY, 'infra/main.tf': main, 'infra/variables.tf': variables, 'old/kms.tf': BAD_KEY } });
  });
  afterEach(() => h.gh.assertNoViolations());
  afterAll(async () => h?.close());

  const openPr = async (files: Record<string, string | null>, repo = 'infra'): Promise<{ number: number; head: string }> => {
    const branch = `change-${++n}`;
    const base = (await h.gh.refSha('acme', repo, 'heads/main'))!;
    const head = await h.gh.commit('acme', repo, { branch, files, parent: base });
    const octokit = tokenOctokit(h.gh, h.gh.createInstallationToken(1));
    const pr = await octokit.request('POST /repos/{owner}/{repo}/pulls', { owner: 'acme', repo, head: branch, base: 'main', title: `change ${n}` });
    expect((await h.deliver(await h.gh.pullRequestEvent('acme', repo, pr.data.number, 'opened'))).status).toBe(202);
    await h.idle();
    return { number: pr.data.number, head };
  };
  const checkOf = (sha: string, repo = 'infra') => h.gh.checkRuns('acme', repo).filter((c) => c.head_sha === sha).at(-1)!;

  it('fails on a key the PR adds with rotation off, annotated at its resource with the rule and the pack line', async () => {
    const { head } = await openPr({ 'payments/kms.tf': `# payments\n\n${BAD_KEY}` });
    const check = checkOf(head);
    expect(check.conclusion).toBe('failure');
    expect(check.output.title).toMatch(/key policy violation/);
    const mine = check.annotations.filter((a) => a.path === 'payments/kms.tf');
    expect(mine).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'payments/kms.tf', start_line: 3, annotation_level: 'failure', title: expect.stringContaining('rotation/automatic') })]));
    expect(mine.every((a) => /policy keywarden:aws-kms-baseline:\d+/.test(a.message))).toBe(true);
    // The violation already on the default branch is not the PR's.
    expect(check.annotations.some((a) => a.path === 'old/kms.tf')).toBe(false);
    expect(check.output.summary).toMatch(/violation that were there before this change|violations that were there before this change/);
  }, 60_000);

  it("fails when a changed variable makes a key in a file the PR does not touch break the policy", async () => {
    const { head } = await openPr({ 'infra/variables.tf': variables.replace('default = 90', 'default = 400') });
    const check = checkOf(head);
    expect(check.conclusion).toBe('failure');
    const line = main.split('\n').findIndex((l) => l.startsWith('resource "aws_kms_key" "payments"')) + 1;
    expect(check.annotations).toEqual([expect.objectContaining({ path: 'infra/main.tf', start_line: line, title: expect.stringContaining('rotation') })]);
  }, 60_000);

  it('passes a compliant change, and says what was there before', async () => {
    const { head } = await openPr({ 'infra/variables.tf': variables.replace('default = 90', 'default = 30') });
    const check = checkOf(head);
    expect(check.conclusion).toBe('success');
    expect(check.annotations).toEqual([]);
    expect(check.output.summary).toContain('brings no violation of the key policy');
    expect(check.output.summary).toMatch(/that were there before/);
  }, 60_000);

  it('reports a changed file that does not parse as a warning at its line, and checks the rest', async () => {
    const { head } = await openPr({ 'broken/kms.tf': 'resource "aws_kms_key" "x" {\n  enable_key_rotation = \n', 'more/kms.tf': BAD_KEY });
    const check = checkOf(head);
    expect(check.conclusion).toBe('failure');
    expect(check.annotations).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'broken/kms.tf', annotation_level: 'warning' }), expect.objectContaining({ path: 'more/kms.tf', annotation_level: 'failure' })]));
  }, 60_000);

  it('keeps hostile resource names out of the Markdown: in code spans only', async () => {
    const { head } = await openPr({ 'evil/kms.tf': BAD_KEY.replace('"legacy"', '"[pwn](https://evil.example) @acme/admins <img src=x>"') });
    const check = checkOf(head);
    expect(check.conclusion).toBe('failure');
    const outside = (check.output.summary ?? '').replace(/`[^`\n]*`/g, '');
    expect(outside).not.toMatch(/evil\.example|@acme\/admins|<img/);
    expect(check.output.summary).toContain('evil.example');
  }, 60_000);

  it('checks a PR that only deletes a configuration file: a removed tfvars can turn rotation off', async () => {
    await h.gh.createRepo('acme', 'vars', {
      files: {
        '.github/keywarden.yml': POLICY,
        'kms.tf': 'variable "rotate" {\n  default = false\n}\n\nresource "aws_kms_key" "k" {\n  description         = "k"\n  enable_key_rotation = var.rotate\n}\n',
        'terraform.tfvars': 'rotate = true\n',
      },
    });
    const { head } = await openPr({ 'terraform.tfvars': null }, 'vars');
    const check = checkOf(head, 'vars');
    expect(check.conclusion).toBe('failure');
    expect(check.annotations).toEqual([expect.objectContaining({ path: 'kms.tf', title: expect.stringContaining('rotation/automatic') })]);
  }, 60_000);

  it('holds a new call of a module to the policy even when another root already calls it the same way', async () => {
    const mod = 'variable "rotate" {}\n\nresource "aws_kms_key" "k" {\n  description         = "k"\n  enable_key_rotation = var.rotate\n}\n';
    const call = 'module "kms" {\n  source = "../../modules/kms"\n  rotate = false\n}\n';
    await h.gh.createRepo('acme', 'roots', { files: { '.github/keywarden.yml': POLICY, 'modules/kms/main.tf': mod, 'envs/dev/main.tf': call } });
    const { head } = await openPr({ 'envs/prod/main.tf': call }, 'roots');
    const check = checkOf(head, 'roots');
    expect(check.conclusion).toBe('failure');
    expect(check.annotations).toEqual([expect.objectContaining({ path: 'modules/kms/main.tf', start_line: 3, message: expect.stringContaining('via envs/prod/main.tf:1') })]);
    expect(check.output.summary).toMatch(/via envs\/prod\/main\.tf/);
  }, 60_000);

  it('fails when a configuration file of the PR cannot be read (over the size cap), and says why', async () => {
    const { head } = await openPr({ 'huge/kms.tf': `${BAD_KEY}${'# pad\n'.repeat(400_000)}` });
    const check = checkOf(head);
    expect(check.conclusion).toBe('failure');
    expect(check.output.title).toMatch(/1 configuration file not read/);
    expect(check.annotations).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'huge/kms.tf', annotation_level: 'failure', title: 'Not checked: not read' })]));
  }, 60_000);

  it('does not fetch the repository for a PR that changes no configuration', async () => {
    const { head } = await openPr({ 'docs/notes.md': '# notes\n' });
    const check = checkOf(head);
    expect(check.conclusion).toBe('success');
    expect(check.output.summary).not.toContain('Key configuration');
  }, 60_000);
});
