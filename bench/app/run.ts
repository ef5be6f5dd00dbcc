/**
 * `npm run bench:app [-- --leaks 20] [--clean 200] [--no-docs]`
 *
 * The GitHub App against the GitHub fake on loopback (test/helpers/github-fake: real HTTP, real
 * git repositories, every request validated against GitHub's OpenAPI description), composed as
 * `npm start` composes it (Probot, Hono, the SQLite queue, 16 jobs at once — the default — on this 2-core machine):
 *
 * - `--leaks` pushes, each to its own repository and each adding a GitHub token, delivered at
 *   once: webhook acknowledgement, and webhook → credential disabled (the fake's arrival time of
 *   the `POST /credentials/revoke` that carries the token);
 * - `--clean` clean pushes over 10 repositories, 20 at a time: acknowledgement and REST calls
 *   per clean push (installation-token requests excluded: one per hour per installation);
 * - peak RSS of the App's process.
 *
 * The App runs in its own process (`test/helpers/app-process.ts`, started as `npm start` starts
 * it: intake on the main thread, jobs on a worker thread), the fake in this one: GitHub's work (the compare, every request validated against the
 * OpenAPI description) does not run on the App's event loop. `--in-process` runs both in this
 * process, as earlier runs of this benchmark did.
 *
 * The reference for webhook → disabled is AWS's own quarantine of a publicly leaked key (about a
 * minute); targets: acknowledgement p99 ≤ 100 ms, webhook → disabled p95 ≤ 2 s, ≤ 2 REST calls
 * per clean push. Writes the `### GitHub App` section of docs/benchmarks.md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { composeApp, type AppSettings } from '../../src/compose-app.js';
import { openSqliteQueue } from '../../src/store/sqlite-queue.js';
import { createAppLogger } from '../../src/server/logger.js';
import { createGitHubFake, signDelivery } from '../../test/helpers/github-fake/index.js';
import { createRng, secretGenerators } from '../../test/fixtures/secrets/generators.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const LEAKS = arg('leaks', 20);
const CLEAN = arg('clean', 200);
const CONCURRENCY = arg('concurrency', 16);
const DOCS = !process.argv.includes('--no-docs');
const IN_PROCESS = process.argv.includes('--in-process');
const SECRET = 'bench-webhook-secret-0123456789';
const log = (s: string): void => void process.stderr.write(`bench:app: ${s}\n`);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

async function main(): Promise<void> {
  const project = path.resolve(import.meta.dirname, '..', '..');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kw-bench-app-'));
  const gh = await createGitHubFake({ violationStatus: 400 });
  const settings = { appId: String(gh.appId), privateKey: gh.privateKey, webhookSecrets: [SECRET], apiUrl: gh.apiUrl, gitUrl: `${gh.apiUrl}/git`, webUrl: 'https://github.com', host: '127.0.0.1', port: 0, stateDir: path.join(dir, 'state'), backend: {}, concurrency: CONCURRENCY, logLevel: 'warn' as const };
  const env = { PATH: process.env.PATH, HOME: dir, KEYWARDEN_STATE_DIR: path.join(dir, 'state'), KEYWARDEN_CACHE_DIR: path.join(project, '.cache', 'keywarden', 'policy'), KEYWARDEN_LOCAL_PASSPHRASE: 'bench-local-passphrase' };
  const app = IN_PROCESS ? await inProcess(settings, env) : await childProcess(project, settings, env);
  const url = app.url;
  // Deliveries are sent and timed from a thread of their own: GitHub's sender is not the API
  // server, and here the fake's work (git, OpenAPI validation) would otherwise delay the reading
  // of each answer on the same event loop and count as the App's.
  const sender = deliveryThread();
  const deliver = async (d: Parameters<typeof signDelivery>[0]): Promise<number> => {
    const s = signDelivery(d, SECRET);
    const r = await sender.send(`${url}/api/github/webhooks`, s.headers, s.body);
    if (r.status !== 202) throw new Error(`delivery answered ${r.status}`);
    return r.ms;
  };
  const idle = app.idle;

  try {
    // Warm-up: one clean push and one leak, so the policy build cache and the detectors are hot.
    log('warm-up');
    await gh.createRepo('acme', 'warm', { files: { 'README.md': '# warm\n' } });
    for (const files of [{ 'a.txt': 'hello\n' }, { 'b.env': `T=${secretGenerators['github-pat-classic']!(createRng('warm')).secret}\n` }]) {
      const before = (await gh.refSha('acme', 'warm', 'heads/main'))!;
      const after = await gh.commit('acme', 'warm', { branch: 'main', files });
      await deliver(await gh.pushEvent('acme', 'warm', { before, after }));
      await idle();
    }

    log(`${LEAKS} leaking pushes at once`);
    const leaks: Array<{ token: string; d: Awaited<ReturnType<typeof gh.pushEvent>> }> = [];
    for (let i = 0; i < LEAKS; i++) {
      await gh.createRepo('acme', `leak-${i}`, { files: { 'README.md': `# ${i}\n`, 'src/index.ts': 'export const x = 1;\n' } });
      const token = secretGenerators['github-pat-classic']!(createRng(`bench-leak-${i}`)).secret;
      const before = (await gh.refSha('acme', `leak-${i}`, 'heads/main'))!;
      const after = await gh.commit('acme', `leak-${i}`, { branch: 'main', files: { 'src/config.ts': `export const token = '${token}';\n` } });
      leaks.push({ token, d: await gh.pushEvent('acme', `leak-${i}`, { before, after }) });
    }
    const sentAt = new Map<string, number>();
    const ackLeak = await Promise.all(leaks.map(async (l) => {
      sentAt.set(l.token, Date.now());
      return deliver(l.d);
    }));
    await idle();
    const toDisabled: number[] = [];
    for (const l of leaks) {
      const r = gh.requests.find((x) => x.route === '/credentials/revoke' && JSON.stringify(x.body).includes(l.token));
      if (r) toDisabled.push(r.at - sentAt.get(l.token)!);
    }

    log(`${CLEAN} clean pushes`);
    const repos = 10;
    for (let i = 0; i < repos; i++) await gh.createRepo('acme', `clean-${i}`, { files: { 'README.md': `# ${i}\n` } });
    const ackClean: number[] = [];
    const restBefore = gh.requests.length;
    for (let done = 0; done < CLEAN; ) {
      const batch: Array<Promise<number>> = [];
      for (let k = 0; k < 20 && done < CLEAN; k++, done++) {
        const repo = `clean-${done % repos}`;
        const before = (await gh.refSha('acme', repo, 'heads/main'))!;
        const after = await gh.commit('acme', repo, { branch: 'main', files: { [`src/f${done}.ts`]: `export const v${done} = ${done};\n` } });
        batch.push(gh.pushEvent('acme', repo, { before, after }).then(deliver));
        // Pushes to one repository follow each other: wait for this one's commit before the next's (its parent).
      }
      ackClean.push(...(await Promise.all(batch)));
      await idle();
    }
    const cleanCalls = gh.requests.slice(restBefore).filter((r) => r.route !== '/app/installations/{installation_id}/access_tokens').length;

    const acks = [...ackLeak, ...ackClean];
    const rows = {
      ackP50: pct(acks, 50),
      ackP99: pct(acks, 99),
      disabledP50: pct(toDisabled, 50),
      disabledP95: pct(toDisabled, 95),
      disabled: toDisabled.length,
      restPerClean: cleanCalls / CLEAN,
      peakMb: (await app.peakRss()) / 1024 / 1024,
    };
    gh.assertNoViolations();
    const body = [
      `${LEAKS} leaking pushes at once (one repository each, a GitHub token each) and ${CLEAN} clean pushes (10 repositories, 20 at a time), against the GitHub fake on loopback; the App as \`npm start\` runs it${IN_PROCESS ? ', in the fake\'s process' : ' (its own process: intake on the main thread, the jobs on a worker thread)'}, ${CONCURRENCY} jobs at once (full scans at most 2), deliveries sent and timed from a thread of their own, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Reference for webhook → disabled: AWS's own quarantine of a publicly leaked key, about a minute.`,
      '',
      '| measure | Keywarden App | target |',
      '|---|---|---|',
      `| webhook acknowledgement p50 / p99 | ${rows.ackP50.toFixed(1)} ms / ${rows.ackP99.toFixed(1)} ms | p99 ≤ 100 ms |`,
      `| webhook → credential disabled p50 / p95 (${rows.disabled}/${LEAKS} disabled) | ${(rows.disabledP50 / 1000).toFixed(2)} s / ${(rows.disabledP95 / 1000).toFixed(2)} s | p95 ≤ 2 s (AWS: ~60 s, ratio ${(60_000 / rows.disabledP95).toFixed(0)}×) |`,
      `| GitHub REST calls per clean push | ${rows.restPerClean.toFixed(2)} | ≤ 2 |`,
      `| peak RSS (${IN_PROCESS ? 'App and fake in one process' : "the App's process"}) | ${rows.peakMb.toFixed(0)} MB | — |`,
    ].join('\n');
    process.stdout.write(`${body}\n`);
    if (DOCS) writeSection(path.join(project, 'docs', 'benchmarks.md'), body);
  } finally {
    await sender.close();
    await app.close();
    await gh.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A thread that POSTs deliveries and times each from just before the request to the last byte of its answer. */
