/**
 * Finding and running the OPA CLI. The binary comes from `KEYWARDEN_OPA`, else the project's
 * `.tools/bin/opa` (installed by scripts/setup-tools), else `opa` on PATH. Arguments go to
 * `execFile` (no shell), with a timeout. Builds reach it through the `OpaRunner` port (opa-runner.ts).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, KeywardenError } from '../../errors.js';

/** The package root: three levels above this file in both src/ and dist/. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The value of `KEYWARDEN_OPA` that selects the built-in builder even when the OPA CLI is installed. */
export const FORCE_WASM = 'wasm';

export interface FindOpaOptions {
  env?: NodeJS.ProcessEnv;
  root?: string;
}

const isExecutable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The OPA CLI, or `undefined` when there is none. A `KEYWARDEN_OPA` that is not an executable is
 * an error, not a reason to look elsewhere: a named binary is a choice.
 */
export function findNativeOpa(options: FindOpaOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const fromEnv = env.KEYWARDEN_OPA;
  if (fromEnv === FORCE_WASM) return undefined;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new KeywardenError(ErrorCode.OPA_NOT_FOUND, 'KEYWARDEN_OPA does not point at an executable OPA binary.', {
      hint: 'Fix or unset KEYWARDEN_OPA (`wasm` selects the built-in builder), or put OPA v1.22.x on PATH; in a checkout, scripts/setup-tools installs it into .tools/bin.',
    });
  }
  const local = join(options.root ?? PROJECT_ROOT, '.tools', 'bin', 'opa');
  if (isExecutable(local)) return local;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'opa'))) return join(dir, 'opa');
  }
  return undefined;
}

/**
 * The OPA CLI, for what only it does (`opa test`); missing → `OPA_NOT_FOUND`. Builds go through
 * `findOpaRunner`, which falls back to the built-in builder.
 */
export function findOpa(options: FindOpaOptions = {}): string {
  const found = findNativeOpa(options);
  if (found) return found;
  const forced = (options.env ?? process.env).KEYWARDEN_OPA === FORCE_WASM;
  throw new KeywardenError(ErrorCode.OPA_NOT_FOUND, forced ? 'KEYWARDEN_OPA=wasm selects the built-in policy builder, which builds policies only; this needs the OPA CLI.' : 'The OPA CLI was not found.', {
    hint: 'Put OPA v1.22.x on PATH or set KEYWARDEN_OPA to it; in a checkout, scripts/setup-tools installs it into .tools/bin.',
  });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runOpa(opa: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    execFile(opa, [...args], { cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        const timedOut = err.killed || err.signal === 'SIGTERM';
        rej(
          new KeywardenError(timedOut ? ErrorCode.POLICY_BUILD : ErrorCode.OPA_NOT_FOUND, timedOut ? `opa ${args[0] ?? ''} did not finish in time.` : `Could not run the OPA CLI at ${opa}.`, {
            fault: timedOut ? 'internal' : 'config',
            cause: err,
            hint: 'Run scripts/setup-tools, or set KEYWARDEN_OPA to a working OPA 1.22.x binary.',
          }),
        );
        return;
      }
      res({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

const versions = new Map<string, string>();

/** `1.22.3` for the given binary (cached per path). */
export async function opaVersion(opa: string): Promise<string> {
  const known = versions.get(opa);
  if (known) return known;
  const r = await runOpa(opa, ['version']);
  const v = /^Version:\s*(\S+)/m.exec(r.stdout)?.[1] ?? 'unknown';
  versions.set(opa, v);
  return v;
}
