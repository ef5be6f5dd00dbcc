/**
 * The built-in policy builder: OPA's compiler (tools/opa-wasm-builder/, Go built for wasip1) run
 * in-process through `node:wasi`, answering the `opa` commands a build needs with the CLI's output.
 *
 * Cost: the module is ~40 MB. It is compiled once per process, on first use. One instance, in a
 * worker thread, runs `opa-build serve` and answers command after command (instantiating it and
 * starting Go costs ~0.3 s, more than most commands); it is stopped after `idleMs` without work,
 * which gives its memory back, and never keeps the process alive. The worker keeps the event loop
 * free while Go compiles, and lets a run be stopped.
 *
 * Security properties (policy files come from repositories):
 * - the guest sees one folder, preopened as `/work`; each command runs in a new subfolder holding
 *   only the files of that run, removed after it. No environment variable reaches it but
 *   GOMEMLIMIT, no argument but the command's; its standard input is empty;
 * - a command is stopped after `timeoutMs` (the worker is terminated, the next command starts a
 *   new instance);
 * - the instance's linear memory is capped at `maxMemoryMiB` (the module's memory section is given
 *   a maximum before it is compiled, and Go's GC aims below it), so a policy that makes the
 *   compiler grow without bound fails its build instead of exhausting the host;
 * - commands run one at a time.
 * `node:wasi` is not a complete sandbox (Node says so); these bounds are against runaway input to
 * a trusted compiler, not against a hostile guest.
 */
import { accessSync, constants, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { PROJECT_ROOT, type RunResult } from './opa-cli.js';
import { inWorkDir, type OpaRunner } from './opa-runner.js';

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
  /** Cap on the guest's linear memory. Default 512 MiB (building the default policy fits in 32 MiB). */
  maxMemoryMiB?: number;
  /** Stop the instance after this long without a command. Default 10 s. */
  idleMs?: number;
}

const DEFAULT_MAX_MEMORY_MIB = 512;
const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_IDLE_MS = 10_000;
const GUEST_DIR = '/work';
const WASM_PAGE = 65_536;

/** The parts of the WebAssembly global this file uses (the project's `lib` has no DOM types). */
interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly;

/** One runner, and at most one live builder, per file, memory cap and idle time. */
const runners = new Map<string, OpaRunner>();
const instances = new Map<string, BuilderInstance>();

/**
 * Run OPA's compiler from `options.path` (default: the package's builder). The same options give
 * the same runner (so caches keyed by runner hold across calls).
 *
 * @example
 * const runner = createWasmOpaRunner();
 * const r = await runner.run(['build', '-t', 'wasm', '-e', 'p/allow', '-o', 'b.tar.gz', 'p.rego'], { files: { 'p.rego': rego }, outputs: ['b.tar.gz'] });
 */
export function createWasmOpaRunner(options: WasmOpaRunnerOptions = {}): OpaRunner {
  const path = options.path ?? findWasmBuilder() ?? join(PROJECT_ROOT, ...WASM_BUILDER_FILE.split('/'));
  const maxPages = Math.max(1, Math.floor(((options.maxMemoryMiB ?? DEFAULT_MAX_MEMORY_MIB) * 1024 * 1024) / WASM_PAGE));
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const id = `${path}\0${maxPages}\0${idleMs}`;
  const known = runners.get(id);
  if (known) return known;
  const runner: OpaRunner = {
    kind: 'wasm',
    path,
    run: (args, runOptions = {}) => {
      let instance = instances.get(id);
      if (!instance) instances.set(id, (instance = new BuilderInstance(path, maxPages, idleMs)));
      return instance.run(args, runOptions);
    },
  };
  runners.set(id, runner);
  return runner;
}

/** Stop every live builder and forget the compiled module (tests measure cold builds with it). */
export async function clearWasmBuilderCache(): Promise<void> {
  const all = [...instances.values()];
  instances.clear();
  runners.clear();
  compiled.clear();
  await Promise.all(all.map((i) => i.stop()));
}

const compiled = new Map<string, { key: string; module: Promise<WasmModule> }>();

/** The compiled builder, once per process per file (recompiled only when the file changes). */
async function compiledBuilder(path: string, maxPages: number): Promise<WasmModule> {
  const st = await stat(path).catch((e: unknown) => {
    throw notFound(path, e);
  });
  const key = `${st.size}\0${st.mtimeMs}\0${st.ino}`;
  const id = `${path}\0${maxPages}`;
  const known = compiled.get(id);
  if (known?.key === key) return known.module;
  const module = (async () => {
    const bytes = await readFile(path).catch((e: unknown) => {
      throw notFound(path, e);
    });
    const limited = withMemoryLimit(bytes, maxPages);
    try {
      return await wasmApi.compile(limited);
    } catch (e) {
      throw new KeywardenError(ErrorCode.OPA_NOT_FOUND, `The built-in policy builder ${path} is not a valid WebAssembly module.`, {
        cause: e,
        hint: 'Reinstall keywarden; in a checkout, delete dist-wasm/ and run scripts/setup-tools.',
      });
    }
  })();
  module.catch(() => compiled.get(id)?.module === module && compiled.delete(id));
  compiled.set(id, { key, module });
  return module;
}

