/**
 * `keywarden policy validate | compile | build | eval | test | explain`. Exit codes as `scan`:
 * 0 clean, 1 violations found (eval) or tests failed (test), 2 a broken policy or usage, 3 a failure.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { compilePolicy } from '../../policy/compile/compile-policy.js';
import type { PolicyAst } from '../../policy/dsl/ast.js';
import { PolicyError } from '../../policy/dsl/policy-error.js';
import { buildPolicy, wasmCapabilities } from '../../policy/engine/build.js';
import { PolicyEvaluator } from '../../policy/engine/evaluator.js';
import { DEFAULT_POLICY_FILE, readPolicy, readRegoModules } from '../../policy/engine/load.js';
import { findOpa, runOpa } from '../../policy/engine/opa-cli.js';
import { findOpaRunner } from '../../policy/engine/opa-runner.js';
import { inputTooLarge, MAX_INPUT_BYTES, parseInputJson, type Decision } from '../../policy/input.js';
import { defaultCacheDir } from '../../policy/engine/cache-dir.js';
import type { CliIO } from '../main.js';

const EXIT = { OK: 0, FOUND: 1, USAGE: 2 } as const;

interface Common {
  format: 'text' | 'json';
  policies?: string;
}

export function registerPolicyCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const cwd = io.cwd ?? process.cwd();
  const policy = program.command('policy').description('Validate, compile, build, evaluate, test and explain the key policy (default .github/keywarden.yml).');
  const fmt = (): Option => new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text');
  const policiesOpt = (): Option => new Option('--policies <dir>', 'folder of custom .rego modules that join the bundle (default: policies/ when it exists)');
  const run = (fn: () => Promise<number>, format: () => string): Promise<void> =>
    fn().then(setExit, (e: unknown) => {
      if (e instanceof PolicyError) {
        io[format() === 'json' ? 'stdout' : 'stderr'](format() === 'json' ? `${JSON.stringify({ ok: false, errors: e.problems.map((p) => p.toJSON()) }, null, 2)}\n` : formatProblems(e));
        setExit(e.fault === 'user' || e.fault === 'config' ? EXIT.USAGE : 3);
        return;
      }
      throw e;
    });

  policy
    .command('validate')
    .description('Check the policy against its schema and rules; report every problem with file:line:column.')
    .argument('[file]', 'policy file', DEFAULT_POLICY_FILE)
    .addOption(fmt())
    .action((file: string, flags: Common) =>
      run(async () => {
        const ast = await readPolicy(file, { cwd });
        io.stdout(flags.format === 'json' ? `${JSON.stringify({ ok: true, summary: summary(ast) }, null, 2)}\n` : `${file}: OK (${describe(ast)})\n`);
        return EXIT.OK;
      }, () => flags.format),
    );

  policy
    .command('compile')
    .description('Compile the policy to Rego v1.')
    .argument('[file]', 'policy file', DEFAULT_POLICY_FILE)
    .option('-o, --output <file>', 'write the Rego to a file')
    .addOption(fmt())
    .action((file: string, flags: Common & { output?: string }) =>
      run(async () => {
        const compiled = compilePolicy(await readPolicy(file, { cwd }));
        if (flags.output) await writeOut(resolve(cwd, flags.output), compiled.rego);
        if (flags.format === 'json') io.stdout(`${JSON.stringify({ package: compiled.packageName, entrypoint: compiled.entrypoint, rules: compiled.rules, ...(flags.output ? {} : { rego: compiled.rego }) }, null, 2)}\n`);
        else if (!flags.output) io.stdout(compiled.rego);
        return EXIT.OK;
      }, () => flags.format),
    );

  policy
    .command('build')
    .description('Build the policy (and custom modules) to WebAssembly with `opa build -t wasm`, cached by content hash.')
    .argument('[file]', 'policy file', DEFAULT_POLICY_FILE)
    .option('-o, --output <file>', 'write policy.wasm here')
    .option('--print-capabilities', 'print the capabilities JSON (builtins allowed in policies) and exit')
    .addOption(policiesOpt())
    .addOption(fmt())
    .action((file: string, flags: Common & { output?: string; printCapabilities?: boolean }) =>
      run(async () => {
        const opa = findOpaRunner({ env: io.env ?? process.env });
        if (flags.printCapabilities) {
          io.stdout(`${JSON.stringify(JSON.parse((await wasmCapabilities(opa)).json), null, 2)}\n`);
          return EXIT.OK;
        }
        const ast = await readPolicy(file, { cwd });
        const compiled = compilePolicy(ast);
        const built = await buildPolicy({ compiled, modules: await customModules(flags.policies, cwd), runner: opa, cacheDir: defaultCacheDir(io.env ?? process.env) });
        if (flags.output) await writeOut(resolve(cwd, flags.output), built.wasm);
        const info = { hash: built.hash, entrypoint: built.entrypoint, bytes: built.wasm.length, cached: built.cached, ...(flags.output ? { output: flags.output } : {}) };
        io.stdout(flags.format === 'json' ? `${JSON.stringify(info, null, 2)}\n` : `built ${built.entrypoint}: ${built.wasm.length} bytes, sha256 ${built.hash.slice(0, 12)}${built.cached ? ` (cached, ${built.cached})` : ''}${flags.output ? ` → ${flags.output}` : ''}\n`);
        return EXIT.OK;
      }, () => flags.format),
    );

  policy
    .command('eval')
    .description('Evaluate the policy against an input document (schemas/input.schema.json). Exit 1 when there are violations.')
    .argument('[file]', 'policy file', DEFAULT_POLICY_FILE)
    .requiredOption('-i, --input <file>', 'input JSON (use - for standard input)')
    .addOption(policiesOpt())
    .addOption(fmt())
    .action((file: string, flags: Common & { input: string }) =>
      run(async () => {
        const { decision } = await evaluate(file, flags, cwd, io);
        io.stdout(flags.format === 'json' ? `${JSON.stringify(decision, null, 2)}\n` : formatDecision(decision));
        return decision.violations.length > 0 ? EXIT.FOUND : EXIT.OK;
      }, () => flags.format),
    );

  policy
    .command('test')
    .description('Build the policy, then run `opa test` on it with the *_test.rego files of the policies folder.')
    .argument('[file]', 'policy file', DEFAULT_POLICY_FILE)
    .addOption(policiesOpt())
    .addOption(fmt())
    .action((file: string, flags: Common) =>
      run(async () => {
        const opa = findOpa({ env: io.env ?? process.env });
        const ast = await readPolicy(file, { cwd });
        const compiled = compilePolicy(ast);
        const modules = await customModules(flags.policies, cwd);
        await buildPolicy({ compiled, modules, opa, cacheDir: defaultCacheDir(io.env ?? process.env) });
        const dir = flags.policies ?? (existsSync(join(cwd, 'policies')) ? 'policies' : undefined);
        const tests = dir ? (await readRegoModules(dir, { cwd, tests: true })).filter((m) => m.path.endsWith('_test.rego')) : [];
        if (tests.length === 0) {
          io.stdout(flags.format === 'json' ? `${JSON.stringify({ ok: true, tests: [] })}\n` : 'policy builds; no *_test.rego files to run\n');
          return EXIT.OK;
        }
        const tmp = await mkdtemp(join(tmpdir(), 'keywarden-policy-test-'));
        try {
          const all = [{ path: compiled.modulePath, text: compiled.rego }, ...modules, ...tests];
          for (const [i, m] of all.entries()) await writeOut(join(tmp, `${i}-${m.path.replace(/[^A-Za-z0-9._-]+/g, '_')}`), m.text);
          const r = await runOpa(opa, ['test', '--format', flags.format === 'json' ? 'json' : 'pretty', '-v', tmp]);
          io.stdout(r.stdout.split(tmp).join('<policy>'));
          if (r.stderr) io.stderr(r.stderr.split(tmp).join('<policy>'));
          return r.code === 0 ? EXIT.OK : EXIT.FOUND;
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
      }, () => flags.format),
    );

  policy
    .command('explain')
    .description('Show every generated rule with the policy line it came from; with --input, why each violation happened.')
    .argument('[file]', 'policy file', DEFAULT_POLICY_FILE)
    .option('-i, --input <file>', 'input JSON: explain its violations')
    .addOption(policiesOpt())
    .addOption(fmt())
    .action((file: string, flags: Common & { input?: string }) =>
      run(async () => {
        // Source lines come only from the policy files the chain read (never from a path a
        // decision names: a custom module could name any file).
        const texts = new Map<string, string>();
        const onFile = (f: string, t: string): void => void texts.set(f, t);
        const sourceLine = async (f: string, line: number | undefined): Promise<string> => {
          if (!line) return '';
          return ((texts.get(f) ?? '').split('\n')[line - 1] ?? '').trim().slice(0, 300);
        };
        if (!flags.input) {
          const compiled = compilePolicy(await readPolicy(file, { cwd, onFile }));
          const rows = await Promise.all(compiled.rules.map(async (r) => ({ ...r, source: await sourceLine(r.loc.file, r.loc.line) })));
          if (flags.format === 'json') io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
          else for (const r of rows) io.stdout(`${r.loc.file}:${r.loc.line}:${r.loc.column}  ${r.id}  (rego line ${r.regoLine})\n    ${r.description}\n    | ${r.source}\n`);
          return EXIT.OK;
        }
        const { decision } = await evaluate(file, { ...flags, input: flags.input }, cwd, io, onFile);
        const rows = await Promise.all(decision.violations.map(async (v) => ({ ...v, source: await sourceLine(v.policy.file ?? file, v.policy.line) })));
        if (flags.format === 'json') io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        else
          for (const v of rows)
            io.stdout(`${where(v.subject)}: ${v.message}\n    because of ${v.policy.file ?? '?'}:${v.policy.line ?? '?'}:${v.policy.column ?? '?'} (${v.rule})\n    | ${v.source}\n`);
        return decision.violations.length > 0 ? EXIT.FOUND : EXIT.OK;
      }, () => flags.format),
    );
}

async function evaluate(file: string, flags: Common & { input: string }, cwd: string, io: CliIO, onFile?: (f: string, t: string) => void): Promise<{ ast: PolicyAst; decision: Decision }> {
  const ast = await readPolicy(file, { cwd, ...(onFile ? { onFile } : {}) });
  const raw = flags.input === '-' ? await readStdin(io) : await readInputFile(resolve(cwd, flags.input), flags.input);
  const input = parseInputJson(raw, { name: flags.input === '-' ? 'standard input' : flags.input });
  const built = await buildPolicy({
    compiled: compilePolicy(ast),
    modules: await customModules(flags.policies, cwd),
    runner: findOpaRunner({ env: io.env ?? process.env }),
    cacheDir: defaultCacheDir(io.env ?? process.env),
  });
  const evaluator = await PolicyEvaluator.load(built.wasm, built.entrypoint);
  return { ast, decision: evaluator.evaluate(input) };
}

/** The input file, refused before it is read when its size says it is too large, and never read past the cap. */
async function readInputFile(path: string, shown: string): Promise<string> {
  const handle = await open(path, 'r').catch(() => {
    throw new KeywardenError(ErrorCode.PATH_NOT_FOUND, `The input file ${shown} could not be read.`, { hint: 'Pass a JSON file shaped like schemas/input.schema.json.', location: { file: shown } });
  });
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new KeywardenError(ErrorCode.FILE_UNREADABLE, `The input ${shown} is a folder.`, { hint: 'Pass a JSON file.', location: { file: shown } });
    if (st.isFile() && st.size > MAX_INPUT_BYTES) throw inputTooLarge(shown, MAX_INPUT_BYTES);
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(1024 * 1024, MAX_INPUT_BYTES + 1 - size));
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      size += bytesRead;
      if (size > MAX_INPUT_BYTES) throw inputTooLarge(shown, MAX_INPUT_BYTES);
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, size).toString('utf8');
  } finally {
    await handle.close();
  }
}

