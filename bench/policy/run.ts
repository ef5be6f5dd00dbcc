/**
 * bench/policy: decision latency of the policy engine, in-process (opa-wasm), beside `opa bench`
 * (OPA's Go evaluator) on the same bundle and input, plus cold and cached build times.
 *
 *   npx tsx bench/policy/run.ts [--evals 10000]
 *
 * Input: 200 managed keys, 100 findings, 50 config facts (deterministic). Policy: bench/policy/policy.yml,
 * which uses every feature of the DSL.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compilePolicy } from '../../src/policy/compile/compile-policy.js';
import { parsePolicy } from '../../src/policy/dsl/parse.js';
import { buildPolicy, clearBuildCache } from '../../src/policy/engine/build.js';
import { PolicyEvaluator } from '../../src/policy/engine/evaluator.js';
import { findOpa, opaVersion, runOpa } from '../../src/policy/engine/opa-cli.js';
import { prepareInput } from '../../src/policy/input.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const evals = Number(process.argv[process.argv.indexOf('--evals') + 1] || 10_000) || 10_000;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

export function benchInput(): Record<string, unknown> {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const day = (d: number): string => new Date(Date.UTC(2026, 2, 1) - d * 86_400_000).toISOString();
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
  const keys = Array.from({ length: 200 }, (_, i) => ({
    id: `key-${i}`,
    backend: pick(['aws-kms', 'aws-kms', 'pkcs11', 'local']),
    aliases: [pick(['alias/payments-', 'alias/app-', 'alias/legacy-', 'alias/data-']) + i],
    labels: [],
    spec: pick(['RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'SYMMETRIC_DEFAULT', 'HMAC_256', 'RSA_1024', 'DES3']),
    state: 'Enabled',
    createdAt: day(30 + Math.floor(r() * 1500)),
    lastRotatedAt: r() < 0.5 ? day(Math.floor(r() * 600)) : null,
    rotation: { enabled: r() < 0.7, periodDays: pick([90, 180, 365, 730, null]) },
    tags: { team: pick(['payments', 'data', 'platform']), env: pick(['prod', 'staging']) },
    access: [
      { principal: 'arn:aws:iam::111122223333:role/KeyAdmin', operations: ['kms:Create*', 'kms:Put*', 'kms:ScheduleKeyDeletion'] },
      { principal: `arn:aws:iam::111122223333:role/${pick(['payments-api', 'app', 'ops'])}`, operations: [pick(['kms:Sign', 'kms:Decrypt', 'kms:*'])] },
      ...(r() < 0.05 ? [{ principal: '*', operations: ['kms:Decrypt'] }] : []),
    ],
    pendingWindowDays: pick([7, 14, 30]),
  }));
  const findings = Array.from({ length: 100 }, (_, i) => ({
    ruleId: 'rule',
    type: pick(['aws-access-key', 'private-key', 'github-token', 'slack-token']),
    title: 'Secret',
    severity: 'high',
    confidence: 'high',
    file: pick(['src/', 'test/fixtures/secrets/', 'deploy/', 'docs/']) + `f${i}.ts`,
    startLine: 1 + i,
    startColumn: 1,
    endLine: 1 + i,
    endColumn: 30,
    fingerprint: `sha256:${hex(64)}`,
    redacted: 'AKIA…XX',
  }));
  const facts = Array.from({ length: 50 }, (_, i) =>
    i % 2 === 0
      ? { kind: 'secret-ref', file: `deploy/app-${i}.yaml`, line: 10 + i, name: `SECRET_${i}`, source: pick(['env', 'kms', 'inline', 'secret-manager']) }
      : { kind: 'key', file: `infra/kms-${i}.tf`, line: 3, key: { id: `aws_kms_key.k${i}`, backend: 'aws-kms', aliases: [`alias/payments-tf-${i}`], spec: pick(['RSA_2048', 'ECC_NIST_P256']), rotation: { enabled: r() < 0.5, periodDays: 365 }, pendingWindowDays: pick([7, 30]) } },
  );
  return {
    now: '2026-03-01T00:00:00Z',
    repo: { name: 'acme/payments', visibility: 'public', files: Array.from({ length: 100 }, (_, i) => pick(['src/a', 'certs/c', 'config/', 'lib/']) + `${i}${pick(['.ts', '.pem', '.env', '.json'])}`) },
    event: { kind: 'push', branch: 'main' },
    findings,
    keys,
    facts,
  };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const ms = (n: number): string => `${n.toFixed(3)} ms`;

async function main(): Promise<void> {
  const opa = findOpa();
  const version = await opaVersion(opa);
  const ast = parsePolicy(readFileSync(join(here, 'policy.yml'), 'utf8'), { file: 'bench/policy/policy.yml' });
  const compiled = compilePolicy(ast);
  const cacheDir = mkdtempSync(join(tmpdir(), 'kw-bench-cache-'));
  const work = mkdtempSync(join(tmpdir(), 'kw-bench-'));
  try {
    // Builds: cold (no cache; the capabilities lookup is warmed once first, as in a long-lived process), memory hit, disk hit.
    await buildPolicy({ compiled, opa, cacheDir: false });
    const colds: number[] = [];
    for (let i = 0; i < 5; i++) {
      clearBuildCache();
      const t = performance.now();
      await buildPolicy({ compiled, opa, cacheDir: false });
      colds.push(performance.now() - t);
    }
    clearBuildCache();
    const built = await buildPolicy({ compiled, opa, cacheDir });
    const mem: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await buildPolicy({ compiled, opa, cacheDir });
      mem.push(performance.now() - t);
    }
    const disk: number[] = [];
    for (let i = 0; i < 20; i++) {
      clearBuildCache();
      const t = performance.now();
      await buildPolicy({ compiled, opa, cacheDir });
      disk.push(performance.now() - t);
    }

    // In-process decisions.
    const raw = benchInput();
    const prepared = prepareInput(raw);
    const ev = await PolicyEvaluator.load(built.wasm, built.entrypoint);
    const d = ev.evaluatePrepared(prepared);
    for (let i = 0; i < 200; i++) ev.evaluatePrepared(prepared);
    const lat: number[] = [];
    for (let i = 0; i < evals; i++) {
      const t = performance.now();
      ev.evaluatePrepared(prepared);
      lat.push(performance.now() - t);
    }
    const full: number[] = [];
    for (let i = 0; i < Math.min(evals, 2000); i++) {
      const t = performance.now();
      ev.evaluate(raw);
      full.push(performance.now() - t);
    }

    // OPA's Go evaluator on the same Rego and the same (prepared) input.
    writeFileSync(join(work, 'policy.rego'), compiled.rego);
    writeFileSync(join(work, 'input.json'), JSON.stringify(prepared));
    const b = await runOpa(opa, ['bench', '--format', 'json', '--benchmem=false', '-d', join(work, 'policy.rego'), '-i', join(work, 'input.json'), `data.${compiled.packageName}.decision`], { timeoutMs: 300_000 });
    const bj = JSON.parse(b.stdout) as { N?: number; T?: number; Extra?: Record<string, number> };
    const opaNs = bj.N && bj.T ? bj.T / bj.N : Number.NaN;
    const opaP99 = bj.Extra?.['histogram_timer_rego_query_eval_ns_99%'];
    const opaP50 = bj.Extra?.['histogram_timer_rego_query_eval_ns_median'];

    const rows = [
      ['decision, opa-wasm in-process (prepared input)', `${evals} evals`, `p50 ${ms(pct(lat, 50))}`, `p99 ${ms(pct(lat, 99))}`],
      ['decision incl. input validation + preparation', `${full.length} evals`, `p50 ${ms(pct(full, 50))}`, `p99 ${ms(pct(full, 99))}`],
      [`decision, opa bench (Go evaluator, OPA ${version})`, `${bj.N ?? '?'} evals`, `p50 ${opaP50 ? ms(opaP50 / 1e6) : 'n/a'}`, `p99 ${opaP99 ? ms(opaP99 / 1e6) : 'n/a'} (mean ${ms(opaNs / 1e6)})`],
      ['build, cold (opa check + opa build -t wasm)', '5 builds', `p50 ${ms(pct(colds, 50))}`, `max ${ms(Math.max(...colds))}`],
      ['build, cached (memory)', '200 lookups', `p50 ${ms(pct(mem, 50))}`, `p99 ${ms(pct(mem, 99))}`],
      ['build, cached (disk)', '20 lookups', `p50 ${ms(pct(disk, 50))}`, `p99 ${ms(pct(disk, 99))}`],
    ];
    console.log(`Policy bench — input: 200 keys, 100 findings, 50 facts; decision: ${d.violations.length} violations, ${d.actions.length} actions; wasm ${built.wasm.length} bytes`);
    console.log('| measurement | n | p50 | p99 / max |\n|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
