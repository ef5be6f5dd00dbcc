/**
 * A stream of push decisions for one repository, the workload of the GitHub App: the bench input's
 * estate (bench/policy/input.ts: 200 keys, 100 findings, 50 facts) judged push after push.
 * Deterministic (seeded), so every run judges the same stream.
 *
 * Per push:
 * - time moves on 1–15 minutes (10,000 pushes span about 55 days: keys cross max-ages, overdue
 *   keys' age in days changes every midnight, exceptions expire);
 * - 70% go to `main`, 30% to a feature branch, a new branch name every third feature push;
 * - 1–12 changed files (`repo.files`), drawn from 5,000 paths; 1% of pushes add a forbidden file;
 * - the findings are the repository's current ones, 100, as a full check reports them: 25% of
 *   pushes edit a file with findings (their lines move), 10% fix a real leak and leak a new one
 *   elsewhere (so the mix of the bench input stays: 12 real leaks, the rest ignored or excepted);
 * - 3% of pushes edit a config file (one fact changes);
 * - every 250 pushes one key is rotated in the backend, and the key inventory is replaced.
 *
 * Each push is kept as JSON text and parsed just before its decision, so every decision gets fresh
 * objects, as a server does from a webhook and a scan.
 */
import type { ManagedKeyInput } from '../../src/policy/input.js';
import { benchInput } from './input.js';

export interface Push {
  /** The decision input without `keys` (the inventory is resident), as JSON text. */
  input: string;
  /** A replacement key inventory to set before this push's decision, if a key was rotated. */
  inventory?: ManagedKeyInput[];
}

/** mulberry32: a small deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The starting key inventory and the pushes, made one at a time (10,000 pushes would be 400 MB of JSON held at once). */
export function pushStream(n: number, seed = 20261128): { keys: ManagedKeyInput[]; pushes: Iterable<Push> } {
  const base = benchInput() as Record<string, unknown> & { keys: ManagedKeyInput[] };
  return { keys: base.keys, pushes: { [Symbol.iterator]: () => pushes(n, seed) } };
}

function* pushes(n: number, seed: number): Generator<Push> {
  const r = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const chance = (p: number): boolean => r() < p;
  const base = benchInput() as Record<string, unknown> & { keys: ManagedKeyInput[]; findings: Array<Record<string, unknown>>; facts: Array<Record<string, unknown>>; repo: Record<string, unknown> };
  const keys = base.keys.map((k) => ({ ...k }));
  const findings = base.findings.map((f) => ({ ...f }));
  const facts = base.facts.map((f) => ({ ...f }));
  const paths = Array.from({ length: 5000 }, (_, i) => `${['src/', 'src/lib/', 'test/', 'docs/', 'deploy/'][i % 5]}mod-${i % 97}/file-${i}.${['ts', 'ts', 'json', 'md', 'yaml'][i % 5]}`);
  let now = Date.parse(String(base.now));
  let branch = 0;
  let leak = 0;
  for (let p = 0; p < n; p++) {
    now += int(60_000, 15 * 60_000);
    const toMain = chance(0.7);
    if (!toMain && chance(1 / 3)) branch++;
    const files = Array.from({ length: int(1, 12) }, () => paths[int(0, paths.length - 1)] ?? 'src/x.ts');
    if (chance(0.01)) files.push(['deploy/.env', 'config/tls/new.pem', 'keystore.jks'][int(0, 2)] ?? '.env');
    if (chance(0.25)) {
      const file = findings[int(0, findings.length - 1)]?.file;
      const shift = int(1, 30);
      for (const f of findings) if (f.file === file) f.startLine = (f.startLine as number) + shift;
    }
    if (chance(0.1)) {
      // Fix one of the real leaks (not in an ignored or excepted path, fingerprint not excepted), leak another.
      const real = findings.flatMap((f, i) => (/^(test\/fixtures\/secrets|docs\/examples)\//.test(String(f.file)) || String(f.file).includes('/__snapshots__/') || /^sha256:(0{64}|1{64}|2{64})$/.test(String(f.fingerprint)) ? [] : [i]));
      findings.splice(real[int(0, real.length - 1)] ?? 0, 1);
      leak++;
      const type = ['aws-access-key', 'private-key', 'github-token', 'slack-token'][leak % 4] ?? 'aws-access-key';
      const file = files[0] ?? 'src/x.ts';
      const line = int(1, 400);
      findings.push({ ruleId: type, type, title: type, severity: 'high', confidence: 'high', file, startLine: line, startColumn: 9, endLine: line, endColumn: 49, fingerprint: `sha256:${(leak * 2654435761 >>> 0).toString(16).padStart(8, 'a').repeat(8)}`, redacted: 'AKIA…QX' });
    }
    if (chance(0.03)) {
      const f = facts[int(0, facts.length - 1)];
      if (f) f.line = (f.line as number) + 1;
    }
    let inventory: ManagedKeyInput[] | undefined;
    if (p > 0 && p % 250 === 0) {
      const k = keys[int(0, keys.length - 1)];
      if (k) k.lastRotatedAt = new Date(now).toISOString();
      inventory = keys.map((x) => ({ ...x }));
    }
    const input = {
      now: new Date(now).toISOString(),
      repo: { ...base.repo, files },
      event: { kind: 'push', branch: toMain ? 'main' : `feature/${branch}`, sha: (p * 2654435761 >>> 0).toString(16).padStart(40, '0') },
      findings,
      facts,
    };
    yield { input: JSON.stringify(input), ...(inventory ? { inventory } : {}) };
  }
}
