/** Reading the fixtures of `test/fixtures/inspect/`, and picking facts out of a result. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Fact, FactKind, InspectResult, Value } from '../../src/inspect/facts.js';

export const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'inspect');

/** Every file under `dir` (relative to the fixtures), with paths relative to the fixtures folder. */
export function fixtureFiles(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(FIXTURES, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (statSync(path.join(FIXTURES, r)).isDirectory()) walk(r);
      else out.push({ path: r, text: readFileSync(path.join(FIXTURES, r), 'utf8') });
    }
  };
  walk(dir);
  return out;
}

export function fixture(rel: string): string {
  return readFileSync(path.join(FIXTURES, rel), 'utf8');
}

export function factNamed<K extends FactKind>(r: InspectResult, kind: K, name: string): Extract<Fact, { kind: K }> {
  const f = r.facts.find((x) => x.kind === kind && x.name === name);
  if (!f) throw new Error(`no ${kind} fact named ${name}; have ${r.facts.map((x) => `${x.kind}:${x.name}`).join(', ')}`);
  return f as Extract<Fact, { kind: K }>;
}

/** The value of a known Value, or a thrown error naming its state. */
export function valueOf<T>(v: Value<T>): T {
  if (v.state !== 'known') throw new Error(`expected a known value, got ${JSON.stringify(v)}`);
  return v.value;
}
