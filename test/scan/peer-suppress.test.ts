/**
 * Peers' suppressions: each format suppresses exactly what it names, counted by source; in a
 * range only the base revision's files count; hostile peer files become counted warnings.
 * Real files, real git repositories in temp dirs, fake keys generated at run time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareScan, type DetectMode } from '../../src/pipeline/detect.js';
import { formatSummary } from '../../src/scan/format/text.js';
import { scan } from '../../src/scan/scan.js';
import { parseGitGuardianConfig } from '../../src/scan/suppress/gitguardian.js';
import { parseGitleaksConfig, parseGitleaksIgnore } from '../../src/scan/suppress/gitleaks.js';
import { parseSecretsBaseline } from '../../src/scan/suppress/detect-secrets.js';
import { jsonErrorOffset } from '../../src/scan/suppress/json-position.js';
import type { ScanResult } from '../../src/scan/types.js';
import { awsKeys, git } from '../helpers/git-repo.js';

const newKey = awsKeys('peer-suppress');
const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const line = (k: string): string => `AWS_ACCESS_KEY_ID=${k}\n`;

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-peer-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function folder(files: Record<string, string>): string {
  const d = path.join(dir, `d${n++}`);
  write(d, files);
  return d;
}

function write(d: string, files: Record<string, string>): void {
  for (const [k, v] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(d, k)), { recursive: true });
    writeFileSync(path.join(d, k), v);
  }
}

async function run(root: string, mode: DetectMode = { kind: 'tree' }): Promise<ScanResult & { notes: { code: string; message: string }[] }> {
  const { options, notes } = await prepareScan({ cwd: root, root, mode, config: false, scan: { workers: 0 } });
  const r = await scan(options);
  return { ...r, notes };
}

const files = (r: ScanResult): string[] => r.findings.map((f) => f.file).sort();

describe('.gitleaksignore', () => {
  it('suppresses the file:rule:line it names, and nothing else', async () => {
    const d = folder({
      'a.txt': `# config\n${line(newKey())}`,
      'b.txt': line(newKey()),
      'c.txt': line(newKey()),
      '.gitleaksignore': ['# triaged', 'a.txt:aws-access-token:2', 'b.txt:aws-access-token:7', 'c.txt:github-pat:1', 'not a fingerprint', ''].join('\n'),
    });
    const r = await run(d);
    // b: wrong line; c: a rule of another provider Keywarden knows.
    expect(files(r)).toEqual(['b.txt', 'c.txt']);
    expect(r.summary.suppressedBy).toEqual({ gitleaksignore: 1 });
    expect(r.summary.suppressed).toBe(1);
    expect(r.notes.map((w) => w.code)).toContain('KW_PEER_IGNORE_INVALID');
    expect(formatSummary(r.summary, false)).toContain('1 suppressed (1 gitleaksignore)');
  });

  it('in a history scan, a commit:file:rule:line matches only that commit', async () => {
    const repo = folder({ 'README.md': 'hi\n' });
    git(repo, 'init', '-q', '-b', 'main');
    write(repo, { 'old.txt': line(newKey()), 'other.txt': line(newKey()) });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'leak');
    const c = git(repo, 'rev-parse', 'HEAD').trim();
    writeFileSync(path.join(repo, '.gitleaksignore'), `${c}:old.txt:aws-access-token:1\n${'0'.repeat(40)}:other.txt:aws-access-token:1\n`);
    const r = await run(repo, { kind: 'history' });
    expect(files(r)).toEqual(['other.txt']);
    expect(r.summary.suppressedBy).toEqual({ gitleaksignore: 1 });
    // A tree scan has no commit: the commit form does not match there.
    expect(files(await run(repo))).toEqual(['old.txt', 'other.txt']);
    // A .gitleaks.toml allowlist of that commit allows every finding it brought.
    rmSync(path.join(repo, '.gitleaksignore'));
    writeFileSync(path.join(repo, '.gitleaks.toml'), `[allowlist]\ncommits = ['${c}']\n`);
    const all = await run(repo, { kind: 'history' });
    expect(files(all)).toEqual([]);
    expect(all.summary.suppressedBy).toEqual({ 'gitleaks-allowlist': 2 });
  });

  it('parses from the right, takes abbreviated commits and backslashed paths', () => {
    const r = parseGitleaksIgnore('abc1234:src\\a:b.ts:generic-api-key:12\nx:y.txt:aws:3\n');
    expect(r.rules).toMatchObject([
      { kind: 'location', commit: 'abc1234', file: 'src/a:b.ts', line: 12, peerRule: 'generic-api-key' },
      { kind: 'location', file: 'x:y.txt', line: 3 },
    ]);
  });
});

describe('.gitleaks.toml allowlists', () => {
  it('paths, regexes (secret and line targets) and stopwords suppress what they name', async () => {
    const [k1, k2, k3, k4, k5] = [newKey(), newKey(), newKey(), newKey(), newKey()];
    const toml = [
      '[allowlist]',
      "description = 'old style'",
      "paths = ['''^fixtures/''']",
      `regexes = ['''^${k2}$''']`,
      `stopwords = ['${k3.slice(6, 14).toLowerCase()}']`,
      '',
      '[[rules]]',
      "id = 'aws-access-token'",
      '[[rules.allowlists]]',
      "regexTarget = 'line'",
      "regexes = ['''#\\s*NOTREAL''']",
    ].join('\n');
    const d = folder({
      'fixtures/a.txt': line(k1),
      'b.txt': line(k2),
      'c.txt': line(k3),
      'd.txt': `AWS_ACCESS_KEY_ID=${k4} # NOTREAL\n`,
      'e.txt': line(k5),
      '.gitleaks.toml': toml,
    });
    const r = await run(d);
    // The copy of k2 in .gitleaks.toml's own regex is the same secret: allowed as well.
    expect(files(r)).toEqual(['e.txt']);
    expect(r.summary.suppressedBy).toEqual({ 'gitleaks-allowlist': 5 });
  });

  it('[[allowlists]] with condition AND needs every check; an uncompilable pattern drops only its allowlist', async () => {
    const [k1, k2] = [newKey(), newKey()];
    const toml = [
      '[[allowlists]]',
      "condition = 'AND'",
      "paths = ['''^keep/''']",
      `stopwords = ['${k1.slice(5, 12).toLowerCase()}']`,
      '[[allowlists]]',
      "regexes = ['''(?<=x)y''']",
    ].join('\n');
    const d = folder({ 'keep/a.txt': line(k1), 'keep/b.txt': line(k2), '.gitleaks.toml': toml });
    const r = await run(d);
    expect(files(r)).toEqual(['keep/b.txt']);
    expect(r.notes.filter((w) => w.code === 'KW_PEER_IGNORE_INVALID')).toHaveLength(1);
  });
});

describe("detect-secrets' .secrets.baseline", () => {
  it('suppresses by SHA-1 in the named file only; audited false and unaudited counted apart; is_secret true kept', async () => {
    const [k1, k2, k3] = [newKey(), newKey(), newKey()];
    const baseline = {
      version: '1.5.0',
      results: {
        'a.txt': [{ type: 'AWS Access Key', filename: 'a.txt', hashed_secret: sha1(k1), is_verified: false, line_number: 1, is_secret: false }],
        'b.txt': [{ type: 'AWS Access Key', filename: 'b.txt', hashed_secret: sha1(k2), is_verified: false, line_number: 1 }],
        'c.txt': [{ type: 'AWS Access Key', filename: 'c.txt', hashed_secret: sha1(k3), is_verified: false, line_number: 1, is_secret: true }],
      },
    };
    // The same key as a.txt's in another file is not named there.
    const d = folder({ 'a.txt': line(k1), 'b.txt': `\n\n${line(k2)}`, 'c.txt': line(k3), 'copy.txt': line(k1), '.secrets.baseline': JSON.stringify(baseline, null, 2) });
    const r = await run(d);
    expect(files(r)).toEqual(['c.txt', 'copy.txt']);
    expect(r.summary.suppressedBy).toEqual({ 'detect-secrets': 1, 'detect-secrets-unaudited': 1 });
  });

  it('honours its file filters (exclude_files) through the linear-time engine', () => {
    const r = parseSecretsBaseline(JSON.stringify({ filters_used: [{ path: 'detect_secrets.filters.regex.should_exclude_file', pattern: ['^tests/', '(?=x)'] }], results: {} }));
    expect(r.rules).toHaveLength(1);
    expect(r.warnings.map((w) => w.code)).toEqual(['KW_PEER_IGNORE_UNSUPPORTED']);
  });
});

describe('.secretlintignore and .gitguardian.yaml', () => {
  it('secretlintignore: gitignore patterns, negation included', async () => {
    const d = folder({ 'vendor/a.txt': line(newKey()), 'vendor/keep.txt': line(newKey()), 'src/a.txt': line(newKey()), '.secretlintignore': '# generated\nvendor/*\n!vendor/keep.txt\n' });
    const r = await run(d);
    expect(files(r)).toEqual(['src/a.txt', 'vendor/keep.txt']);
    expect(r.summary.suppressedBy).toEqual({ secretlintignore: 1 });
  });

  it('gitguardian v2: ignored-paths globs and ignored-matches by secret or its SHA-256', async () => {
    const [k1, k2, k3, k4] = [newKey(), newKey(), newKey(), newKey()];
    const yaml = ['version: 2', 'secret:', '  ignored-paths:', "    - 'docs/**'", '  ignored-matches:', `    - name: old key`, `      match: ${k2}`, `    - match: ${sha256(k3)}`].join('\n');
    const d = folder({ 'docs/x/a.md': line(k1), 'b.txt': line(k2), 'c.txt': line(k3), 'd.txt': line(k4), '.gitguardian.yaml': yaml });
    const r = await run(d);
    // The copy of k2 in .gitguardian.yaml itself is the same secret: suppressed too.
    expect(files(r)).toEqual(['d.txt']);
    expect(r.summary.suppressedBy).toEqual({ gitguardian: 4 });
  });

  it('gitguardian v1: paths-ignore and matches-ignore', () => {
    const k = newKey();
    const r = parseGitGuardianConfig(`paths-ignore:\n  - '**/fixtures/'\nmatches-ignore:\n  - ${k}\n`);
    expect(r.rules.map((x) => x.kind)).toEqual(['match', 'path']);
    expect(JSON.stringify(r.rules)).not.toContain(k);
  });
});

