/**
 * A policy is hostile input: `extends:` and every file it names stay inside the repository (or
 * the revision a git source reads), an error never quotes a file that is not a policy, and
 * `policy eval` refuses inputs too large or too deep before they cost time or memory.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, ftruncateSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { isKeywardenError } from '../../src/errors.js';
import { readPolicy } from '../../src/policy/engine/load.js';
import { parseInputJson } from '../../src/policy/input.js';
import { createDiskPolicySource, createGitPolicySource } from '../../src/policy/source.js';
import { opa } from './helpers.js';

const CANARY = 'CANARY-5f1e0c9a-not-a-policy';

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['policy', ...args], { cwd, stdout: (s) => void (out += s), stderr: (s) => void (err += s), env: { ...process.env, KEYWARDEN_OPA: opa() } });
  return { code, out, err };
}

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.test', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.test', GIT_CONFIG_GLOBAL: '/dev/null' },
  });

/** A git work tree with the given files; `extends:` policies live under `.github/`. */
function repo(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-policy-source-'));
  git(dir, 'init', '-q', '-b', 'main');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const extending = (target: string): string => `version: 1\nname: repo\nextends: [${JSON.stringify(target)}]\n`;

async function rejection(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    if (!isKeywardenError(e)) throw e;
    return e.toJSON();
  }
  throw new Error('expected a rejection');
}

