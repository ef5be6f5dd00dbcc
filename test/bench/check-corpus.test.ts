/**
 * The `bench/check` corpus is consistent with its manifest: every case has its folder and files,
 * every folder is a case, expectations are well formed, and the corpus is as large and as varied as
 * issue 12 asks. Fast: writes the corpus to a temp folder, runs neither Keywarden nor Checkov.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCases, isCompliant, POLICY_FILE, POLICY_TEXT, VIOLATION_KINDS, writeCheckCorpus, type Manifest } from '../../bench/check/corpus.js';

describe('bench/check corpus', () => {
  let dir: string;
  let corpus: string;
  let manifest: Manifest;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kw-check-corpus-'));
    corpus = path.join(dir, 'corpus');
    writeCheckCorpus({ corpusDir: corpus, manifestFile: path.join(dir, 'manifest.json'), gitInit: false });
    manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has at least 120 cases, 30 of them compliant, in every format', () => {
    const cases = Object.values(manifest.cases);
    expect(cases.length).toBeGreaterThanOrEqual(120);
    expect(cases.filter(isCompliant).length).toBeGreaterThanOrEqual(30);
    const formats = new Set(cases.map((c) => c.format));
    expect([...formats].sort()).toEqual(['cloudformation-json', 'cloudformation-yaml', 'terraform', 'terraform-json']);
  });

  it('gives every case its folder and files, and has no folder that is not a case', () => {
    for (const [name, c] of Object.entries(manifest.cases)) {
      expect(statSync(path.join(corpus, name)).isDirectory(), name).toBe(true);
      expect(c.files.length, name).toBeGreaterThan(0);
      for (const f of c.files) expect(existsSync(path.join(corpus, name, f)), `${name}/${f}`).toBe(true);
    }
    const folders = readdirSync(corpus).filter((n) => !n.startsWith('.'));
    expect(folders.sort()).toEqual(Object.keys(manifest.cases).sort());
    expect(readFileSync(path.join(corpus, POLICY_FILE), 'utf8')).toBe(POLICY_TEXT);
  });

  it('writes each expectation once, with a known kind, and a key either wrong or `none`', () => {
    const kinds = new Set<string>([...VIOLATION_KINDS, 'none']);
    for (const [name, c] of Object.entries(manifest.cases)) {
      expect(c.expected.length, name).toBeGreaterThan(0);
      const seen = new Set<string>();
      for (const e of c.expected) {
        expect(kinds.has(e.kind), `${name}: ${e.kind}`).toBe(true);
        expect(e.resource, name).toMatch(/^[A-Za-z][A-Za-z0-9_.]*$/);
        const k = `${e.resource}\0${e.kind}`;
        expect(seen.has(k), `${name}: ${e.resource} ${e.kind} twice`).toBe(false);
        seen.add(k);
      }
      for (const e of c.expected.filter((x) => x.kind === 'none')) {
        expect(c.expected.filter((x) => x.resource === e.resource).length, `${name}: ${e.resource} is none and wrong`).toBe(1);
      }
    }
  });

  it('expects every kind of problem several times', () => {
    for (const kind of VIOLATION_KINDS) {
      const n = Object.values(manifest.cases).reduce((sum, c) => sum + c.expected.filter((e) => e.kind === kind).length, 0);
      expect(n, kind).toBeGreaterThanOrEqual(5);
    }
  });

  it('writes valid JSON, the resources it names, and the same corpus every time', () => {
    for (const [name, c] of Object.entries(manifest.cases)) {
      for (const f of c.files.filter((x) => x.endsWith('.json'))) expect(() => JSON.parse(readFileSync(path.join(corpus, name, f), 'utf8')), `${name}/${f}`).not.toThrow();
      const text = c.files.map((f) => readFileSync(path.join(corpus, name, f), 'utf8')).join('\n');
      for (const e of c.expected) {
        const [type, id] = e.resource.includes('.') ? e.resource.split('.') : [undefined, e.resource];
        if (type && c.format === 'terraform') expect(text, `${name}: ${e.resource}`).toContain(`resource "${type}" "${id}"`);
        else expect(text, `${name}: ${e.resource}`).toContain(id!);
      }
    }
    expect(JSON.stringify(createCases())).toBe(JSON.stringify(createCases()));
  });
});
