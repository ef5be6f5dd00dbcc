/**
 * The built-in policy builder: OPA's compiler (tools/opa-wasm-builder/, Go built for wasip1) run
 * in-process through `node:wasi`, answering the `opa` commands a build needs with the CLI's output.
 *
 * Cost: the module is ~40 MB; it is compiled once per process, on first use, and the compiled
 * `WebAssembly.Module` is handed to a worker thread per run (a run instantiates it afresh: Go's
 * `main` runs once per instance). The worker keeps the event loop free while Go compiles, and
 * lets a run be stopped.
 *
 * Security properties (policy files come from repositories):
 * - the guest sees one folder, the run's working folder (preopened as `/work`), holding only the
 *   files the caller wrote there; no environment variable, no arguments but the command's, and an
 *   empty file as standard input;
 * - a run is stopped after `timeoutMs` (the worker is terminated);
 * - its linear memory is capped at `maxMemoryMiB` (the module's memory section is given a maximum
 *   before it is compiled), so a policy that makes the compiler grow without bound fails the build
 *   instead of exhausting the host;
 * - at most `MAX_CONCURRENT_RUNS` runs at once, so the memory held is bounded too.
 * `node:wasi` is not a complete sandbox (Node says so); these bounds are against runaway input to
 * a trusted compiler, not against a hostile guest.
 */
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { PROJECT_ROOT, type RunResult } from './opa-cli.js';
import type { OpaRunner, OpaRunOptions } from './opa-runner.js';

/** Where the builder sits in the package (built by scripts/setup-tools, listed in package.json `files`). */
export const WASM_BUILDER_FILE = 'dist-wasm/opa-build.wasm';

/** The builder's file under `root` (default: the package root), or `undefined` when it is missing. */
export function findWasmBuilder(root: string = PROJECT_ROOT): string | undefined {
  const p = join(root, ...WASM_BUILDER_FILE.split('/'));
  try {
    accessSync(p, constants.R_OK);
    return p;
  } catch {
    return undefined;
  }
}

export interface WasmOpaRunnerOptions {
  /** The builder module. Default: `WASM_BUILDER_FILE` in the package. */
  path?: string;
  /** Cap on the guest's linear memory. Default 1024 MiB (the default policy needs about 200 MiB). */
  maxMemoryMiB?: number;
}

const DEFAULT_MAX_MEMORY_MIB = 1024;
const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_CONCURRENT_RUNS = 2;
const GUEST_DIR = '/work';
const WASM_PAGE = 65_536;

/** The parts of the WebAssembly global this file uses (the project's `lib` has no DOM types). */
interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly;

/**
 * Run OPA's compiler from `options.path` (default: the package's builder).
 *
 * @example
 * const runner = createWasmOpaRunner();
 * const r = await runner.run(['build', '-t', 'wasm', '-e', 'keywarden/decision', '-o', 'b.tar.gz', 'p.rego'], { cwd: dir });
 */
export function createWasmOpaRunner(options: WasmOpaRunnerOptions = {}): OpaRunner {
  const path = options.path ?? findWasmBuilder() ?? join(PROJECT_ROOT, ...WASM_BUILDER_FILE.split('/'));
  const maxPages = Math.max(1, Math.floor(((options.maxMemoryMiB ?? DEFAULT_MAX_MEMORY_MIB) * 1024 * 1024) / WASM_PAGE));
  return {
    kind: 'wasm',
    path,
    run: (args, runOptions = {}) => withSlot(async () => runWasm(await compiledBuilder(path, maxPages), path, args, runOptions, maxPages)),
  };
}

const compiled = new Map<string, { key: string; module: Promise<WasmModule> }>();

