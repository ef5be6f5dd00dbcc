/**
 * Build a policy to WebAssembly with OPA, cached by content hash. OPA is the CLI when one is found,
 * else the built-in builder (OPA's compiler compiled to WebAssembly; see opa-runner.ts): both
 * answer the same commands here.
 *
 * `opa check --strict` runs first with the restricted capabilities (see compile/capabilities.ts)
 * so every problem comes back at once, mapped to the policy or `.rego` line; then
 * `opa build -t wasm`. The cache key covers the OPA version, the capabilities, the entrypoint and
 * every module's bytes: an unchanged policy costs a hash and a map lookup (memory) or a file
 * read (disk), never a rebuild.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { type Capabilities, restrictCapabilities } from '../compile/capabilities.js';
import type { CompiledPolicy } from '../compile/compile-policy.js';
import { type ModuleOrigin, mapOpaErrors, type OpaError } from '../compile/map-opa-errors.js';
import { PolicyError } from '../dsl/policy-error.js';
import { createNativeOpaRunner, findOpaRunner, type OpaRunner } from './opa-runner.js';

/** A hand-written Rego module that joins the bundle (from the repo's `policies/` folder). */
export interface RegoModule {
  /** Shown in errors, e.g. `policies/no-legacy.rego`. */
  path: string;
  text: string;
}

export interface BuildPolicyOptions {
  compiled: CompiledPolicy;
  modules?: readonly RegoModule[];
  /** The OPA CLI to build with. */
  opa?: string;
  /** What to build with (`findOpaRunner`); `opa` wins when both are given. Default: `findOpaRunner({ env })`. */
  runner?: OpaRunner;
  env?: NodeJS.ProcessEnv;
  /**
   * Disk cache folder, chosen by the caller (the composition root: `KEYWARDEN_CACHE_DIR`, else the
   * user's cache folder), never derived from where the package is installed. Absent or `false`:
   * the in-memory cache only.
   */
  cacheDir?: string | false;
}

export interface BuiltPolicy {
  wasm: Uint8Array;
  hash: string;
  entrypoint: string;
  cached: 'memory' | 'disk' | false;
}

const memory = new Map<string, Uint8Array>();
const capabilityCache = new Map<string, Promise<{ json: string; hash: string }>>();

/** Forget the in-memory cache (tests and benchmarks measure cold builds with it). */
export function clearBuildCache(): void {
  memory.clear();
}

const asRunner = (opa: string | OpaRunner): OpaRunner => (typeof opa === 'string' ? createNativeOpaRunner(opa) : opa);
/** Native runners by binary; others by identity (runners configured differently may share a path). */
const runnerIds = new WeakMap<OpaRunner, string>();
let runnerCount = 0;
const runnerKey = (r: OpaRunner): string => {
  if (r.kind === 'native') return `native:${r.path}`;
  let id = runnerIds.get(r);
  if (!id) runnerIds.set(r, (id = `${r.kind}:${r.path}#${++runnerCount}`));
  return id;
};

/** The capabilities JSON passed to `opa build --capabilities`, for the given OPA binary or runner. */
export function wasmCapabilities(opa: string | OpaRunner): Promise<{ json: string; hash: string }> {
  const runner = asRunner(opa);
  const id = runnerKey(runner);
  let p = capabilityCache.get(id);
  if (!p) {
    p = (async () => {
      const r = await runner.run(['capabilities', '--current']);
      if (r.code !== 0) throw new KeywardenError(ErrorCode.POLICY_BUILD, 'opa capabilities failed.', { fault: 'internal', hint: 'Check the OPA installation (scripts/setup-tools).' });
      const require = createRequire(import.meta.url);
      // The package exports only its entry (src/index.cjs); capabilities.json sits one level up.
      const sdkDir = dirname(dirname(require.resolve('@open-policy-agent/opa-wasm')));
      const sdk = JSON.parse(await readFile(join(sdkDir, 'capabilities.json'), 'utf8')) as Capabilities;
      const json = JSON.stringify(restrictCapabilities(JSON.parse(r.stdout) as Capabilities, sdk));
      return { json, hash: sha256(json) };
    })();
    p.catch(() => capabilityCache.delete(id));
    capabilityCache.set(id, p);
  }
  return p;
}

const sha256 = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');

const versions = new Map<string, Promise<string>>();

/**
 * `1.22.3` for the CLI; `1.22.3+wasm` for the built-in builder, so the two never share a cached
 * bundle (cached per runner).
 */
function runnerVersion(runner: OpaRunner): Promise<string> {
  const id = runnerKey(runner);
  let p = versions.get(id);
  if (!p) {
    p = runner.run(['version']).then((r) => {
      const v = /^Version:\s*(\S+)/m.exec(r.stdout)?.[1] ?? 'unknown';
      return runner.kind === 'native' ? v : `${v}+${runner.kind}`;
    });
    p.catch(() => versions.delete(id));
    versions.set(id, p);
  }
  return p;
}

/**
 * OPA's version and capabilities: two `opa` runs, which cost a cold CLI more than the build cache
 * saves. With a disk cache they are kept there too, keyed by the binary's (or builder's) path,
 * size, mtime and inode, so a replaced or upgraded one is probed again.
 */
