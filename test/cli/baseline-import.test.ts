/**
 * `keywarden baseline import`: each peer format becomes a Keywarden baseline that, given to
 * `keywarden scan --baseline`, suppresses the same findings the peer file does. Hostile files are
 * typed errors. Real files and repositories in temp dirs, fake keys generated at run time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { awsKeys, git } from '../helpers/git-repo.js';

const newKey = awsKeys('baseline-import');
const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const line = (k: string): string => `AWS_ACCESS_KEY_ID=${k}\n`;
let dir: string;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-import-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(cwd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false, cwd, env: {} });
  return { code, out, err };
}

function folder(files: Record<string, string>): string {
  const d = path.join(dir, `d${n++}`);
  for (const [k, v] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(d, k)), { recursive: true });
    writeFileSync(path.join(d, k), v);
  }
  return d;
}

interface Report {
  findings: { file: string; fingerprint: string }[];
  summary: { suppressed: number; suppressedBy?: Record<string, number> };
}

async function report(d: string, extra: string[] = []): Promise<Report> {
  const r = await run(d, ['scan', '.', '--no-config', '--workers', '0', '-f', 'json-report', ...extra]);
  expect(r.code).toBeLessThan(2);
  return JSON.parse(r.out) as Report;
}

const fps = (r: Report): string[] => r.findings.map((f) => `${f.file} ${f.fingerprint}`).sort();

/** Scan with the peer file, import it, scan without it but with the baseline: the same findings stay. */
async function roundTrip(d: string, peerFile: string, source: string, args: string[] = []): Promise<{ baseline: { secrets: Record<string, { reason?: string }> }; err: string }> {
  const withPeer = await report(d);
  expect(withPeer.summary.suppressedBy?.[source]).toBeGreaterThan(0);
  const imported = await run(d, ['baseline', 'import', peerFile, '-o', 'kw-baseline.json', '--no-config', '--workers', '0', ...args]);
  expect(imported.code).toBe(0);
  renameSync(path.join(d, peerFile), path.join(dir, `moved-${n++}`));
  const without = await report(d);
  expect(without.findings.length).toBeGreaterThan(withPeer.findings.length);
  const withBaseline = await report(d, ['--baseline', 'kw-baseline.json']);
  expect(fps(withBaseline)).toEqual(fps(withPeer));
  expect(withBaseline.summary.suppressedBy?.baseline).toBe(withPeer.summary.suppressed);
  return { baseline: JSON.parse(readFileSync(path.join(d, 'kw-baseline.json'), 'utf8')), err: imported.err };
}