function deliveryThread(): { send(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; ms: number }>; close(): Promise<void> } {
  const code = `
    const { parentPort } = require('node:worker_threads');
    parentPort.on('message', async (m) => {
      const t0 = performance.now();
      try {
        const r = await fetch(m.url, { method: 'POST', headers: m.headers, body: m.body });
        await r.arrayBuffer();
        parentPort.postMessage({ n: m.n, status: r.status, ms: performance.now() - t0 });
      } catch {
        parentPort.postMessage({ n: m.n, status: 0, ms: performance.now() - t0 });
      }
    });`;
  const w = new Worker(code, { eval: true });
  const waiting = new Map<number, (r: { status: number; ms: number }) => void>();
  let n = 0;
  w.on('message', (m: { n: number; status: number; ms: number }) => {
    waiting.get(m.n)?.(m);
    waiting.delete(m.n);
  });
  return {
    send: (u, headers, body) =>
      new Promise((resolve) => {
        waiting.set(++n, resolve);
        w.postMessage({ n, url: u, headers, body });
      }),
    close: async () => void (await w.terminate()),
  };
}

interface RunningApp {
  url: string;
  idle(): Promise<void>;
  peakRss(): Promise<number>;
  close(): Promise<void>;
}

async function inProcess(settings: AppSettings, env: NodeJS.ProcessEnv): Promise<RunningApp> {
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const app = await composeApp(settings, { env, logger: createAppLogger({ level: 'warn', destination: { write: () => undefined } }), worker: { pollMs: 10 } });
  const server = await app.start();
  return {
    url: server.url,
    idle: async () => {
      for (;;) {
        await app.worker.idle();
        const st = await app.queue.stats();
        if (st.queued === 0 && st.running === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    peakRss: async () => peak,
    close: async () => {
      clearInterval(sampler);
      await app.close(5000);
    },
  };
}

/** The App as its own process (`test/helpers/app-process.ts`); idle when its queue (read from its jobs.db) is empty. */
async function childProcess(project: string, settings: AppSettings, env: NodeJS.ProcessEnv): Promise<RunningApp> {
  const tsx = pathToFileURL(path.join(project, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  // KW_BENCH_CPU_PROF=DIR: CPU profiles of the App's threads into DIR (for finding where the time goes).
  const prof = process.env.KW_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.KW_BENCH_CPU_PROF)}`] : [];
  const p = spawn(process.execPath, [...prof, '--import', tsx, path.join(project, 'test', 'helpers', 'app-process.ts')], {
    // The worker's poll as `npm start` has it (1 s; a queued job wakes it at once).
    env: { ...env, KW_TEST_APP_SETTINGS: JSON.stringify(settings), KW_TEST_LOG_LEVEL: 'warn', KW_TEST_POLL_MS: '1000' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    p.once('exit', (code) => reject(new Error(`the App exited (${code}) before listening`)));
  });
  const queue = openSqliteQueue(settings.stateDir);
  let peak = 0;
  const vmHwm = (): number => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  };
  return {
    url,
    idle: async () => {
      for (;;) {
        const st = await queue.stats();
        if (st.queued === 0 && st.running === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    peakRss: async () => (peak = Math.max(peak, vmHwm())),
    close: async () => {
      await queue.close();
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    },
  };
}

const START = '<!-- bench:app:start — written by `npm run bench:app`; edits between the markers are overwritten -->';
const END = '<!-- bench:app:end -->';
function writeSection(file: string, body: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${START}\n\n${body.trimEnd()}\n\n${END}`;
  const s = text.indexOf('<!-- bench:app:start');
  const e = text.indexOf(END);
  const next = s >= 0 && e > s ? `${text.slice(0, s)}${block}${text.slice(e + END.length)}` : `${text.trimEnd()}\n\n### GitHub App\n\n${block}\n`;
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}

await main();