async function probeOpa(runner: OpaRunner, cacheDir: string | undefined): Promise<{ version: string; caps: { json: string; hash: string } }> {
  const opa = runner.path;
  const st = cacheDir ? await stat(opa).catch(() => undefined) : undefined;
  // The disk key is the file's: what version and capabilities a binary or builder reports does not depend on how it is run.
  const id = runner.kind === 'native' ? opa : `${runner.kind}:${opa}`;
  const file = cacheDir && st ? join(cacheDir, `opa-probe-${sha256(`${id}\0${st.size}\0${st.mtimeMs}\0${st.ino}`).slice(0, 32)}.json`) : undefined;
  if (file) {
    const kept = await readFile(file, 'utf8').then((t) => JSON.parse(t) as unknown, () => undefined);
    if (kept && typeof kept === 'object') {
      const k = kept as { version?: unknown; json?: unknown };
      if (typeof k.version === 'string' && typeof k.json === 'string') return { version: k.version, caps: { json: k.json, hash: sha256(k.json) } };
    }
  }
  const [version, caps] = await Promise.all([runnerVersion(runner), wasmCapabilities(runner)]);
  if (file && cacheDir) {
    await mkdir(cacheDir, { recursive: true }).catch(() => undefined);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ version, json: caps.json }))
      .then(() => rename(tmp, file))
      .catch(() => undefined);
  }
  return { version, caps };
}

export async function buildPolicy(options: BuildPolicyOptions): Promise<BuiltPolicy> {
  const { compiled } = options;
  const runner = options.opa !== undefined ? createNativeOpaRunner(options.opa) : (options.runner ?? findOpaRunner(options.env ? { env: options.env } : {}));
  const cacheDir = options.cacheDir === false ? undefined : options.cacheDir;
  const { version, caps } = await probeOpa(runner, cacheDir);
  const modules = [{ path: compiled.modulePath, text: compiled.rego }, ...(options.modules ?? []).map((m, i) => ({ path: `custom/${i}-${safeName(m.path)}`, text: m.text }))];
  const h = createHash('sha256');
  h.update(`keywarden-policy-build/2\0${version}\0${caps.hash}\0${compiled.entrypoint}\0${compiled.partial.entrypoint}\0${compiled.partial.contextEntrypoint}\0`);
  for (const m of modules) h.update(`${m.path}\0${m.text.length}\0${m.text}\0`);
  const hash = h.digest('hex');
  const base = { hash, entrypoint: compiled.entrypoint };

  const hit = memory.get(hash);
  if (hit) return { ...base, wasm: hit, cached: 'memory' };
  const cacheFile = cacheDir ? join(cacheDir, `${hash}.wasm`) : undefined;
  if (cacheFile) {
    const disk = await readFile(cacheFile).catch(() => undefined);
    if (disk && sha256(disk) === (await readFile(`${cacheFile}.sha256`, 'utf8').catch(() => ''))) {
      const wasm = new Uint8Array(disk);
      memory.set(hash, wasm);
      return { ...base, wasm, cached: 'disk' };
    }
  }

  const files: Record<string, string> = { 'capabilities.json': caps.json };
  for (const m of modules) files[m.path] = m.text;
  const paths = modules.map((m) => m.path);
  const origins: ModuleOrigin[] = [
    { bundlePath: compiled.modulePath, displayPath: compiled.modulePath, lineMap: compiled.lineMap },
    ...(options.modules ?? []).map((m, i) => ({ bundlePath: paths[i + 1] ?? '', displayPath: m.path })),
  ];
  const check = await runner.run(['check', '--strict', '--capabilities', 'capabilities.json', '--format', 'json', ...paths], { files });
  if (check.code !== 0) throw new PolicyError(mapOpaErrors(parseOpaErrors(check.stdout || check.stderr), origins));
  const entrypoints = [compiled.entrypoint, compiled.partial.entrypoint, compiled.partial.contextEntrypoint].flatMap((e) => ['-e', e]);
  const build = await runner.run(['build', '-t', 'wasm', '--capabilities', 'capabilities.json', ...entrypoints, '-o', 'bundle.tar.gz', ...paths], { files, outputs: ['bundle.tar.gz'] });
  const bundle = build.outputs.get('bundle.tar.gz');
  if (build.code !== 0 || !bundle)
    throw new KeywardenError(ErrorCode.POLICY_BUILD, 'opa build -t wasm failed.', {
      fault: 'internal',
      hint: 'Run `keywarden policy compile` and `opa build -t wasm` on the output to see the details.',
      details: { stderr: build.stderr.slice(0, 2000), runner: runner.kind },
    });
  const wasm = extractFromTarGz(bundle, 'policy.wasm');
  if (cacheFile && cacheDir) {
    await mkdir(cacheDir, { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    await writeFile(tmp, wasm);
    await rename(tmp, cacheFile);
    await writeFile(`${cacheFile}.sha256`, sha256(wasm));
  }
  memory.set(hash, wasm);
  return { ...base, wasm, cached: false };
}

const safeName = (p: string): string => p.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-100);

function parseOpaErrors(text: string): OpaError[] {
  try {
    const j = JSON.parse(text) as { errors?: OpaError[] };
    if (Array.isArray(j.errors) && j.errors.length > 0) return j.errors;
  } catch {
    // fall through: not JSON
  }
  return [{ message: text.trim().split('\n')[0] ?? 'opa check failed', code: 'opa_error' }];
}

/** Read one member of a gzipped tar (ustar) without a dependency. */
export function extractFromTarGz(gz: Uint8Array, name: string): Uint8Array {
  const tar = gunzipSync(gz);
  let off = 0;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const str = (a: number, b: number): string => Buffer.from(header.subarray(a, b)).toString('utf8').replace(/\0.*$/s, '');
    const full = `${str(345, 500)}${str(0, 100)}`;
    const size = parseInt(str(124, 136).trim() || '0', 8);
    const body = off + 512;
    if (full.replace(/^\/+/, '') === name || full.endsWith(`/${name}`)) return new Uint8Array(tar.subarray(body, body + size));
    off = body + Math.ceil(size / 512) * 512;
  }
  throw new KeywardenError(ErrorCode.POLICY_BUILD, `The OPA bundle has no ${name}.`, { fault: 'internal', hint: 'Check that the OPA CLI is version 1.22.x.' });
}