describe('extends: stays inside the repository', () => {
  it('refuses an absolute path at the extends entry, for validate in text and JSON, without reading it', async () => {
    const dir = repo({ '.github/keywarden.yml': extending('/etc/passwd') });
    const r = await cli(['validate'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain('.github/keywarden.yml:3:11: `extends:` names an absolute path');
    expect(r.err).toContain('[KW_POLICY_EXTENDS]');
    expect(r.err + r.out).not.toMatch(/root:|nologin|\/bin\/(ba)?sh/);
    const e = await rejection(readPolicy('.github/keywarden.yml', { cwd: dir }));
    expect(e).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'absolute' }, location: { file: '.github/keywarden.yml', line: 3, column: 11 } });
  });

  it('refuses `..` that leaves the repository, even through a folder that exists', async () => {
    const dir = repo({ '.github/keywarden.yml': extending('../../etc/passwd'), 'a/b.yml': extending('../../../x.yml') });
    expect(await rejection(readPolicy('.github/keywarden.yml', { cwd: dir }))).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'escape' } });
    expect(await rejection(readPolicy('a/b.yml', { cwd: dir }))).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'escape' } });
    // `..` that stays inside is fine.
    const ok = repo({ '.github/keywarden.yml': extending('../org/defaults.yml'), 'org/defaults.yml': 'version: 1\nname: org\n' });
    expect((await readPolicy('.github/keywarden.yml', { cwd: ok })).name).toBe('repo');
  });

  it('refuses a symlink inside the repository that points at /etc/passwd (also as the policy file itself), and never prints it', async () => {
    const dir = repo({ '.github/keywarden.yml': extending('passwd.yml') });
    symlinkSync('/etc/passwd', join(dir, '.github/passwd.yml'));
    symlinkSync('/etc', join(dir, 'etc'));
    const r = await cli(['validate', '-f', 'json'], dir);
    expect(r.code).toBe(2);
    expect(r.out + r.err).not.toMatch(/root:|nologin/);
    const e = await rejection(readPolicy('.github/keywarden.yml', { cwd: dir }));
    expect(e).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'symlink-escape', code: 'KW_PATH_REFUSED' }, location: { line: 3, column: 11 } });
    // Through a symlinked folder, existing or not.
    writeFileSync(join(dir, 'b.yml'), extending('etc/passwd'));
    writeFileSync(join(dir, 'c.yml'), extending('etc/no-such-file.yml'));
    expect(await rejection(readPolicy('b.yml', { cwd: dir }))).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'symlink-escape' } });
    expect(await rejection(readPolicy('c.yml', { cwd: dir }))).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'symlink-escape' } });
    // The policy file itself as a symlink out of the repository.
    symlinkSync('/etc/passwd', join(dir, 'root.yml'));
    const root = await cli(['validate', 'root.yml'], dir);
    expect(root.code).toBe(2);
    expect(root.err).toContain('[KW_PATH_REFUSED]');
    expect(root.err).not.toMatch(/root:|nologin/);
    // A symlink that stays inside the repository is followed.
    symlinkSync('org.yml', join(dir, 'alias.yml'));
    writeFileSync(join(dir, 'org.yml'), 'version: 1\nname: org\n');
    writeFileSync(join(dir, 'd.yml'), extending('alias.yml'));
    expect((await readPolicy('d.yml', { cwd: dir })).name).toBe('repo');
  });

  it('never quotes a file that is not a policy: plain text, YAML without version, broken YAML, JSON, binary', async () => {
    const targets: Record<string, string> = {
      'notes.txt': `${CANARY} root:x:0:0:root:/root:/bin/bash\n`,
      'keys.yml': `${CANARY}: value\n${CANARY}-2: [a, b]\n`,
      'broken.yml': `key: [${CANARY}\n  : : ${CANARY} }\n`,
      'package.json': JSON.stringify({ name: CANARY, version: '1.0.0', [CANARY]: { x: 1 } }),
      'blob.bin': `\u0000${CANARY}\u0000`,
      'tabs.yml': `a:\n\t${CANARY}: 1\n`,
    };
    for (const [name, text] of Object.entries(targets)) {
      const dir = repo({ '.github/keywarden.yml': extending(`../${name}`), [name]: text });
      for (const format of ['text', 'json']) {
        const r = await cli(['validate', '-f', format], dir);
        expect(r.code, name).toBe(2);
        expect(r.out + r.err, name).not.toContain(CANARY);
        expect(r.out + r.err, name).toContain(`${name} is not a Keywarden policy`);
        expect(r.out + r.err, name).toMatch(/line \d+, column \d+/);
      }
      const e = await rejection(readPolicy('.github/keywarden.yml', { cwd: dir }));
      expect(JSON.stringify(e), name).not.toContain(CANARY);
      expect(e, name).toMatchObject({ code: 'KW_POLICY_EXTENDS', location: { file: name }, details: { problems: [{ details: { reason: 'not-a-policy' } }] } });
    }
  });

  it('still reports the problems of an extended file that is a policy', async () => {
    const dir = repo({ '.github/keywarden.yml': extending('org.yml'), '.github/org.yml': 'version: 1\nkeys:\n  - name: a\n    rotation: { max-age: 90 }\n' });
    const r = await cli(['validate'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain('.github/org.yml:4:26: `keys[0].rotation.max-age` must be a string.');
  });

  it('reads keywarden:<name> packs from the package, never from the repository; refuses unknown packs, FIFOs, devices and folders (never opened)', async () => {
    const dir = repo({
      'p.yml': extending('keywarden:recommended'),
      'k.yml': extending('keywarden:aws-kms-baseline'),
      // A repository file named like a pack is not the pack.
      'keywarden:aws-kms-baseline': 'version: 1\nname: fake\n',
      't.yml': extending('keywarden:../../package'),
      'f.yml': extending('fifo.yml'),
      'd.yml': extending('/dev/zero'),
      'g.yml': extending('sub'),
    });
    execFileSync('mkfifo', [join(dir, 'fifo.yml')]);
    mkdirSync(join(dir, 'sub'));
    expect(await rejection(readPolicy('p.yml', { cwd: dir }))).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'unknown-pack' } });
    expect(await rejection(readPolicy('t.yml', { cwd: dir }))).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'unknown-pack' } });
    const pack = await readPolicy('k.yml', { cwd: dir });
    expect(pack.keys.map((k) => k.name)).toEqual(['aws-kms-symmetric-rotation', 'aws-kms-keys']);
    expect(pack.keys[0]!.loc.file).toBe('keywarden:aws-kms-baseline');
    expect(await rejection(readPolicy('f.yml', { cwd: dir }))).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'not-a-file' } });
    expect(await rejection(readPolicy('d.yml', { cwd: dir }))).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'absolute' } });
    expect(await rejection(readPolicy('g.yml', { cwd: dir }))).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'not-a-file' } });
  });

  it('a disk source refuses absolute paths, escapes and big files; a missing file is undefined', async () => {
    const dir = repo({ 'a.yml': 'version: 1\n', 'big.yml': `# ${'x'.repeat(1024 * 1024)}\n` });
    const source = createDiskPolicySource(dir);
    expect(await source.read('a.yml')).toBe('version: 1\n');
    expect(await source.read('./x/../a.yml')).toBe('version: 1\n');
    expect(await source.read('missing.yml')).toBeUndefined();
    for (const [p, reason] of [
      ['/etc/passwd', 'absolute'],
      ['../a.yml', 'escape'],
      ['a\\..\\..\\x', 'invalid'],
      ['', 'invalid'],
    ] as const)
      expect(await rejection(source.read(p)), p).toMatchObject({ code: 'KW_PATH_REFUSED', details: { reason } });
    expect(await rejection(source.read('big.yml'))).toMatchObject({ code: 'KW_POLICY_TOO_LARGE' });
  });
});

