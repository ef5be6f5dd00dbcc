/** `keywarden policy …` through `main()`, in-process, with captured output. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { FIXTURES, opa, tempDir, writeTemp } from './helpers.js';

const REPO = join(FIXTURES, 'repo');

async function cli(args: string[], cwd = REPO): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['policy', ...args], { cwd, stdout: (s) => void (out += s), stderr: (s) => void (err += s), env: { ...process.env, KEYWARDEN_OPA: opa() } });
  return { code, out, err };
}

describe('keywarden policy', () => {
  it('validate: exit 0 and a summary; every problem with file:line:column and exit 2 for a broken policy', async () => {
    expect(await cli(['validate'])).toMatchObject({ code: 0, out: '.github/keywarden.yml: OK (1 key class, 1 leak rule, 0 exceptions)\n' });
    const dir = tempDir();
    writeTemp(dir, 'bad.yml', 'version: 1\nkeys:\n  - name: a\n    rotation: { max-age: 90 }\n  - name: a\n');
    const bad = await cli(['validate', 'bad.yml'], dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('bad.yml:4:26: `keys[0].rotation.max-age` must be a string. [KW_POLICY_INVALID]');
    expect(bad.err).toContain('bad.yml:5:11: Key class "a" is defined twice');
    expect(bad.err).toContain('2 problems.');
    const json = await cli(['validate', 'bad.yml', '-f', 'json'], dir);
    expect(JSON.parse(json.out).errors).toHaveLength(2);
    expect((await cli(['validate', 'missing.yml'], dir)).code).toBe(2);
  });

  it('compile: Rego on stdout, or rules as JSON', async () => {
    const r = await cli(['compile']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('package keywarden.demo\n');
    const j = JSON.parse((await cli(['compile', '-f', 'json'])).out);
    expect(j.entrypoint).toBe('keywarden/demo/decision');
    expect(j.rules.map((x: { id: string }) => x.id)).toEqual(['keys/all-keys/match', 'keys/all-keys/rotation/max-age', 'secrets/on-leak/0']);
  });

  it('build, eval (exit 1 on violations, with custom modules), explain and test', async () => {
    const b = JSON.parse((await cli(['build', '-f', 'json'])).out);
    expect(b.entrypoint).toBe('keywarden/demo/decision');
    expect(b.hash).toMatch(/^[0-9a-f]{64}$/);
    const e = await cli(['eval', '-i', 'input.json', '-f', 'json']);
    expect(e.code).toBe(1);
    expect(JSON.parse(e.out).violations.map((v: { rule: string }) => v.rule)).toEqual(['custom/no-test-keys', 'keys/all-keys/rotation/max-age']);
    const text = await cli(['eval', '-i', 'input.json']);
    expect(text.out).toContain('keys/all-keys/rotation/max-age ← .github/keywarden.yml:7:26');
    const x = await cli(['explain', '-i', 'input.json']);
    expect(x.out).toContain('because of .github/keywarden.yml:7:26 (keys/all-keys/rotation/max-age)\n    | rotation: { max-age: 365d }');
    expect((await cli(['explain'])).out).toContain('.github/keywarden.yml:7:26  keys/all-keys/rotation/max-age');
    const t = await cli(['test']);
    expect(t.out).toContain('PASS: 2/2');
    expect(t.code).toBe(0);
  });

  it('eval: a bad input is a typed error with exit 2', async () => {
    const dir = tempDir();
    writeTemp(dir, 'in.json', '{"keys": 3}');
    writeTemp(dir, 'p.yml', 'version: 1\n');
    const r = await cli(['eval', 'p.yml', '-i', 'in.json'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain('[KW_POLICY_EVAL]');
  });

  it('OPA missing: a typed OPA_NOT_FOUND error', async () => {
    let err = '';
    const code = await main(['policy', 'build'], { cwd: REPO, stdout: () => {}, stderr: (s) => void (err += s), env: { KEYWARDEN_OPA: '/nonexistent/opa', PATH: '' } });
    expect(code).toBe(2);
    expect(err).toContain('[KW_OPA_NOT_FOUND]');
  });
});
