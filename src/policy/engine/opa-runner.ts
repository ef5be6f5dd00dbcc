/**
 * The port a policy build runs OPA through: one `opa` command (`version`, `capabilities --current`,
 * `check`, `build -t wasm`) in a working folder, its exit code and output. Two adapters answer the
 * same commands with the same output: the OPA CLI (`createNativeOpaRunner`), and keywarden's
 * built-in builder, OPA's compiler compiled to WebAssembly and shipped in the package
 * (`createWasmOpaRunner`, tools/opa-wasm-builder/), so an installed package needs no `opa`.
 *
 * `findOpaRunner` picks one: `KEYWARDEN_OPA=wasm` forces the built-in builder, another
 * `KEYWARDEN_OPA` names the CLI (and must be one); else the CLI in `.tools/bin` or on PATH, which
 * is faster; else the built-in builder; else `KW_OPA_NOT_FOUND`.
 *
 * @example
 * const runner = findOpaRunner({ env: process.env });
 * const r = await runner.run(['check', '--strict', 'p.rego'], { files: { 'p.rego': 'package p\n\nallow := true\n' } });
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { findNativeOpa, type FindOpaOptions, FORCE_WASM, runOpa, type RunResult } from './opa-cli.js';
import { createWasmOpaRunner, findWasmBuilder, WASM_BUILDER_FILE } from './opa-wasm-runner.js';

export interface OpaRunOptions {
  /**
   * The files the command reads, by path relative to its working folder: a new folder per run,
   * holding only these (the wasm builder sees nothing else).
   */
  files?: Readonly<Record<string, string | Uint8Array>>;
  /** Files the command writes that the caller wants back (relative paths); a missing one is left out. */
  outputs?: readonly string[];
  /** Default 120 s. */
  timeoutMs?: number;
}

export interface OpaRunResult extends RunResult {
  outputs: ReadonlyMap<string, Uint8Array>;
}

export interface OpaRunner {
  /** `native`: the OPA CLI; `wasm`: the built-in builder. */
  readonly kind: 'native' | 'wasm';
  /** The binary, or the builder's `.wasm` file: what caches key the runner by. */
  readonly path: string;
  run(args: readonly string[], options?: OpaRunOptions): Promise<OpaRunResult>;
}

/** The OPA CLI at `path` (no check that it exists: running it fails with `KW_OPA_NOT_FOUND`). */
export function createNativeOpaRunner(path: string): OpaRunner {
  return {
    kind: 'native',
    path,
    run: async (args, options = {}) => {
      const dir = await mkdtemp(join(tmpdir(), 'keywarden-opa-'));
      try {
        return await inWorkDir(dir, options, async () => runOpa(path, args, { cwd: dir, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) }));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Write `options.files` into `dir`, run `fn`, and read `options.outputs` back. Paths must be
 * relative and stay inside `dir`.
 */
export async function inWorkDir(dir: string, options: OpaRunOptions, fn: () => Promise<RunResult>): Promise<OpaRunResult> {
  const inside = (p: string): string => {
    const rel = posix.normalize(p);
    if (!rel || rel.startsWith('/') || rel === '..' || rel.startsWith('../') || rel.includes('\0') || /^[A-Za-z]:/.test(rel))
      throw new KeywardenError(ErrorCode.INTERNAL, `An OPA run was given the path ${JSON.stringify(p.slice(0, 200))}, which is not inside its working folder.`, { fault: 'internal' });
    return join(dir, ...rel.split('/'));
  };
  for (const [p, data] of Object.entries(options.files ?? {})) {
    const abs = inside(p);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, data);
  }
  const result = await fn();
  const outputs = new Map<string, Uint8Array>();
  for (const p of options.outputs ?? []) {
    const data = await readFile(inside(p)).catch(() => undefined);
    if (data) outputs.set(p, new Uint8Array(data));
  }
  return { ...result, outputs };
}

export { FORCE_WASM };

export function findOpaRunner(options: FindOpaOptions = {}): OpaRunner {
  const env = options.env ?? process.env;
  const root = options.root;
  if (env.KEYWARDEN_OPA === FORCE_WASM) {
    const wasm = findWasmBuilder(root);
    if (wasm) return createWasmOpaRunner({ path: wasm });
    throw new KeywardenError(ErrorCode.OPA_NOT_FOUND, `KEYWARDEN_OPA=wasm selects the built-in policy builder, but ${WASM_BUILDER_FILE} is missing from the package.`, {
      hint: 'Reinstall keywarden; in a checkout, run scripts/setup-tools (it builds the builder with Go).',
    });
  }
  const native = findNativeOpa(options);
  if (native) return createNativeOpaRunner(native);
  const wasm = findWasmBuilder(root);
  if (wasm) return createWasmOpaRunner({ path: wasm });
  throw new KeywardenError(ErrorCode.OPA_NOT_FOUND, `Neither the OPA CLI nor the built-in policy builder (${WASM_BUILDER_FILE}) was found.`, {
    hint: 'Reinstall keywarden (the package ships the builder), or put OPA v1.22.x on PATH or in KEYWARDEN_OPA; in a checkout, run scripts/setup-tools.',
  });
}