describe('a git policy source', () => {
  it('reads a revision, not the work tree; extends resolve inside the same revision', async () => {
    const dir = repo({ '.github/keywarden.yml': extending('org.yml'), '.github/org.yml': 'version: 1\nname: org\nkeys:\n  - name: from-main\n    match: { alias: "alias/*" }\n' });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'policy');
    writeFileSync(join(dir, '.github/org.yml'), 'version: 1\nname: org\nkeys:\n  - name: from-work-tree\n    match: { alias: "alias/*" }\n');
    const source = createGitPolicySource(dir, 'main');
    expect(source.name).toBe('git:main');
    const ast = await readPolicy('.github/keywarden.yml', { source });
    expect(ast.keys.map((k) => `${k.name}@${k.loc.file}`)).toEqual(['from-main@.github/org.yml']);
    expect(await source.read('.github/nope.yml')).toBeUndefined();
    expect(await source.read('nope/deeper.yml')).toBeUndefined();
    expect(await rejection(source.read('../x.yml'))).toMatchObject({ code: 'KW_PATH_REFUSED', details: { reason: 'escape' } });
    expect(await rejection(source.read('.github'))).toMatchObject({ code: 'KW_PATH_REFUSED', details: { reason: 'not-a-file' } });
    expect(await rejection(createGitPolicySource(dir, 'no-such-branch').read('.github/keywarden.yml'))).toMatchObject({ code: 'KW_BAD_REVISION_RANGE' });
    expect(await rejection(createGitPolicySource(dir, '--output=/tmp/x').read('a.yml'))).toMatchObject({ code: 'KW_BAD_REVISION_RANGE' });
  });

  it('refuses a symlink entry (mode 120000) and a submodule instead of following them', async () => {
    const dir = repo({ 'org.yml': 'version: 1\nname: org\n' });
    symlinkSync('/etc/passwd', join(dir, 'passwd.yml'));
    symlinkSync('org.yml', join(dir, 'inside.yml'));
    mkdirSync(join(dir, 'linkdir-target'));
    writeFileSync(join(dir, 'linkdir-target/p.yml'), 'version: 1\n');
    symlinkSync('linkdir-target', join(dir, 'linkdir'));
    writeFileSync(join(dir, 'a.yml'), extending('passwd.yml'));
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'links');
    // A gitlink (submodule entry) without a real submodule: what a hostile tree can hold.
    const head = git(dir, 'rev-parse', 'HEAD').trim();
    git(dir, 'update-index', '--add', '--cacheinfo', `160000,${head},vendor`);
    git(dir, 'commit', '-qm', 'gitlink');
    const source = createGitPolicySource(dir, 'HEAD');
    expect(await rejection(source.read('passwd.yml'))).toMatchObject({ code: 'KW_PATH_REFUSED', details: { reason: 'symlink' } });
    expect(await rejection(source.read('inside.yml'))).toMatchObject({ code: 'KW_PATH_REFUSED', details: { reason: 'symlink' } });
    expect(await rejection(source.read('vendor'))).toMatchObject({ code: 'KW_PATH_REFUSED', details: { reason: 'submodule' } });
    expect(await source.read('linkdir/p.yml')).toBeUndefined(); // trees do not follow a symlinked folder
    const e = await rejection(readPolicy('a.yml', { source }));
    expect(e).toMatchObject({ code: 'KW_POLICY_EXTENDS', details: { reason: 'symlink' }, location: { file: 'a.yml', line: 3, column: 11 } });
    expect(JSON.stringify(e)).not.toMatch(/root:|nologin/);
  });
});