describe('git ranges and staged changes read peer files at the base revision', () => {
  function repoWith(files: Record<string, string>): string {
    const repo = folder({ 'README.md': 'hi\n', ...files });
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'base');
    return repo;
  }

  it('a .gitleaksignore added inside the range is NOT obeyed, and the change is reported', async () => {
    const repo = repoWith({});
    const base = git(repo, 'rev-parse', 'HEAD').trim();
    write(repo, { 'leak.txt': line(newKey()), '.gitleaksignore': 'leak.txt:aws-access-token:1\n', '.secretlintignore': '*.txt\n' });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'leak and hide it');
    const r = await run(repo, { kind: 'range', range: `${base}..HEAD` });
    expect(files(r)).toEqual(['leak.txt']);
    expect(r.summary.suppressedBy).toBeUndefined();
    expect(r.notes.filter((w) => w.code === 'KW_POLICY_CHANGED_IN_RANGE').map((w) => w.message).join('\n')).toContain('.gitleaksignore');
    // The tree scan of the same checkout honours the team's file.
    expect(files(await run(repo))).toEqual([]);
  });

  it("the base revision's .gitleaksignore is obeyed; an edit in the range that widens it is not", async () => {
    const repo = repoWith({ '.gitleaksignore': 'known.txt:aws-access-token:1\n' });
    const base = git(repo, 'rev-parse', 'HEAD').trim();
    write(repo, { 'known.txt': line(newKey()), 'new.txt': line(newKey()), '.gitleaksignore': 'known.txt:aws-access-token:1\nnew.txt:aws-access-token:1\n' });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'more');
    const r = await run(repo, { kind: 'range', range: `${base}..HEAD` });
    expect(files(r)).toEqual(['new.txt']);
    expect(r.summary.suppressedBy).toEqual({ gitleaksignore: 1 });
    expect(r.notes.map((w) => w.code)).toContain('KW_POLICY_CHANGED_IN_RANGE');
  });

  it('staged changes: HEAD’s .secrets.baseline counts, a staged edit of it does not', async () => {
    const [k1, k2] = [newKey(), newKey()];
    const bl = (keys: [string, string][]): string => JSON.stringify({ results: Object.fromEntries(keys.map(([f, k]) => [f, [{ hashed_secret: sha1(k), line_number: 1, is_secret: false }]])) });
    const repo = repoWith({ '.secrets.baseline': bl([['one.txt', k1]]) });
    write(repo, { 'one.txt': line(k1), 'two.txt': line(k2), '.secrets.baseline': bl([['one.txt', k1], ['two.txt', k2]]) });
    git(repo, 'add', '-A');
    const r = await run(repo, { kind: 'staged' });
    expect(files(r)).toEqual(['two.txt']);
    expect(r.summary.suppressedBy).toEqual({ 'detect-secrets': 1 });
    expect(r.notes.map((w) => w.code)).toContain('KW_POLICY_CHANGED_IN_RANGE');
  });
});