const notFound = (path: string, cause: unknown): KeywardenError =>
  new KeywardenError(ErrorCode.OPA_NOT_FOUND, `The built-in policy builder ${path} could not be read.`, {
    cause,
    hint: 'Reinstall keywarden, or put OPA v1.22.x on PATH; in a checkout, run scripts/setup-tools.',
  });

/**
 * The worker: instantiate the module with WASI and run `opa-build serve`, whose host functions
 * block on `signal` for the next request (posted on `port`) and post each response. Plain
 * JavaScript, evaluated (no file to find in src/ or dist/), valid as a script and as a module (the
 * host's --input-type decides), started without the host's execArgv (no loader hooks). It
 * silences only the ExperimentalWarning `node:wasi` prints, and only in this worker.
 */
const WORKER_SOURCE = `
(async () => {
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
  const text = String(warning && warning.message !== undefined ? warning.message : warning);
  if (type === 'ExperimentalWarning' && text.startsWith('WASI')) return;
  return emitWarning.call(process, warning, ...rest);
};
const { parentPort, receiveMessageOnPort, workerData: d } = await import('node:worker_threads');
const { WASI } = await import('node:wasi');
const { openSync, closeSync } = await import('node:fs');
const fds = [openSync(d.stdin, 'r'), openSync(d.log, 'a'), openSync(d.log, 'a')];
let instance;
let request;
const bytes = () => new Uint8Array(instance.exports.memory.buffer);
const keywarden = {
  wait_request() {
    for (;;) {
      const seen = Atomics.load(d.signal, 0);
      const m = receiveMessageOnPort(d.port);
      if (m) {
        if (m.message === null) return 0;
        request = new TextEncoder().encode(JSON.stringify(m.message));
        return request.length;
      }
      Atomics.wait(d.signal, 0, seen);
    }
  },
  read_request(ptr) {
    bytes().set(request, ptr);
  },
  send_response(ptr, len) {
    parentPort.postMessage({ response: new TextDecoder().decode(bytes().slice(ptr, ptr + len)) });
  },
};
let exit;
try {
  const wasi = new WASI({ version: 'preview1', args: ['opa-build', 'serve'], env: d.env, preopens: d.preopens, stdin: fds[0], stdout: fds[1], stderr: fds[2], returnOnExit: true });
  instance = new WebAssembly.Instance(d.module, { ...wasi.getImportObject(), keywarden });
  exit = { code: wasi.start(instance), memoryBytes: instance.exports.memory.buffer.byteLength };
} catch (e) {
  exit = { trap: String((e && e.message) || e), memoryBytes: instance ? instance.exports.memory.buffer.byteLength : 0 };
} finally {
  for (const fd of fds) closeSync(fd);
}
parentPort.postMessage({ exit });
})();
`;

interface WorkerExit {
  code?: number;
  memoryBytes?: number;
  trap?: string;
}

type WorkerMessage = { response: string } | { exit: WorkerExit };

/** A live worker running `opa-build serve`, its folders, and the command it is answering. */
interface Live {
  worker: Worker;
  port: MessagePort;
  signal: Int32Array;
  root: string;
  work: string;
  log: string;
  /** Settles the command in flight (a response, or the instance's end). */
  pending: ((m: WorkerMessage | { failed: unknown }) => void) | undefined;
  cleanup: () => void;
}

type MessagePort = InstanceType<typeof MessageChannel>['port1'];

