/**
 * bench/policy: decision latency of the policy engine, in-process (opa-wasm), beside `opa bench`
 * (OPA's Go evaluator) on the same Rego and input, plus cold and cached build times.
 *
 *   npx tsx bench/policy/run.ts [--evals 10000]
 *
 * Input: bench/policy/input.ts (200 managed keys, 100 findings, 50 config facts; what it holds is
 * written there). Policy: bench/policy/policy.yml, which uses every feature of the DSL.
 *
 * First the workload the engine is built for (bench/policy/stream.ts): `--evals` push decisions
 * for one repository, judged incrementally (`IncrementalEvaluator`, what `createPolicyEngine`
 * uses) with the key inventory resident; every 500th decision is checked against a full
 * evaluation. Then the first decision of a cold engine, which evaluates every item.
 *
 * Then three ways to evaluate the whole input every time, each timed over `--evals` evaluations:
 * - `evaluate(input)`: validation, preparation, serialisation, wasm parse, evaluation, result;
 * - `evaluatePrepared(prepared)`: the same without validation and preparation;
 * - `setKeyInventory(keys)` once, then `evaluate(input without keys)`: the inventory stays parsed
 *   in wasm memory (a server judging pushes against an unchanged key inventory).
 * Then where the time of one decision goes, measured part by part.
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
import { type Decision, type ManagedKeyInput, prepareInput } from '../../src/policy/input.js';
import { IncrementalEvaluator } from '../../src/policy/engine/incremental.js';
import { benchInput } from './input.js';
import { pushStream } from './stream.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const evals = Number(process.argv[process.argv.indexOf('--evals') + 1] || 10_000) || 10_000;

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const ms = (n: number): string => `${n.toFixed(3)} ms`;
const time = (n: number, f: () => unknown): number[] => {
  for (let i = 0; i < Math.min(200, n); i++) f(); // warm up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    out.push(performance.now() - t);
  }
  return out;
};

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

    // In-process decisions, three ways; all three must decide the same.
    const raw = benchInput();
    const { keys, ...rawWithoutKeys } = raw as { keys: ManagedKeyInput[] } & Record<string, unknown>;
    const prepared = prepareInput(raw);
    const ev = await PolicyEvaluator.load(built.wasm, built.entrypoint);
    const d = ev.evaluate(raw);
    const resident = await PolicyEvaluator.load(built.wasm, built.entrypoint);
    resident.setKeyInventory(keys);
    const same = (x: Decision): boolean => JSON.stringify(x) === JSON.stringify(d);
    if (!same(ev.evaluatePrepared(prepared)) || !same(resident.evaluate(rawWithoutKeys))) throw new Error('The three ways of evaluating disagree: a bug.');
    const full = time(evals, () => ev.evaluate(raw));
    const prep = time(evals, () => ev.evaluatePrepared(prepared));
    const res = time(evals, () => resident.evaluate(rawWithoutKeys));

    // The push stream, incremental, inventory resident; sampled decisions checked against full evaluations.
    const stream = pushStream(evals);
    const inc = new IncrementalEvaluator(await PolicyEvaluator.load(built.wasm, built.entrypoint), compiled.partial);
    inc.setKeyInventory(stream.keys);
    let inventory = stream.keys;
    const streamTimes: number[] = [];
    const inventoryTimes: number[] = [];
    let evaluatedItems = 0;
    let reusedItems = 0;
    let checked = 0;
    let i = -1;
    let firstPush = '{}';
    for (const push of stream.pushes) {
      i++;
      if (i === 0) firstPush = push.input;
      if (push.inventory) {
        const t = performance.now();
        inc.setKeyInventory(push.inventory);
        inventoryTimes.push(performance.now() - t);
        inventory = push.inventory;
      }
      const input = JSON.parse(push.input) as Record<string, unknown>;
      const t = performance.now();
      const decision = inc.evaluate(input);
      streamTimes.push(performance.now() - t);
      evaluatedItems += inc.last.evaluated;
      reusedItems += inc.last.reused;
      if (i % 500 === 0 || i === evals - 1) {
        if (JSON.stringify(decision) !== JSON.stringify(ev.evaluate({ ...(JSON.parse(push.input) as object), keys: inventory }))) throw new Error(`Incremental and full evaluation disagree at push ${i}: a bug.`);
        checked++;
      }
    }
    const colds2: number[] = [];
    for (let i = 0; i < 30; i++) {
      const fresh = new IncrementalEvaluator(ev, compiled.partial);
      fresh.setKeyInventory(stream.keys);
      const input = JSON.parse(firstPush) as Record<string, unknown>;
      const t = performance.now();
      fresh.evaluate(input);
      colds2.push(performance.now() - t);
    }

    // Where one decision's time goes. Parsing the input inside wasm is timed with a policy that
    // decides nothing (an empty DSL policy) on the same bytes.
    const nullCompiled = compilePolicy(parsePolicy('version: 1\nname: nothing\n', { file: 'nothing.yml' }));
    const nullBuilt = await buildPolicy({ compiled: nullCompiled, opa, cacheDir: false });
    const nothing = await PolicyEvaluator.load(nullBuilt.wasm, nullBuilt.entrypoint);
    const parts = 2000;
    const tPrepare = pct(time(parts, () => prepareInput(raw)), 50);
    const tStringify = pct(time(parts, () => new TextEncoder().encode(JSON.stringify(prepared))), 50);
    const tParse = pct(time(parts, () => nothing.evaluatePrepared(prepared)), 50) - tStringify;
    const decisionText = JSON.stringify([{ result: d }]);
    const tResult = pct(time(parts, () => JSON.parse(decisionText)), 50);
    const tEval = pct(prep, 50) - tStringify - tParse - tResult;
    const tResidentParse = pct(time(parts, () => nothing.evaluatePrepared({ ...prepared, keys: [] })), 50);

    // OPA's Go evaluator on the same Rego and the same (prepared) input.
    writeFileSync(join(work, 'policy.rego'), compiled.rego);
    writeFileSync(join(work, 'input.json'), JSON.stringify(prepared));
    const b = await runOpa(opa, ['bench', '--format', 'json', '--benchmem=false', '-d', join(work, 'policy.rego'), '-i', join(work, 'input.json'), `data.${compiled.packageName}.decision`], { timeoutMs: 300_000 });
    const bj = JSON.parse(b.stdout) as { N?: number; T?: number; Extra?: Record<string, number> };
    const opaNs = bj.N && bj.T ? bj.T / bj.N : Number.NaN;
    const opaP99 = bj.Extra?.['histogram_timer_rego_query_eval_ns_99%'];
    const opaP50 = bj.Extra?.['histogram_timer_rego_query_eval_ns_median'];

    const keyIds = new Set(d.violations.filter((v) => v.subject.kind === 'key').map((v) => v.subject.id));
    const bytes = JSON.stringify(prepared).length;
    const keyBytes = JSON.stringify(prepared.keys).length;
    console.log(
      `Policy bench — input: ${keys.length} keys, 100 findings, 50 facts (${(bytes / 1024).toFixed(0)} KiB of JSON, keys ${(keyBytes / 1024).toFixed(0)} KiB); ` +
        `decision: ${d.violations.length} violations (${keyIds.size} of ${keys.length} keys), ${d.actions.length} actions; wasm ${built.wasm.length} bytes; OPA ${version}`,
    );
    const items = streamTimes.length > 0 ? (evaluatedItems + reusedItems) / streamTimes.length : 0;
    console.log(
      `Push stream: ${streamTimes.length} decisions, ${items.toFixed(0)} items each on average (keys, findings, facts, changed files); ` +
        `${(evaluatedItems / streamTimes.length).toFixed(2)} evaluated per decision, the rest reused; ${checked} decisions checked against a full evaluation; ` +
        `${inventoryTimes.length} inventory replacements, p50 ${ms(pct(inventoryTimes, 50))}`,
    );
    const rows = [
      ['decision, push stream, incremental, inventory resident (`engine.evaluate`)', `${streamTimes.length} evals`, ms(pct(streamTimes, 50)), `${ms(pct(streamTimes, 99))} (p99.9 ${ms(pct(streamTimes, 99.9))}, max ${ms(Math.max(...streamTimes))} at decision ${streamTimes.indexOf(Math.max(...streamTimes)) + 1})`],
      ['decision, first of a cold engine (every item evaluated)', `${colds2.length} evals`, ms(pct(colds2, 50)), ms(pct(colds2, 99))],
      ['decision, `evaluate(input)` (validate, prepare, serialise, parse, evaluate)', `${full.length} evals`, ms(pct(full, 50)), ms(pct(full, 99))],
      ['decision, `evaluatePrepared(prepared)`', `${prep.length} evals`, ms(pct(prep, 50)), ms(pct(prep, 99))],
      ['decision, key inventory resident (`setKeyInventory` once, `evaluate(input without keys)`)', `${res.length} evals`, ms(pct(res, 50)), ms(pct(res, 99))],
      [`decision, \`opa bench\` (Go evaluator, same Rego and prepared input)`, `${bj.N ?? '?'} evals`, opaP50 ? ms(opaP50 / 1e6) : 'n/a', `${opaP99 ? ms(opaP99 / 1e6) : 'n/a'} (mean ${ms(opaNs / 1e6)})`],
      ['build, cold (`opa check --strict` + `opa build -t wasm`)', '5 builds', ms(pct(colds, 50)), `max ${ms(Math.max(...colds))}`],
      ['build, cached (memory)', '200 lookups', ms(pct(mem, 50)), ms(pct(mem, 99))],
      ['build, cached (disk)', '20 lookups', ms(pct(disk, 50)), ms(pct(disk, 99))],
    ];
    console.log('\n| measurement | n | p50 | p99 |\n|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    console.log(`\nRatio to opa bench p50 (time, lower is faster): push stream p50 ${opaP50 ? (pct(streamTimes, 50) / (opaP50 / 1e6)).toFixed(3) : 'n/a'}, p99 against opa p99 ${opaP99 ? (pct(streamTimes, 99) / (opaP99 / 1e6)).toFixed(3) : 'n/a'}; whole input (evaluatePrepared) p50 ${opaP50 ? (pct(prep, 50) / (opaP50 / 1e6)).toFixed(2) : 'n/a'}`);
    console.log('\nWhere one `evaluatePrepared` decision goes (p50 of each part, 2,000 runs each):\n\n| part | p50 |\n|---|---|');
    for (const [name, t] of [
      ['`prepareInput` (validate, derive fields; only in `evaluate`)', tPrepare],
      ['serialise the input (JSON.stringify + UTF-8)', tStringify],
      ['parse the input inside wasm', tParse],
      ['evaluate the Rego (the rest)', tEval],
      ['parse the decision JSON', tResult],
      ['serialise + parse the input without keys (resident inventory)', tResidentParse],
    ] as const)
      console.log(`| ${name} | ${ms(t)} |`);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