async function customModules(dir: string | undefined, cwd: string) {
  if (dir) {
    if (!existsSync(resolve(cwd, dir))) throw new KeywardenError(ErrorCode.PATH_NOT_FOUND, `The policies folder ${dir} does not exist.`, { hint: 'Pass an existing folder to --policies.' });
    return readRegoModules(dir, { cwd });
  }
  return existsSync(join(cwd, 'policies')) ? readRegoModules('policies', { cwd }) : [];
}

async function writeOut(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

async function readStdin(io: CliIO): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of io.stdin ?? process.stdin) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
    size += b.length;
    if (size > MAX_INPUT_BYTES) throw inputTooLarge('standard input', MAX_INPUT_BYTES);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function summary(ast: PolicyAst) {
  return { name: ast.name, keyClasses: ast.keys.length, leakRules: ast.secrets.onLeak.length, exceptions: ast.exceptions.length, extends: ast.extends.map((e) => e.value) };
}

function describe(ast: PolicyAst): string {
  const n = (x: number, w: string): string => `${x} ${w}${x === 1 ? '' : w.endsWith('s') ? 'es' : 's'}`;
  return `${n(ast.keys.length, 'key class')}, ${n(ast.secrets.onLeak.length, 'leak rule')}, ${n(ast.exceptions.length, 'exception')}`;
}