/** The compiled builder, once per process per file (recompiled only when the file changes). */
async function compiledBuilder(path: string, maxPages: number): Promise<WasmModule> {
  const st = await stat(path).catch((e: unknown) => {
    throw notFound(path, e);
  });
  const key = `${st.size}\0${st.mtimeMs}\0${st.ino}\0${maxPages}`;
  const known = compiled.get(path);
  if (known?.key === key) return known.module;
  const module = (async () => {
    const bytes = await readFile(path).catch((e: unknown) => {
      throw notFound(path, e);
    });
    try {
      return await wasmApi.compile(withMemoryLimit(bytes, maxPages));
    } catch (e) {
      if (e instanceof KeywardenError) throw e;
      throw new KeywardenError(ErrorCode.OPA_NOT_FOUND, `The built-in policy builder ${path} is not a valid WebAssembly module.`, {
        cause: e,
        hint: 'Reinstall keywarden; in a checkout, delete dist-wasm/ and run scripts/setup-tools.',
      });
    }
  })();
  module.catch(() => compiled.get(path)?.module === module && compiled.delete(path));
  compiled.set(path, { key, module });
  return module;
}

/** Forget the compiled builder (tests measure cold builds with it). */
export function clearWasmBuilderCache(): void {
  compiled.clear();
}

const notFound = (path: string, cause: unknown): KeywardenError =>
  new KeywardenError(ErrorCode.OPA_NOT_FOUND, `The built-in policy builder ${path} could not be read.`, {
    cause,
    hint: 'Reinstall keywarden, or put OPA v1.22.x on PATH; in a checkout, run scripts/setup-tools.',
  });

let running = 0;
const waiting: Array<() => void> = [];

async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  while (running >= MAX_CONCURRENT_RUNS) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/**
 * The worker: instantiate the module with WASI and run it. Plain JavaScript, evaluated (no file to
 * find in src/ or dist/). It silences only the ExperimentalWarning `node:wasi` prints, and only in
 * this worker.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
  if (type === 'ExperimentalWarning' && String(warning && warning.message !== undefined ? warning.message : warning).startsWith('WASI')) return;
  return emitWarning.call(process, warning, ...rest);
};
const { WASI } = require('node:wasi');
const { openSync, closeSync } = require('node:fs');
const d = workerData;
const fds = [openSync(d.stdin, 'r'), openSync(d.stdout, 'w'), openSync(d.stderr, 'w')];
let reply;
try {
  const wasi = new WASI({ version: 'preview1', args: d.args, env: {}, preopens: d.preopens, stdin: fds[0], stdout: fds[1], stderr: fds[2], returnOnExit: true });
  const instance = new WebAssembly.Instance(d.module, wasi.getImportObject());
  const code = wasi.start(instance);
  reply = { code, memoryBytes: instance.exports.memory.buffer.byteLength };
} catch (e) {
  reply = { trap: String(e && e.message || e) };
} finally {
  for (const fd of fds) closeSync(fd);
}
parentPort.postMessage(reply);
`;

interface WorkerReply {
  code?: number;
  memoryBytes?: number;
  trap?: string;
}

async function runWasm(module: WasmModule, path: string, args: readonly string[], options: OpaRunOptions, maxPages: number): Promise<RunResult> {
  const io = await mkdtemp(join(tmpdir(), 'keywarden-opa-wasm-'));
  try {
    const files = { stdin: join(io, 'stdin'), stdout: join(io, 'stdout'), stderr: join(io, 'stderr') };
    await (await open(files.stdin, 'w')).close();
    // Without a working folder the guest still gets one: an empty one.
    const cwd = options.cwd ?? (await mkdtemp(join(io, 'cwd-')));
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const reply = await new Promise<WorkerReply>((resolve, reject) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        env: {},
        workerData: { module, args: ['opa', ...args], preopens: { [GUEST_DIR]: cwd }, ...files },
        stdout: false,
        stderr: false,
      });
      let settled = false;
      const settle = (f: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      const timer = setTimeout(() => {
        settle(() => reject(new KeywardenError(ErrorCode.POLICY_BUILD, `opa ${args[0] ?? ''} (built-in builder) did not finish in ${Math.round(timeoutMs / 1000)} s.`, { fault: 'internal', hint: 'Simplify the custom Rego modules, or install the OPA CLI.' })));
        void worker.terminate();
      }, timeoutMs);
      worker.once('message', (m: WorkerReply) => settle(() => resolve(m)));
      worker.once('error', (e) => settle(() => reject(new KeywardenError(ErrorCode.POLICY_BUILD, 'The built-in policy builder failed to run.', { fault: 'internal', cause: e, hint: 'Install the OPA CLI (v1.22.x) and put it on PATH.' }))));
      worker.once('exit', (code) => settle(() => reject(new KeywardenError(ErrorCode.POLICY_BUILD, `The built-in policy builder stopped (worker exit ${code}).`, { fault: 'internal', hint: 'Install the OPA CLI (v1.22.x) and put it on PATH.' }))));
    });
    const [stdout, stderr] = await Promise.all([readFile(files.stdout, 'utf8'), readFile(files.stderr, 'utf8')]);
    const outOfMemory = (reply.memoryBytes ?? 0) >= (maxPages - 64) * WASM_PAGE || /out of memory/.test(stderr) || /memory/i.test(reply.trap ?? '');
    if (reply.code === undefined || (reply.code !== 0 && outOfMemory)) {
      const limit = Math.round((maxPages * WASM_PAGE) / (1024 * 1024));
      throw new KeywardenError(ErrorCode.POLICY_BUILD, outOfMemory ? `opa ${args[0] ?? ''} (built-in builder) ran out of memory (limit ${limit} MiB).` : `opa ${args[0] ?? ''} (built-in builder) crashed.`, {
        fault: 'internal',
        hint: outOfMemory ? 'Simplify the custom Rego modules, or install the OPA CLI.' : `Check ${path}; reinstall keywarden or install the OPA CLI.`,
        details: { stderr: stderr.slice(0, 2000), ...(reply.trap ? { trap: reply.trap.slice(0, 500) } : {}) },
      });
    }
    return { code: reply.code, stdout, stderr };
  } finally {
    await rm(io, { recursive: true, force: true });
  }
}

/**
 * `bytes` with its (one, defined) memory given a maximum of `maxPages` pages, or the lower maximum
 * it already has. Go's wasip1 modules define their memory without a maximum; V8 then lets it grow
 * to 4 GiB. Throws when the module has no memory section (it would not be the builder).
 */
