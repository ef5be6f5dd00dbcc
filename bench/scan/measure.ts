/**
 * Runs one command and measures its wall time (monotonic clock), CPU time and peak resident
 * memory. Peak memory comes from GNU time's `%M` (the largest max-RSS among the process and its
 * waited-for children — for Node that includes its worker threads, which share the process);
 * without GNU time it falls back to polling VmHWM in /proc.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';

export interface Measurement {
  wallSeconds: number;
  /** User + system CPU seconds, when GNU time is there. */
  cpuSeconds: number | null;
  peakRssMB: number;
  exitCode: number;
  /** Killed after `timeoutSeconds`: the wall time is then a lower bound. */
  timedOut?: boolean;
}

export interface CommandSpec {
  cmd: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  stdoutFile: string;
  stderrFile: string;
  /** A file to feed on standard input (for `scan --stdin`). */
  stdinFile?: string;
  /** Kill the run (its process group) after this many seconds. */
  timeoutSeconds?: number;
}

const GNU_TIME = '/usr/bin/time';

export function haveGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

export async function measure(spec: CommandSpec): Promise<Measurement> {
  const timeFile = `${spec.stderrFile}.time`;
  const useTime = haveGnuTime();
  const [cmd, args] = useTime ? [GNU_TIME, ['-f', '%e %M %U %S', '-o', timeFile, spec.cmd, ...spec.args]] : [spec.cmd, spec.args];
  const out = openSync(spec.stdoutFile, 'w');
  const err = openSync(spec.stderrFile, 'w');
  const input = spec.stdinFile === undefined ? 'ignore' : openSync(spec.stdinFile, 'r');
  const started = process.hrtime.bigint();
  let hwmKB = 0;
  // Its own process group, so a timeout stops the tool and not only GNU time.
  const child = spawn(cmd, args, { cwd: spec.cwd, env: spec.env ?? process.env, stdio: [input, out, err], detached: spec.timeoutSeconds !== undefined });
  let timedOut = false;
  const timer =
    spec.timeoutSeconds === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        }, spec.timeoutSeconds * 1000);
  const poll = useTime
    ? undefined
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) hwmKB = Math.max(hwmKB, Number(m[1]));
        } catch {
          // the process is gone
        }
      }, 20);
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (poll) clearInterval(poll);
  if (timer) clearTimeout(timer);
  closeSync(out);
  closeSync(err);
  if (typeof input === 'number') closeSync(input);
  if (timedOut) return { wallSeconds, cpuSeconds: null, peakRssMB: hwmKB / 1024, exitCode, timedOut };
  if (!useTime) return { wallSeconds, cpuSeconds: null, peakRssMB: hwmKB / 1024, exitCode };
  // GNU time prints "Command exited with non-zero status N" before the format line.
  const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
  const last = (lines[lines.length - 1] ?? '').trim().split(/\s+/).map(Number);
  const [, maxKB, user, sys] = last;
  if (maxKB === undefined || user === undefined || sys === undefined || last.some((n) => Number.isNaN(n))) {
    throw new Error(`could not read GNU time's output in ${timeFile}`);
  }
  return { wallSeconds, cpuSeconds: user + sys, peakRssMB: maxKB / 1024, exitCode };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
