/**
 * The built-in policy builder: OPA's compiler (tools/opa-wasm-builder/, Go built for wasip1) run
 * through `node:wasi`, answering the `opa` commands a build needs with the CLI's output.
 *
 * One instance runs `opa-build serve` and answers command after command (starting it costs about
 * half a second; most commands cost less), in a child process of this same Node binary: it needs
 * no binary but Node, and a child can be given what a worker thread cannot. It runs with
 * `--liftoff-only`: V8's background tier-up of a 40 MB module would hold two cores for seconds and
 * delay the exit of the parent (its event loop waits for the shared compile pool), while Liftoff
 * code builds a policy as fast. It is stopped after `idleMs` without work (its memory given back),
 * and never keeps the parent alive; when the parent exits, its input closes and it ends.
 *
 * Security properties (policy files come from repositories):
 * - the guest sees one folder, preopened as `/work`; each command runs in a new subfolder holding
 *   only the files of that run, removed after it. The child gets an empty environment (no
 *   NODE_OPTIONS, no credentials) and the guest only GOMEMLIMIT; no argument but the command's;
 * - a command is stopped after `timeoutMs` (the child is killed; the next command starts another);
 * - the guest's linear memory is capped at `maxMemoryMiB` (the module's memory section is given a
 *   maximum, and Go's GC aims below it), so a policy that makes the compiler grow without bound
 *   fails its build instead of exhausting the host;
 * - commands run one at a time.
 * `node:wasi` is not a complete sandbox (Node says so); these bounds are against runaway input to
 * a trusted compiler, not against a hostile guest.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { PROJECT_ROOT, type RunResult } from './opa-cli.js';
import { inWorkDir, type OpaRunner, type OpaRunOptions } from './opa-runner.js';

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

/** One runner, and at most one live instance, per file, memory cap and idle time. */
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

/** Stop every live instance and forget the runners (tests measure cold builds with it). */
export async function clearWasmBuilderCache(): Promise<void> {
  const all = [...instances.values()];
  instances.clear();
  runners.clear();
  patches.clear();
  await Promise.all(all.map((i) => i.stop()));
}

/** How to give the module its memory maximum (`memoryLimitPatch`), per file version and cap. */
const patches = new Map<string, { key: string; patch: Promise<MemoryLimitPatch & { size: number }> }>();

/** The memory patch of the builder at `path`: the file is read once per version, and not kept. */
async function builderPatch(path: string, maxPages: number): Promise<MemoryLimitPatch & { size: number }> {
  const st = await stat(path).catch((e: unknown) => {
    throw notFound(path, e);
  });
  const key = `${st.size}\0${st.mtimeMs}\0${st.ino}`;
  const id = `${path}\0${maxPages}`;
  const known = patches.get(id);
  if (known?.key === key) return known.patch;
  const patch = readFile(path).then(
    (bytes) => ({ ...memoryLimitPatch(bytes, maxPages), size: bytes.length }),
    (e: unknown) => {
      throw notFound(path, e);
    },
  );
  patch.catch(() => patches.get(id)?.patch === patch && patches.delete(id));
  patches.set(id, { key, patch });
  return patch;
}

const notFound = (path: string, cause: unknown): KeywardenError =>
  new KeywardenError(ErrorCode.OPA_NOT_FOUND, `The built-in policy builder ${path} could not be read.`, {
    cause,
    hint: 'Reinstall keywarden, or put OPA v1.22.x on PATH; in a checkout, run scripts/setup-tools.',
  });

/**
 * The child: read the module, give it its memory maximum, instantiate it with WASI and run
 * `opa-build serve`, whose host functions read each request from standard input and write each
 * response to standard output, framed (a 4-byte little-endian length, then the bytes; a request
 * of length 0 means stop; responses start with R, the instance's end with X). Plain CommonJS,
 * evaluated. It silences only the ExperimentalWarning `node:wasi` prints.
 */