describe('a git policy source, looked up in one run (prefetch)', () => {
  it('answers each prefetched path exactly as a lone read would: present, absent, refused, and names that are patterns elsewhere', async () => {
    const dir = repo({ 'org.yml': 'version: 1\nname: org\n', '*.yml': 'star\n', 'dir/a.yml': 'a\n' });
    symlinkSync('org.yml', join(dir, 'link.yml'));
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'files');
    const names = ['org.yml', 'missing.yml', 'link.yml', '*.yml', 'dir', 'dir/a.yml', 'dir/nope.yml', '../escape.yml', ':(glob)**'];
    const answer = async (read: (n: string) => Promise<string | undefined>, n: string): Promise<unknown> => {
      try {
        return { text: await read(n) };
      } catch (e) {
        return { code: (e as { code?: string }).code, reason: (e as { details?: { reason?: string } }).details?.reason };
      }
    };
    const alone = await Promise.all(names.map((n) => answer((x) => createGitPolicySource(dir, 'HEAD').read(x), n)));
    const batched = createGitPolicySource(dir, 'HEAD');
    await batched.prefetch(names);
    expect(await Promise.all(names.map((n) => answer((x) => batched.read(x), n)))).toEqual(alone);
    expect(alone[0]).toEqual({ text: 'version: 1\nname: org\n' });
    expect(alone[1]).toEqual({ text: undefined });
    expect(alone[2]).toMatchObject({ code: 'KW_PATH_REFUSED', reason: 'symlink' });
    // Pathspec magic is literal (git runs with --literal-pathspecs): `*.yml` is that one file.
    expect(alone[3]).toEqual({ text: 'star\n' });
    expect(alone[8]).toEqual({ text: undefined });
  });

  it('a bad revision fails the prefetch and then each read, typed', async () => {
    const dir = repo({ 'a.yml': 'version: 1\n' });
    const source = createGitPolicySource(dir, 'no-such-branch');
    expect(await rejection(source.prefetch(['a.yml']))).toMatchObject({ code: 'KW_BAD_REVISION_RANGE' });
    expect(await rejection(source.read('a.yml'))).toMatchObject({ code: 'KW_BAD_REVISION_RANGE' });
  });
});

describe('policy eval: inputs too large or too deep', () => {
  const policy = (): string => repo({ 'p.yml': 'version: 1\n' });

  it('a 100,000-deep JSON array is exit 2 with KW_INPUT_TOO_DEEP and a location', async () => {
    const dir = policy();
    writeFileSync(join(dir, 'deep.json'), `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const r = await cli(['eval', 'p.yml', '-i', 'deep.json'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain('[KW_INPUT_TOO_DEEP]');
    expect(r.err).toContain('more than 64 levels deep (at line 1, column 65)');
    // Brackets inside strings do not count; a shallow input with a deep-looking string is fine.
    expect(() => parseInputJson(JSON.stringify({ now: '2026-01-01T00:00:00Z', x: '[[[[['.repeat(100) }))).not.toThrow();
    expect(() => parseInputJson(`{"a":"\\"${'['.repeat(100)}"}`)).not.toThrow();
  });

  it('an input whose size says 200 MB is refused before it is read: exit 2 with KW_INPUT_TOO_LARGE', async () => {
    const dir = policy();
    const fd = openSync(join(dir, 'big.json'), 'w');
    ftruncateSync(fd, 200 * 1024 * 1024); // sparse: claims 200 MB, costs nothing
    closeSync(fd);
    const r = await cli(['eval', 'p.yml', '-i', 'big.json'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain('[KW_INPUT_TOO_LARGE]');
    expect(r.err).toContain('big.json is larger than 67108864 bytes');
  });

  it('an input that is not JSON is a typed error that does not quote it', async () => {
    const dir = policy();
    writeFileSync(join(dir, 'bad.json'), `{"now": ${CANARY}}`);
    const r = await cli(['eval', 'p.yml', '-i', 'bad.json'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain('[KW_POLICY_EVAL]');
    expect(r.err).not.toContain(CANARY);
  });
});

describe('explain prints source lines only from the policy files it read', () => {
  it('a custom module that names /etc/passwd as its policy file gets no source line', async () => {
    const dir = repo({
      '.github/keywarden.yml': 'version: 1\nname: demo\n',
      'policies/leak.rego': 'package keywarden.custom.leak\n\nviolations contains v if {\n\tv := {"rule": "custom/x", "message": "m", "severity": "low", "policy": {"file": "/etc/passwd", "line": 1, "path": ""}, "subject": {"kind": "config"}}\n}\n',
      'in.json': '{"now": "2026-01-01T00:00:00Z"}',
    });
    const r = await cli(['explain', '-i', 'in.json'], dir);
    expect(r.out).toContain('because of /etc/passwd:1:? (custom/x)');
    expect(r.out + r.err).not.toMatch(/root:|nologin/);
  });
});