export function withMemoryLimit(bytes: Uint8Array, maxPages: number): Uint8Array {
  const fail = (why: string): KeywardenError => new KeywardenError(ErrorCode.OPA_NOT_FOUND, `The built-in policy builder is not a usable module (${why}).`, { hint: 'Reinstall keywarden; in a checkout, delete dist-wasm/ and run scripts/setup-tools.' });
  const leb = (at: number): [value: number, next: number] => {
    let value = 0;
    let shift = 0;
    for (let i = at; i < bytes.length && shift < 35; i++, shift += 7) {
      const b = bytes[i]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return [value, i + 1];
    }
    throw fail('bad LEB128');
  };
  const enc = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      out.push(b);
    } while (n > 0);
    return out;
  };
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) throw fail('no wasm header');
  for (let off = 8; off < bytes.length; ) {
    const id = bytes[off]!;
    const [size, body] = leb(off + 1);
    if (id === 5) {
      const [count, first] = leb(body);
      if (count !== 1) throw fail(`${count} memories`);
      const flags = bytes[first]!;
      if (flags & ~1) throw fail('shared or 64-bit memory');
      const [initial, afterInitial] = leb(first + 1);
      const [max, rest] = flags & 1 ? leb(afterInitial) : [Infinity, afterInitial];
      if (initial > maxPages) throw fail(`it needs ${initial} pages at start, more than the limit of ${maxPages}`);
      const content = [...enc(1), 1, ...enc(initial), ...enc(Math.min(max, maxPages)), ...bytes.subarray(rest, body + size)];
      const out = new Uint8Array(off + 1 + enc(content.length).length + content.length + (bytes.length - body - size));
      out.set(bytes.subarray(0, off + 1), 0);
      out.set([...enc(content.length), ...content], off + 1);
      out.set(bytes.subarray(body + size), off + 1 + enc(content.length).length + content.length);
      return out;
    }
    off = body + size;
  }
  throw fail('no memory section');
}