const CHILD_SOURCE = `'use strict';
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
  const text = String(warning && warning.message !== undefined ? warning.message : warning);
  if (type === 'ExperimentalWarning' && text.startsWith('WASI')) return;
  return emitWarning.call(process, warning, ...rest);
};
const fs = require('node:fs');
const { WASI } = require('node:wasi');
const d = JSON.parse(process.argv[1]);
const readExact = (n) => {
  const b = Buffer.alloc(n);
  for (let off = 0; off < n; ) {
    let r;
    try {
      r = fs.readSync(0, b, off, n - off, null);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      continue;
    }
    if (r === 0) return undefined;
    off += r;
  }
  return b;
};
const writeFrame = (tag, body) => {
  const payload = Buffer.concat([Buffer.from(tag), Buffer.from(body)]);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(payload.length);
  const all = Buffer.concat([head, payload]);
  for (let off = 0; off < all.length; ) off += fs.writeSync(1, all, off, all.length - off);
};
let instance;
let request;
const memory = () => new Uint8Array(instance.exports.memory.buffer);
const keywarden = {
  wait_request() {
    const head = readExact(4);
    const n = head ? head.readUInt32LE(0) : 0;
    if (n === 0) return 0;
    request = readExact(n);
    return request ? n : 0;
  },
  read_request(ptr) {
    memory().set(request, ptr);
  },
  send_response(ptr, len) {
    writeFrame('R', memory().slice(ptr, ptr + len));
  },
};
let exit;
const log = fs.openSync(d.log, 'a');
const stdin = fs.openSync(d.stdin, 'r');
try {
  const file = fs.readFileSync(d.module);
  if (file.length !== d.size) throw new Error('the builder changed on disk');
  const bytes = Buffer.concat([file.subarray(0, d.at), Buffer.from(d.insert, 'base64'), file.subarray(d.at + d.remove)]);
  const wasi = new WASI({ version: 'preview1', args: ['opa-build', 'serve'], env: d.env, preopens: d.preopens, stdin, stdout: log, stderr: log, returnOnExit: true });
  instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { ...wasi.getImportObject(), keywarden });
  exit = { code: wasi.start(instance), memoryBytes: instance.exports.memory.buffer.byteLength };
} catch (e) {
  exit = { trap: String((e && e.message) || e), memoryBytes: instance ? instance.exports.memory.buffer.byteLength : 0 };
}
writeFrame('X', JSON.stringify(exit));
`;

interface InstanceExit {
  code?: number;
  memoryBytes?: number;
  trap?: string;
}

type Reply = { response: RunResult } | { exit: InstanceExit; stderr?: string };

