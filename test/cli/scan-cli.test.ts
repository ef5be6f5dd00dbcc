import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import AjvDraft04 from 'ajv-draft-04';
import { main } from '../../src/cli/main.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';

const require = createRequire(import.meta.url);
const rng = createRng(20261128);
// Canary secrets: generated now, planted in the repo below; none may appear in any output.
const planted = ['aws-credential-pair', 'github-pat-classic', 'stripe-secret-key', 'private-key-pem', 'slack-webhook-url', 'postgres-connection-uri'].map((id) => ({
  id,
  ...secretGenerators[id]!(rng),
}));

let dir: string;
let repo: string;

async function run(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    isTTY: false,
    cwd: repo,
    env: {},
    ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
  });
  return { code, out, err };
}

function expectNoCanary(text: string): void {
  for (const p of planted) {
    expect(text).not.toContain(p.secret);
    // Nor any long piece of it (a multi-line key must not leak line by line).
    for (const piece of p.secret.split(/\s+/).filter((x) => x.length >= 16)) expect(text).not.toContain(piece);
  }
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-cli-'));
  repo = path.join(dir, 'repo');
  mkdirSync(path.join(repo, 'src'), { recursive: true });
  const git = (...a: string[]): string =>
    execFileSync('git', a, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'A', GIT_AUTHOR_EMAIL: 'a@x.test', GIT_COMMITTER_NAME: 'A', GIT_COMMITTER_EMAIL: 'a@x.test' } });
  git('init', '-q', '-b', 'main');
  writeFileSync(path.join(repo, 'README.md'), 'hello\n');
  git('add', '.');
  git('commit', '-qm', 'init');
  planted.forEach((p, i) => writeFileSync(path.join(repo, 'src', `f${i}.txt`), `// file ${i}\n${p.line}\n`));
  git('add', '.');
  git('commit', '-qm', 'leak');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keywarden scan', () => {
  it('exits 1 with findings, prints them grouped by file with a one-line summary, and never the secret', async () => {
    const r = await run(['scan', '.', '--no-progress']);
    expect(r.code).toBe(1);
    for (let i = 0; i < planted.length; i++) expect(r.out).toContain(`src/f${i}.txt`);
    expect(r.out).toMatch(/✖ \d+ findings? in 6 files · \d+ files \(.+\) scanned · 0 skipped · [\d.]+ s/);
    expectNoCanary(r.out + r.err);
  });

  it('exits 0 on a clean tree', async () => {
    const r = await run(['scan', 'README.md']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('no secrets found');
  });

  it('--format json is an array of findings valid against the published schema', async () => {
    const r = await run(['scan', '.', '--format', 'json']);
    expect(r.code).toBe(1);
    const findings = JSON.parse(r.out) as { ruleId: string; file: string }[];
    const ajv = new Ajv2020.default({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const schema = JSON.parse(readFileSync(path.resolve('schemas/findings.schema.json'), 'utf8'));
    const validate = ajv.compile(schema);
    expect(validate(findings), JSON.stringify(validate.errors)).toBe(true);
    expect(new Set(findings.map((f) => f.file)).size).toBe(planted.length);
    expectNoCanary(r.out + r.err);
    expect(r.err).toMatch(/findings? in 6 files/); // summary on stderr keeps stdout parseable
  });

  it('--format sarif is valid SARIF 2.1.0', async () => {
    const r = await run(['scan', '.', '--format', 'sarif']);
    const log = JSON.parse(r.out);
    const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
    const schema = JSON.parse(readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
    const validate = ajv.compile(schema);
    expect(validate(log), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(log.runs[0].results.length).toBeGreaterThanOrEqual(planted.length);
    expectNoCanary(r.out);
  });

  it('--git attributes findings to the commit and author', async () => {
    const r = await run(['scan', '.', '--git', 'HEAD~1..HEAD', '--format', 'json']);
    const findings = JSON.parse(r.out) as { commit: string; author: string }[];
    expect(findings.length).toBeGreaterThanOrEqual(planted.length);
    expect(findings.every((f) => /^[0-9a-f]{40}$/.test(f.commit) && f.author === 'A')).toBe(true);
    const t = await run(['scan', '.', '--git', 'HEAD~1..HEAD']);
    expect(t.out).toMatch(/commit [0-9a-f]{12} by A <a@x.test>/);
  });

  it('--stdin scans piped content', async () => {
    const r = await run(['scan', '--stdin', '--stdin-name', 'piped.env', '--format', 'json'], planted[2]!.line);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)[0].file).toBe('piped.env');
    expectNoCanary(r.out + r.err);
  });

  it('a baseline written with --update-baseline silences known secrets but not new ones', async () => {
    const b = path.join(dir, 'baseline.json');
    const w = await run(['scan', '.', '--baseline', b, '--update-baseline']);
    expect(w.code).toBe(0);
    const text = readFileSync(b, 'utf8');
    expectNoCanary(text);
    expect(Object.keys(JSON.parse(text).secrets).length).toBeGreaterThanOrEqual(planted.length);
    expect((await run(['scan', '.', '--baseline', b])).code).toBe(0);
    const extra = secretGenerators['npm-access-token']!(rng);
    writeFileSync(path.join(repo, 'new.txt'), `${extra.line}\n`);
    const again = await run(['scan', '.', '--baseline', b, '--format', 'json']);
    rmSync(path.join(repo, 'new.txt'));
    expect(again.code).toBe(1);
    expect((JSON.parse(again.out) as { file: string }[]).map((f) => f.file)).toEqual(['new.txt']);
  });

  it.each([
    [['scan', 'does-not-exist'], 'KW_PATH_NOT_FOUND'],
    [['scan', '.', '--git', 'nope..HEAD'], 'KW_BAD_REVISION_RANGE'],
    [['scan', '.', '--git', 'HEAD', '--history'], 'KW_USAGE'],
    [['scan', '.', '--max-file-size', 'lots'], 'KW_USAGE'],
    [['scan', '.', '--detectors', 'nonsense'], 'KW_DETECTOR_INVALID'],
  ])('exits 2 with a clear message for %j', async (args, code) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(code);
  });

  it('exits 2 for a broken baseline file and names the line', async () => {
    const b = path.join(dir, 'broken.json');
    writeFileSync(b, '{\n  "version": 1,\n  "secrets": {,}\n}\n');
    const r = await run(['scan', '.', '--baseline', b]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/broken\.json:3:\d+: .*KW_BASELINE_INVALID/);
  });

  it('exits 2 for an unknown option and prints usage help on --help', async () => {
    expect((await run(['scan', '--frobnicate'])).code).toBe(2);
    const h = await run(['scan', '--help']);
    expect(h.code).toBe(0);
    expect(h.out).toContain('--git <range>');
  });

  it("reads the key policy's secrets: block: custom detectors and ignored paths", async () => {
    const custom = `itk_${'k'.repeat(4)}${Math.random().toString(36).slice(2, 10).padEnd(8, 'q')}${'0123456789abcdefghij'}`;
    mkdirSync(path.join(repo, '.github'), { recursive: true });
    writeFileSync(
      path.join(repo, '.github', 'keywarden.yml'),
      ['version: 1', 'secrets:', '  detectors: [recommended, { id: internal-token, pattern: "itk_[a-z0-9]{32}" }]', '  ignore-paths: ["src/f0.txt"]', ''].join('\n'),
    );
    writeFileSync(path.join(repo, 'internal.txt'), `token ${custom}\n`);
    try {
      const r = await run(['scan', '.', '--format', 'json']);
      const files = (JSON.parse(r.out) as { file: string; ruleId: string }[]).map((f) => `${f.file}:${f.ruleId}`);
      expect(files).toContain('internal.txt:internal-token');
      expect(files.some((f) => f.startsWith('src/f0.txt'))).toBe(false);
      expect(files.some((f) => f.startsWith('src/f1.txt'))).toBe(true);
      const off = await run(['scan', '.', '--no-config', '--format', 'json']);
      expect((JSON.parse(off.out) as { file: string }[]).some((f) => f.file === 'src/f0.txt')).toBe(true);
      writeFileSync(path.join(repo, '.github', 'keywarden.yml'), 'version: 1\nsecrets:\n  detectors: [{ id: bad, pattern: 12 }]\n');
      const broken = await run(['scan', '.']);
      expect(broken.code).toBe(2);
      expect(broken.err).toMatch(/keywarden\.yml:3:\d+/);
    } finally {
      rmSync(path.join(repo, '.github'), { recursive: true, force: true });
      rmSync(path.join(repo, 'internal.txt'));
    }
  });

  it('--format json-report carries the summary, the skipped files and the warnings, counted by reason; no secret', async () => {
    writeFileSync(path.join(repo, '.gitignore'), 'local.env\n');
    writeFileSync(path.join(repo, 'local.env'), `${planted[1]!.line}\n`);
    try {
      const r = await run(['scan', '.', '--format', 'json-report']);
      expect(r.code).toBe(1);
      const report = JSON.parse(r.out) as { findings: unknown[]; summary: { skippedBy: Record<string, number> }; skipped: { file: string; reason: string }[]; warnings: unknown[] };
      expect(report.findings.length).toBeGreaterThan(0);
      expect(report.summary.skippedBy.gitignored).toBe(1);
      expect(report.skipped).toContainEqual(expect.objectContaining({ file: 'local.env', reason: 'gitignored' }));
      expect(Array.isArray(report.warnings)).toBe(true);
      expectNoCanary(r.out);
      const text = await run(['scan', '.']);
      expect(text.out).toContain('1 ignored by .gitignore; --no-gitignore to scan it');
      const all = await run(['scan', '.', '--no-gitignore', '--format', 'json']);
      expect((JSON.parse(all.out) as { file: string }[]).some((f) => f.file === 'local.env')).toBe(true);
    } finally {
      rmSync(path.join(repo, '.gitignore'));
      rmSync(path.join(repo, 'local.env'));
    }
  });

  it('--all-occurrences goes with --history only (a usage error otherwise)', async () => {
    const r = await run(['scan', '.', '--all-occurrences']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--all-occurrences goes with --history');
    const h = await run(['scan', '.', '--history', '--all-occurrences', '--format', 'json']);
    expect(h.code).toBe(1);
  });

  it('honours a .gitleaksignore, counted by source; --no-peer-ignores reads none', async () => {
    const first = (JSON.parse((await run(['scan', '.', '--format', 'json'])).out) as { file: string; startLine: number; fingerprint: string }[])[0]!;
    writeFileSync(path.join(repo, '.gitleaksignore'), `${first.file}:generic-api-key:${first.startLine}\n`);
    try {
      const r = await run(['scan', '.', '--format', 'json-report']);
      const report = JSON.parse(r.out) as { findings: { fingerprint: string }[]; summary: { suppressedBy?: Record<string, number> } };
      expect(report.findings.map((f) => f.fingerprint)).not.toContain(first.fingerprint);
      expect(report.summary.suppressedBy?.gitleaksignore).toBeGreaterThanOrEqual(1); // every finding on that line
      const off = await run(['scan', '.', '--no-peer-ignores', '--format', 'json']);
      expect((JSON.parse(off.out) as { fingerprint: string }[]).map((f) => f.fingerprint)).toContain(first.fingerprint);
    } finally {
      rmSync(path.join(repo, '.gitleaksignore'));
    }
  });
});
