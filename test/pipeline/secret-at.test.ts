import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cutRange, readSecretAt } from '../../src/pipeline/secret-at.js';
import { fingerprintSecret } from '../../src/scan/redact.js';
import { scanText } from '../../src/scan/scan-text.js';
import { git, initRepo } from '../helpers/git-repo.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kw-secret-at-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readSecretAt: the secret re-read from the source at act time', () => {
  it('returns the secret at the commit and range a finding recorded, and only if its fingerprint matches', async () => {
    const repo = path.join(dir, 'r');
    initRepo(repo);
    const line = secretGenerators['github-pat-classic']!(createRng('secret-at')).line;
    writeFileSync(path.join(repo, 'a.ts'), `// ünïcode first\nconst t = 1;\n${line}\n`);
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'leak');
    const commit = git(repo, 'rev-parse', 'HEAD').trim();
    const [f] = scanText(`// ünïcode first\nconst t = 1;\n${line}\n`, { file: 'a.ts' });
    const secret = await readSecretAt(repo, { ...f!, commit });
    expect(fingerprintSecret(secret)).toBe(f!.fingerprint);

    // Later commits change the file: the recorded commit still has it.
    writeFileSync(path.join(repo, 'a.ts'), 'clean\n');
    git(repo, 'commit', '-qam', 'fix');
    expect(fingerprintSecret(await readSecretAt(repo, { ...f!, commit }))).toBe(f!.fingerprint);
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    // At another commit, a stale range, or a forged fingerprint: a typed refusal, no secret in the message.
    for (const loc of [{ ...f!, commit: head }, { ...f!, commit, startColumn: f!.startColumn + 1 }, { ...f!, commit, fingerprint: fingerprintSecret('x') }, { ...f!, commit, file: 'nope.ts' }]) {
      const e = await readSecretAt(repo, loc).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'KW_SECRET_NOT_AT_SOURCE' });
      expect(String((e as Error).message)).not.toContain(secret);
    }
  });

  it('cuts ranges exactly and refuses ranges that do not fit', () => {
    expect(cutRange('ab\ncdef\n', { startLine: 2, startColumn: 2, endLine: 2, endColumn: 4 })).toBe('de');
    expect(cutRange('ab\ncd', { startLine: 1, startColumn: 2, endLine: 2, endColumn: 2 })).toBe('b\nc');
    expect(cutRange('ab', { startLine: 3, startColumn: 1, endLine: 3, endColumn: 2 })).toBeUndefined();
    expect(cutRange('ab\ncd', { startLine: 1, startColumn: 9, endLine: 1, endColumn: 10 })).toBeUndefined();
  });
});
