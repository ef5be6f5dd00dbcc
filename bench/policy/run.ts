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
import { benchInput } from './input.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const evals = Number(process.argv[process.argv.indexOf('--evals') + 1] || 10_000) || 10_000;

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