describe('hostile peer files', () => {
  it('too large, symlinked, invalid TOML/JSON/YAML, alias bombs, huge and invalid regexes: counted warnings, the scan goes on', async () => {
    const key = newKey();
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    const d = folder({
      'a.txt': line(key),
      '.gitleaksignore': `${'x'.repeat(1024)}\n`.repeat(1100),
      '.gitleaks.toml': `[allowlist]\npaths = ['''${'a'.repeat(1_000_000)}''']\n`,
      '.secrets.baseline': `{"results": {"a.txt": [{"hashed_secret": "${sha1(key)}", ${'['.repeat(100_000)}`,
      '.gitguardian.yaml': bomb,
      '.secretlintignore': '*.txt\n',
    });
    rmSync(path.join(d, '.secretlintignore'));
    symlinkSync('/etc/passwd', path.join(d, '.secretlintignore'));
    const r = await run(d);
    expect(files(r)).toEqual(['a.txt']);
    const codes = r.notes.map((w) => `${w.code} ${w.message.split(':')[0]}`);
    expect(codes).toEqual(
      expect.arrayContaining([
        'KW_PEER_IGNORE_UNREADABLE .gitleaksignore',
        'KW_PEER_IGNORE_INVALID .gitleaks.toml',
        'KW_PEER_IGNORE_INVALID .secrets.baseline',
        'KW_PEER_IGNORE_INVALID .gitguardian.yaml',
        'KW_PEER_IGNORE_UNREADABLE .secretlintignore',
      ]),
    );
    expect(JSON.stringify(r.notes)).not.toContain(key);
    expect(JSON.stringify(r.notes)).not.toContain('root:');
  });

  it('invalid TOML and YAML name the line; messages never quote the file', () => {
    const k = newKey();
    const t = parseGitleaksConfig(`[allowlist]\nstopwords = ['ok']\nregexes = ['${k}'\n`);
    expect(t.warnings[0]).toMatchObject({ code: 'KW_PEER_IGNORE_INVALID', line: expect.any(Number), column: expect.any(Number) });
    expect(JSON.stringify(t.warnings)).not.toContain(k);
    const y = parseGitGuardianConfig(`version: 2\nsecret:\n  ignored-matches:\n    - match: "${k}\n  bad: [\n`);
    expect(y.warnings[0]).toMatchObject({ code: 'KW_PEER_IGNORE_INVALID', line: expect.any(Number) });
    expect(JSON.stringify(y.warnings)).not.toContain(k);
  });

  it('a catastrophic-backtracking pattern runs in linear time on a long line', async () => {
    const d = folder({ 'a.txt': `AWS_ACCESS_KEY_ID=${newKey()} ${'a'.repeat(60_000)}!\n`, '.gitleaks.toml': "[allowlist]\nregexTarget = 'line'\nregexes = ['''(a+)+$''', '''(a|aa)*b''']\n" });
    const r = await run(d);
    expect(files(r)).toEqual(['a.txt']);
  });

  it('locates a JSON error where JSON.parse only quotes the text, in one pass', () => {
    for (const t of ['{"a":[1,2,{"b":null}],"c":"x\\"y"}', '[]', '{}', ' 1 ', '[-1.5e3,true,false]']) expect(jsonErrorOffset(t), t).toBeUndefined();
    for (const t of ['{"a": [AKIA]}', '{"a":1,}', '{"a" 1}', '[1 2]', '{"a":', '1 2', '{a:1}', '[1,]']) {
      expect(jsonErrorOffset(t), t).toBeDefined();
      expect(() => JSON.parse(t)).toThrow();
    }
    expect(jsonErrorOffset('{"results": {"a": [AKIA]}}')).toBe(19);
    expect(jsonErrorOffset('['.repeat(200_000))).toBe(200_000);
  });
});