describe('baseline import: each format, then scan --baseline suppresses the same findings', () => {
  it('.gitleaksignore', async () => {
    const d = folder({ 'a.txt': line(newKey()), 'b.txt': line(newKey()), '.gitleaksignore': 'a.txt:aws-access-token:1\nc.txt:aws-access-token:4\n' });
    const { baseline, err } = await roundTrip(d, '.gitleaksignore', 'gitleaksignore');
    expect(Object.values(baseline.secrets).map((e) => e.reason)).toEqual(['imported from .gitleaksignore:1: fingerprint a.txt:aws-access-token:1']);
    expect(err).toContain('1 of 2 entries matched no finding');
  });

  it('.gitleaks.toml', async () => {
    const d = folder({ 'test/a.txt': line(newKey()), 'b.txt': line(newKey()), '.gitleaks.toml': "[allowlist]\npaths = ['''^test/''']\n" });
    const { err } = await roundTrip(d, '.gitleaks.toml', 'gitleaks-allowlist');
    expect(err).toContain('path or pattern rule');
  });

  it('.secrets.baseline', async () => {
    const [k1, k2] = [newKey(), newKey()];
    const bl = { results: { 'a.txt': [{ type: 'AWS Access Key', hashed_secret: sha1(k1), line_number: 1, is_secret: false }], 'b.txt': [{ type: 'AWS Access Key', hashed_secret: sha1(k2), line_number: 1, is_secret: true }] } };
    const d = folder({ 'a.txt': line(k1), 'b.txt': line(k2), 'c.txt': line(newKey()), '.secrets.baseline': JSON.stringify(bl) });
    const { baseline, err } = await roundTrip(d, '.secrets.baseline', 'detect-secrets');
    expect(Object.keys(baseline.secrets)).toHaveLength(1);
    expect(err).toContain('not suppressions');
  });

  it('.secretlintignore', async () => {
    const d = folder({ 'vendor/a.txt': line(newKey()), 'b.txt': line(newKey()), '.secretlintignore': 'vendor/\n' });
    await roundTrip(d, '.secretlintignore', 'secretlintignore');
  });

  it('.gitguardian.yaml (a match by value needs no scan, and is never printed)', async () => {
    const [k1, k2] = [newKey(), newKey()];
    const d = folder({ 'a.txt': line(k1), 'b.txt': line(k2), 'docs/c.txt': line(newKey()), 'ggshield.yml': `version: 2\nsecret:\n  ignored-paths: ['docs/']\n  ignored-matches:\n    - name: old\n      match: ${k1}\n` });
    // Under its own name the file is not read by scans: named with --from for the import only.
    const imported = await run(d, ['baseline', 'import', 'ggshield.yml', '--from', 'gitguardian', '--no-config', '--workers', '0']);
    expect(imported.code).toBe(0);
    expect(imported.out + imported.err).not.toContain(k1);
    const b = JSON.parse(imported.out) as { secrets: Record<string, unknown> };
    expect(Object.keys(b.secrets)).toHaveLength(2);
    writeFileSync(path.join(d, 'kw.json'), imported.out);
    const r = await report(d, ['--baseline', 'kw.json']);
    // ggshield.yml's own copy of k1 is the same secret: accepted too.
    expect(r.findings.map((f) => f.file).sort()).toEqual(['b.txt']);
  });

  it('a .gitleaksignore of commit fingerprints is resolved through the history', async () => {
    const d = folder({ 'README.md': 'hi\n' });
    git(d, 'init', '-q', '-b', 'main');
    const k = newKey();
    writeFileSync(path.join(d, 'old.txt'), line(k));
    git(d, 'add', '-A');
    git(d, 'commit', '-qm', 'leak');
    const c = git(d, 'rev-parse', 'HEAD').trim();
    git(d, 'rm', '-q', 'old.txt');
    git(d, 'commit', '-qm', 'remove it');
    writeFileSync(path.join(d, '.gitleaksignore'), `${c.slice(0, 7)}:old.txt:aws-access-token:1\n`);
    const imported = await run(d, ['baseline', 'import', '.gitleaksignore', '-o', 'kw.json', '--no-config', '--workers', '0']);
    expect(imported.code).toBe(0);
    const history = async (extra: string[]): Promise<unknown[]> => JSON.parse((await run(d, ['scan', '.', '--history', '--no-config', '--workers', '0', '-f', 'json', ...extra])).out) as unknown[];
    rmSync(path.join(d, '.gitleaksignore'));
    expect(await history([])).toHaveLength(1);
    expect(await history(['--baseline', 'kw.json'])).toHaveLength(0);
  });

  it('merges into an existing baseline and shows the counts in the text summary', async () => {
    const d = folder({ 'a.txt': line(newKey()), 'b.txt': line(newKey()), '.gitleaksignore': 'a.txt:aws-access-token:1\n' });
    const text = await run(d, ['scan', '.', '--no-config', '--workers', '0']);
    expect(text.out).toContain('1 suppressed (1 gitleaksignore)');
    await run(d, ['scan', '.', '--no-config', '--workers', '0', '--baseline', 'kw.json', '--update-baseline']);
    const imported = await run(d, ['baseline', 'import', '.gitleaksignore', '-o', 'kw.json', '--no-config', '--workers', '0']);
    expect(imported.code).toBe(0);
    expect(Object.keys((JSON.parse(readFileSync(path.join(d, 'kw.json'), 'utf8')) as { secrets: object }).secrets)).toHaveLength(2);
  });
});

describe('baseline import: hostile and bad input', () => {
  it('invalid TOML, JSON and YAML are KW_PEER_FILE_INVALID with a line, never quoting the file', async () => {
    const k = newKey();
    const d = folder({ '.gitleaks.toml': `[allowlist]\nregexes = ['${k}'\n`, '.secrets.baseline': `{"results": {"a": [${k}]}}`, '.gitguardian.yaml': `version: 2\nsecret: [\n  ${k}: {\n` });
    for (const f of ['.gitleaks.toml', '.secrets.baseline', '.gitguardian.yaml']) {
      const r = await run(d, ['baseline', 'import', f, '--no-config']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`${f.replace('.', '\\.')}:\\d+(:\\d+)?: .*KW_PEER_FILE_INVALID`));
      expect(r.err).not.toContain(k);
    }
  });

  it('a huge file is KW_INPUT_TOO_LARGE; an unknown name without --from is a usage error; a missing file is KW_PATH_NOT_FOUND', async () => {
    const d = folder({ 'big.toml': '' });
    writeFileSync(path.join(d, 'big.toml'), Buffer.alloc(33 * 1024 * 1024, 0x23));
    const big = await run(d, ['baseline', 'import', 'big.toml', '--from', 'gitleaks', '--no-config']);
    expect(big.code).toBe(2);
    expect(big.err).toContain('KW_INPUT_TOO_LARGE');
    const unknown = await run(d, ['baseline', 'import', 'big.toml', '--no-config']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('--from');
    const missing = await run(d, ['baseline', 'import', 'nope/.gitleaksignore', '--no-config']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('KW_PATH_NOT_FOUND');
  });
});
