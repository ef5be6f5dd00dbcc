/**
 * The App's processes for the scale benchmark, each a separate OS process started as an operator
 * starts it: `node bin/keywarden.js serve|worker|app` (the built CLI in dist/), settings from the
 * environment. `from: 'src'` runs the same CLI from the TypeScript sources through tsx instead (for
 * when dist/ cannot be built).
 *
 * CPU time is read from /proc (the process and the children it has reaped: its git runs), so the
 * report can say where the two cores went.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export type AppRole = 'serve' | 'worker' | 'app';

export interface AppProcess {
  role: AppRole;
  pid: number;
  /** The intake's URL (`serve`, `app`). */
  url?: string;
  /** CPU time so far, ms: the process and its reaped children. */
  cpuMs(): number;
  /** Peak resident set so far, bytes. */
  peakRss(): number;
  /** Set once the process exited on its own (a crash). */
  exitCode(): number | null | undefined;
  stop(): Promise<void>;
}

export interface StartAppProcessOptions {
  project: string;
  role: AppRole;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr go here. */
  logFile: string;
  /** `serve`/`app`: the port to listen on (127.0.0.1). */
  port?: number;
  from?: 'dist' | 'src';
}

const TICK_MS = 10; // CLK_TCK is 100 on Linux

/** utime + stime + cutime + cstime of a process, ms; 0 once it is gone. */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3, so utime (14) is index 11.
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS;
  } catch {
    return 0;
  }
}

function vmHwm(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The machine's busy and total CPU time so far, ms (from /proc/stat; iowait counts as idle). */
export function machineCpuMs(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) * TICK_MS, total: total * TICK_MS };
}

/** CPU time of a PostgreSQL cluster, ms: the postmaster (with its reaped backends) and its live children. */
export function clusterCpuMs(dataDir: string): number {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return 0;
  }
  let sum = procCpuMs(postmaster);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) {
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        sum += (Number(f[11]) + Number(f[12])) * TICK_MS;
      }
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

export async function startAppProcess(o: StartAppProcessOptions): Promise<AppProcess> {
  const args =
    o.from === 'src'
      ? ['--import', pathToFileURL(path.join(o.project, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, path.join(o.project, 'bench', 'scale', 'cli-entry.ts'), o.role]
      : [path.join(o.project, 'bin', 'keywarden.js'), o.role];
  const fd = openSync(o.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, {
      cwd: o.project,
      env: { ...o.env, ...(o.port !== undefined ? { PORT: String(o.port), HOST: '127.0.0.1' } : {}) },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid!;
  let code: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (c, signal) => {
      code = c ?? (signal ? -1 : null);
      resolve();
    }),
  );
  let peak = 0;
  const url = o.port !== undefined ? `http://127.0.0.1:${o.port}` : undefined;
  if (url) await waitHealthy(url, () => code, o.logFile);
  return {
    role: o.role,
    pid,
    ...(url ? { url } : {}),
    cpuMs: () => procCpuMs(pid),
    peakRss: () => (peak = Math.max(peak, vmHwm(pid))),
    exitCode: () => code,
    stop: async () => {
      if (code !== undefined) return;
      peak = Math.max(peak, vmHwm(pid));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function waitHealthy(url: string, exitCode: () => number | null | undefined, logFile: string): Promise<void> {
  const until = Date.now() + 90_000;
  for (;;) {
    if (exitCode() !== undefined) throw new Error(`the App process exited (${exitCode()}) before it listened; see ${logFile}`);
    try {
      const r = await fetch(`${url}/healthz`);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`the App at ${url} did not answer /healthz within 90 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
