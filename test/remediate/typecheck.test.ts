/**
 * Patched TypeScript must still type-check under `strict` with `@types/node`: the fixtures are
 * filled with fake secrets, checked as they are (so the test would catch a regression, not a
 * broken fixture), patched, and checked again with the project's own tsc.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { patchFile } from '../../src/remediate/index.js';
import { fakePem, fakeSecret, fill, siteOf } from './helpers.js';

const fixtures = fileURLToPath(new URL('../fixtures/remediate/ts/', import.meta.url));
const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
const typeRoots = fileURLToPath(new URL('../../node_modules/@types', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'kw-remediate-tsc-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

function project(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: ['node'],
        typeRoots: [typeRoots],
        noEmit: true,
        skipLibCheck: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        noPropertyAccessFromIndexSignature: true,
      },
      include: ['*.ts'],
    }),
  );
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

function typecheck(dir: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', dir], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('patched TypeScript type-checks', () => {
  it('under strict with @types/node, before and after the patch', () => {
    const values: Record<string, string> = { PEM: fakePem('tc-1'), PEM2: fakePem('tc-2') };
    for (let i = 1; i <= 7; i++) values[`SECRET_${i}`] = fakeSecret(`kwfake${i}_`);
    const originals: Record<string, string> = {};
    const patched: Record<string, string> = {};
    for (const file of ['client-config.ts', 'signing-key.ts']) {
      const text = fill(readFileSync(join(fixtures, file), 'utf8'), values);
      originals[file] = text;
      const sites = Object.values(values)
        .filter((v) => text.includes(v))
        .map((v) => siteOf(text, v, { type: v.startsWith('-----') ? 'private-key' : 'generic-secret' }));
      const r = patchFile({ path: `src/${file}`, text, sites });
      if (r.action !== 'edit') throw new Error(`no edit for ${file}: ${JSON.stringify(r.sites)}`);
      expect(r.method).toBe('ts-morph');
      expect(r.sites.every((s) => s.outcome === 'replaced')).toBe(true);
      for (const v of Object.values(values)) expect(r.text).not.toContain(v);
      patched[file] = r.text;
    }
    expect(patched['client-config.ts']).toContain('/** The Stripe key (a docblock that must survive the patch). */');
    expect(patched['client-config.ts']).toContain('/* keep this comment */');

    const before = typecheck(project('original', originals));
    expect(before.output).toBe('');
    expect(before.status).toBe(0);
    const after = typecheck(project('patched', patched));
    expect(after.output).toBe('');
    expect(after.status).toBe(0);
  });
});