/** A live child running `opa-build serve`, its folders, and the command it is answering. */
interface Live {
  child: ChildProcess;
  root: string;
  work: string;
  log: string;
  /** Settles the command in flight (a response, or the instance's end). */
  pending: ((r: Reply) => void) | undefined;
  cleanup: () => void;
}

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

  run(args: readonly string[], options: OpaRunOptions): ReturnType<OpaRunner['run']> {
    const next = this.queue.then(() => this.runNow(args, options));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(args: readonly string[], options: OpaRunOptions): ReturnType<OpaRunner['run']> {
    clearTimeout(this.idle);
    const live = await (this.live ??= this.start().catch((e: unknown) => {
      this.live = undefined;
      throw e;
    }));
    const dir = await mkdtemp(join(live.work, 'run-'));
    try {
      return await inWorkDir(dir, options, () => this.ask(live, args, `${GUEST_DIR}/${basename(dir)}`, options.timeoutMs ?? DEFAULT_TIMEOUT_MS));
    } finally {
      await rm(dir, { recursive: true, force: true });
      if (this.current) this.idle = setTimeout(() => void this.stop(), this.idleMs).unref();
    }
  }

  private async start(): Promise<Live> {
    const patch = await builderPatch(this.path, this.maxPages);
    const root = await mkdtemp(join(tmpdir(), 'keywarden-opa-wasm-'));
    const work = join(root, 'work');
    await mkdir(work);
    const files = { stdin: join(root, 'stdin'), log: join(root, 'log') };
    await writeFile(files.stdin, '');
    // Go's GC aims below the cap; the cap itself is the module's memory maximum.
    const limitMiB = Math.floor((this.maxPages * WASM_PAGE * 0.8) / (1024 * 1024));
    const config = {
      module: this.path,
      size: patch.size,
      at: patch.at,
      remove: patch.remove,
      insert: Buffer.from(patch.insert).toString('base64'),
      preopens: { [GUEST_DIR]: work },
      env: { GOMEMLIMIT: `${limitMiB}MiB` },
      ...files,
    };
    const child = spawn(process.execPath, ['--liftoff-only', '-e', CHILD_SOURCE, JSON.stringify(config)], {
      env: process.platform === 'win32' && process.env.SystemRoot ? { SystemRoot: process.env.SystemRoot } : {},
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const onExit = (): void => {
      child.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    };
    process.once('exit', onExit);
    const live: Live = { child, root, work, log: files.log, pending: undefined, cleanup: () => process.removeListener('exit', onExit) };
    const settle = (r: Reply): void => {
      const p = live.pending;
      live.pending = undefined;
      p?.(r);
    };
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => void (stderr = (stderr + s).slice(-4000)));
    let buffered = Buffer.alloc(0);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32LE(0)) {
        const frame = buffered.subarray(4, 4 + buffered.readUInt32LE(0));
        buffered = buffered.subarray(4 + frame.length);
        const body = frame.subarray(1).toString('utf8');
        try {
          settle(frame[0] === 0x52 ? { response: JSON.parse(body) as RunResult } : { exit: JSON.parse(body) as InstanceExit, stderr });
        } catch {
          settle({ exit: { trap: 'unreadable reply' }, stderr });
        }
      }
    });
    // Settle first: a command that failed reads the instance's log, which `ended` removes.
    child.on('error', (e) => {
      settle({ exit: { trap: e.message }, stderr });
      this.ended(live);
    });
    child.on('exit', (code, signal) => {
      settle({ exit: { trap: `the builder process exited (${signal ?? code})` }, stderr });
      this.ended(live);
    });
    child.stdin!.on('error', () => undefined); // a child that died: its end is reported by 'exit'
    this.unref(live);
    this.current = live;
    return live;
  }

  /** Let the parent exit while this instance waits for work (its input then closes and it ends). */
  private unref(live: Live): void {
    live.child.unref();
    for (const s of [live.child.stdin, live.child.stdout, live.child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  }

  private ref(live: Live): void {
    live.child.ref();
    for (const s of [live.child.stdin, live.child.stdout, live.child.stderr]) (s as unknown as { ref?: () => void } | null)?.ref?.();
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

  private send(live: Live, body: Buffer): void {
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    live.child.stdin!.write(Buffer.concat([head, body]));
  }

  private ask(live: Live, args: readonly string[], dir: string, timeoutMs: number): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      const command = `opa ${args[0] ?? ''} (built-in builder)`;
      const timer = setTimeout(() => {
        live.pending = undefined;
        live.child.kill('SIGKILL');
        this.ended(live);
        reject(new KeywardenError(ErrorCode.POLICY_BUILD, `${command} did not finish in ${Math.round(timeoutMs / 1000)} s.`, { fault: 'internal', hint: 'Simplify the custom Rego modules, or install the OPA CLI.' }));
      }, timeoutMs);
      this.ref(live);
      live.pending = (r) => {
        clearTimeout(timer);
        this.unref(live);
        if ('response' in r) {
          resolve({ code: r.response.code, stdout: r.response.stdout, stderr: r.response.stderr });
          return;
        }
        let log = '';
        try {
          log = readFileSync(live.log, 'utf8');
        } catch {
          // no log: the failure says what it can without one
        }
        reject(this.failure(command, r.exit, log, r.stderr ?? ''));
      };
      this.send(live, Buffer.from(JSON.stringify({ dir, args })));
    });
  }

  /** Why the instance ended in the middle of a command. */
  private failure(command: string, exit: InstanceExit, log: string, stderr: string): KeywardenError {
    const limitMiB = Math.round((this.maxPages * WASM_PAGE) / (1024 * 1024));
    const outOfMemory = /out of memory/.test(log) || (exit.memoryBytes ?? 0) >= (this.maxPages - 64) * WASM_PAGE;
    return new KeywardenError(ErrorCode.POLICY_BUILD, outOfMemory ? `${command} ran out of memory (limit ${limitMiB} MiB).` : `${command} stopped unexpectedly.`, {
      fault: 'internal',
      hint: outOfMemory ? 'Simplify the custom Rego modules, or install the OPA CLI.' : `Reinstall keywarden (${this.path} may be damaged), or install the OPA CLI.`,
      details: {
        log: log.slice(0, 2000),
        ...(stderr ? { stderr: stderr.slice(0, 2000) } : {}),
        ...(exit.code !== undefined ? { exitCode: exit.code } : {}),
        ...(exit.trap ? { trap: exit.trap.slice(0, 500) } : {}),
      },
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
    const exited = new Promise<void>((r) => live.child.once('exit', () => r()));
    this.send(live, Buffer.alloc(0));
    const timer = setTimeout(() => live.child.kill('SIGKILL'), 2000).unref();
    await exited;
    clearTimeout(timer);
  }
}

/** Where and how `memoryLimitPatch` changes a module: replace `remove` bytes at `at` with `insert`. */
export interface MemoryLimitPatch {
  at: number;
  remove: number;
  insert: Uint8Array;
}

/** `bytes` with its memory given a maximum of `maxPages` pages (see `memoryLimitPatch`). */
export function withMemoryLimit(bytes: Uint8Array, maxPages: number): Uint8Array {
  const p = memoryLimitPatch(bytes, maxPages);
  const out = new Uint8Array(bytes.length - p.remove + p.insert.length);
  out.set(bytes.subarray(0, p.at), 0);
  out.set(p.insert, p.at);
  out.set(bytes.subarray(p.at + p.remove), p.at + p.insert.length);
  return out;
}

/**
 * How to give the (one, defined) memory of `bytes` a maximum of `maxPages` pages, or the lower
 * maximum it already has: the memory section rewritten. Go's wasip1 modules define their memory
 * without a maximum; V8 then lets it grow to 4 GiB. Throws when the module has no memory section
 * (it would not be the builder).
 */
export function memoryLimitPatch(bytes: Uint8Array, maxPages: number): MemoryLimitPatch {
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
      // The section id stays; its size and content are replaced.
      return { at: off + 1, remove: body + size - (off + 1), insert: Uint8Array.from([...enc(content.length), ...content]) };
    }
    off = body + size;
  }
  throw fail('no memory section');
}
