import { readFileSync } from 'node:fs';
import { parsePolicy } from './src/policy/dsl/parse.js';
import { createPolicyEngine } from './src/policy/engine/policy-engine.js';
import { benchInput } from './bench/policy/input.js';
const ast = parsePolicy(readFileSync('bench/policy/policy.yml', 'utf8'), { file: 'bench/policy/policy.yml' });
const inc = await createPolicyEngine({ ast, cacheDir: false });
const full = await createPolicyEngine({ ast, cacheDir: false, incremental: false });
const input = benchInput() as any;
const { keys, ...rest } = input;
inc.setKeyInventory(keys);
if (JSON.stringify(inc.evaluate(rest)) !== JSON.stringify(full.evaluate(input))) throw new Error('differ');
for (let i = 0; i < 3000; i++) inc.evaluate(rest);
const xs: number[] = []; if (0)
for (let i = 0; i < 0; i++) { const t0 = performance.now(); inc.evaluate(rest); xs.push(performance.now() - t0); }
xs.sort((x, y) => x - y); console.log('resident p50', xs[2500], 'p99', xs[4950]);
const text = JSON.stringify(rest);
const ys: number[] = [];
for (let i = 0; i < 20000; i++) { const r = JSON.parse(text); r.findings[i % 100].startLine += 1000 + i; const t0 = performance.now(); inc.evaluate(r); ys.push(performance.now() - t0); }
ys.sort((x, y) => x - y); console.log('fresh objects, one new finding p50', ys[2500], 'p99', ys[4950]);