function formatProblems(e: PolicyError): string {
  const lines = e.problems.map((p) => {
    const l = p.location;
    const at = l?.file ? `${l.file}${l.line ? `:${l.line}${l.column ? `:${l.column}` : ''}` : ''}: ` : '';
    return `${at}${p.message} [${p.code}]${p.hint ? `\n  hint: ${p.hint}` : ''}`;
  });
  return `${lines.join('\n')}\n${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}.\n`;
}

const where = (s: Decision['violations'][number]['subject']): string =>
  s.file ? `${s.file}${s.line ? `:${s.line}${s.column ? `:${s.column}` : ''}` : ''}` : `${s.kind} ${s.id ?? ''}${s.backend ? ` (${s.backend})` : ''}`;

function formatDecision(d: Decision): string {
  const out: string[] = [];
  for (const v of d.violations) out.push(`${v.severity.toUpperCase().padEnd(8)} ${where(v.subject)}: ${v.message}\n         ${v.rule} ← ${v.policy.file ?? ''}:${v.policy.line ?? ''}:${v.policy.column ?? ''}`);
  if (d.actions.length > 0) {
    out.push('actions:');
    for (const a of d.actions) out.push(`  ${a.type.padEnd(10)} ${where(a.subject)} (${a.rule})`);
  }
  out.push(`${d.violations.length} violation${d.violations.length === 1 ? '' : 's'}, ${d.actions.length} action${d.actions.length === 1 ? '' : 's'}.`);
  return `${out.join('\n')}\n`;
}