class BuilderInstance {
  private live: Promise<Live> | undefined;
  /** `live`, once started; cleared synchronously when it ends. */
  private current: Live | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly maxPages: number,
    private readonly idleMs: number,
  ) {}

  run(args: readonly string[], options: { files?: Readonly<Record<string, string | Uint8Array>>; outputs?: readonly string[]; timeoutMs?: number }): ReturnType<OpaRunner['run']> {
    const next = this.queue.then(() => this.runNow(args, options));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(args: readonly string[], options: { files?: Readonly<Record<string, string | Uint8Array>>; outputs?: readonly string[]; timeoutMs?: number }): ReturnType<OpaRunner['run']> {
    clearTimeout(this.idle);
    const live = await (this.live ??= this.start());
    const dir = await mkdtemp(join(live.work, 'run-'));
    try {
      return await inWorkDir(dir, options, () => this.ask(live, args, `${GUEST_DIR}/${basename(dir)}`, options.timeoutMs ?? DEFAULT_TIMEOUT_MS));
    } finally {
      await rm(dir, { recursive: true, force: true });
      if (this.current) this.idle = setTimeout(() => void this.stop(), this.idleMs).unref();
    }
  }

  private async start(): Promise<Live> {
    const module = await compiledBuilder(this.path, this.maxPages);
    const root = await mkdtemp(join(tmpdir(), 'keywarden-opa-wasm-'));
    const work = join(root, 'work');
    await mkdir(work);
    const files = { stdin: join(root, 'stdin'), log: join(root, 'log') };
    await (await open(files.stdin, 'w')).close();
    const channel = new MessageChannel();
    const signal = new Int32Array(new SharedArrayBuffer(4));
    // Go's GC aims below the cap; the cap itself is the module's memory maximum.
    const limitMiB = Math.floor((this.maxPages * WASM_PAGE * 0.8) / (1024 * 1024));
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      env: {},
      stdout: false,
      stderr: false,
      workerData: { module, signal, port: channel.port2, preopens: { [GUEST_DIR]: work }, env: { GOMEMLIMIT: `${limitMiB}MiB` }, ...files },
      transferList: [channel.port2],
    });
    worker.unref();
    const onExit = (): void => rmSync(root, { recursive: true, force: true });
    process.once('exit', onExit);
    const live: Live = {
      worker,
      port: channel.port1,
      signal,
      root,
      work,
      log: files.log,
      pending: undefined,
      cleanup: () => {
        process.removeListener('exit', onExit);
        channel.port1.close();
      },
    };
    const settle = (m: WorkerMessage | { failed: unknown }): void => {
      const p = live.pending;
      live.pending = undefined;
      p?.(m);
    };
    // Settle first: a command that failed reads the instance's log, which `ended` removes.
    worker.on('message', (m: WorkerMessage) => {
      settle(m);
      if ('exit' in m) this.ended(live);
    });
    worker.on('error', (e) => {
      settle({ failed: e });
      this.ended(live);
    });
    worker.on('exit', () => {
      settle({ exit: {} });
      this.ended(live);
    });
    this.current = live;
    return live;
  }

  /** Forget `live` (it ended or is being stopped) and remove its folders. */
  private ended(live: Live): void {
    if (this.current === live) {
      this.current = undefined;
      this.live = undefined;
    }
    live.cleanup();
    void rm(live.root, { recursive: true, force: true });
  }

  private ask(live: Live, args: readonly string[], dir: string, timeoutMs: number): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      const command = `opa ${args[0] ?? ''} (built-in builder)`;
      const timer = setTimeout(() => {
        live.pending = undefined;
        void live.worker.terminate();
        this.ended(live);
        reject(new KeywardenError(ErrorCode.POLICY_BUILD, `${command} did not finish in ${Math.round(timeoutMs / 1000)} s.`, { fault: 'internal', hint: 'Simplify the custom Rego modules, or install the OPA CLI.' }));
      }, timeoutMs);
      live.worker.ref();
      live.pending = (m) => {
        clearTimeout(timer);
        live.worker.unref();
        if ('response' in m) {
          const r = JSON.parse(m.response) as RunResult;
          resolve({ code: r.code, stdout: r.stdout, stderr: r.stderr });
          return;
        }
        let log = '';
        try {
          log = readFileSync(live.log, 'utf8');
        } catch {
          // no log: the failure says what it can without one
        }
        reject(this.failure(command, 'exit' in m ? m.exit : { trap: String(m.failed) }, log));
      };
      live.port.postMessage({ dir, args });
      Atomics.add(live.signal, 0, 1);
      Atomics.notify(live.signal, 0);
    });
  }

  /** Why the instance ended in the middle of a command. */
  private failure(command: string, exit: WorkerExit, log: string): KeywardenError {
    const limitMiB = Math.round((this.maxPages * WASM_PAGE) / (1024 * 1024));
    const outOfMemory = /out of memory/.test(log) || (exit.memoryBytes ?? 0) >= (this.maxPages - 64) * WASM_PAGE;
    return new KeywardenError(ErrorCode.POLICY_BUILD, outOfMemory ? `${command} ran out of memory (limit ${limitMiB} MiB).` : `${command} stopped unexpectedly.`, {
      fault: 'internal',
      hint: outOfMemory ? 'Simplify the custom Rego modules, or install the OPA CLI.' : `Reinstall keywarden (${this.path} may be damaged), or install the OPA CLI.`,
      details: { log: log.slice(0, 2000), ...(exit.code !== undefined ? { exitCode: exit.code } : {}), ...(exit.trap ? { trap: exit.trap.slice(0, 500) } : {}) },
    });
  }

  /**
   * Stop the instance once no command is queued (Go's `serve` returns), and wait for it. It is
   * forgotten at once, so a command that comes meanwhile starts a new one.
   */
  async stop(): Promise<void> {
    clearTimeout(this.idle);
    await this.queue;
    await this.live?.catch(() => undefined);
    const live = this.current;
    if (!live || live.pending) return;
    this.current = undefined;
    this.live = undefined;
    const exited = new Promise<void>((r) => live.worker.once('exit', () => r()));
    live.port.postMessage(null);
    Atomics.add(live.signal, 0, 1);
    Atomics.notify(live.signal, 0);
    const timer = setTimeout(() => void live.worker.terminate(), 2000).unref();
    await exited;
    clearTimeout(timer);
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
