/** The scale benchmark's tables: the `### Org scale` section of docs/benchmarks.md and the measured part of docs/scale.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { TableSize } from './count.js';
import { estimateOrg, ORG_ASSUMPTIONS, type Measured } from './estimate.js';

/** One configuration of the run: engine, processes, and the burst. */
export interface BenchConfig {
  label: string;
  engine: 'postgres' | 'sqlite';
  serve: number;
  workers: number;
  /** The burst: this many deliveries from this many repositories over this many seconds. */
  deliveries: number;
  repos: number;
  seconds: number;
  /** A point of the throughput curve (a smaller burst at the same rate), not the headline. */
  curve: boolean;
}

export interface ConfigResult extends BenchConfig {
  leaks: number;
  warmPushes?: number;
  warmLeaks?: number;
  ack: { p50: number; p99: number; max: number };
  disabled: { n: number; p50: number; p95: number; max: number };
  /** Job rows of the burst's deliveries (push jobs and their full scans), and of those done. */
  jobs: number;
  doneJobs: number;
  jobsPerS: number;
  pushesPerS: number;
  /** First delivery sent → last job finished. */
  drainS: number;
  /** First delivery sent → last push job finished (the fast path, without the full scans it queues). */
  fastDrainS: number;
  fastPushesPerS: number;
  afterLastSendS: number;
  drained: boolean;
  peakDepth: number;
  /** Jobs done per second while the burst was still arriving. */
  jobsPerSWhileArriving: number;
  retried: number;
  restPerPush: number;
  restInstallationPerPush: number;
  revokeRequests: number;
  tokenRequests: number;
  gitPerPush: number;
  routes: Array<{ route: string; n: number }>;
  cleanScanned: number;
  pulls: number;
  revokeSteps: number;
  lost: Record<string, number> & { total: number };
  duplicated: Record<string, number> & { total: number };
  cpu: { wallS: number; appsS: number; fakeS: number; postgresS: number; otherS: number; machineBusyShare: number };
  peakRssMb: Array<{ role: string; mb: number }>;
}

export interface RunMeta {
  date: string;
  node: string;
  cores: number;
  cpu: string;
  loadStart: number[];
  loadEnd: number[];
  wallS: number;
  command: string;
  opts: { deliveries: number; repos: number; seconds: number; leakEvery: number; serve: number; workers: number[]; concurrency: string | undefined; from: string };
}

const ms = (n: number): string => (!Number.isFinite(n) ? '–' : n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n.toFixed(0)} ms`);
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '–');
const load = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' ');
const which = (o: Record<string, number>): string => {
  const parts = Object.entries(o).filter(([k, v]) => k !== 'total' && v > 0).map(([k, v]) => `${v} ${k}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
};

export function renderBenchmarks(results: readonly ConfigResult[], meta: RunMeta): string {
  const o = meta.opts;
  const head = results.find((r) => !r.curve);
  const lines = [
    `\`${meta.command}\` (the App ${o.from === 'src' ? 'from the TypeScript sources through tsx' : 'as `node bin/keywarden.js serve|worker|app`, from dist/ after `npm run build`'}), ${meta.date}, ${meta.cores} × ${meta.cpu}, Node ${meta.node}; load average ${load(meta.loadStart)} at the start and ${load(meta.loadEnd)} at the end — a shared machine, other work ran beside it (the "other" column below); the whole run took ${(meta.wallS / 60).toFixed(1)} min.`,
    '',
    `The burst: ${head ? `${head.deliveries} push deliveries from ${head.repos} repositories of one organisation (one installation), evenly spaced over ${head.seconds} s` : '(none)'}, one push in ${o.leakEvery} adding a GitHub token (a repository's pushes follow each other; each repository leaks once), signed as GitHub signs them and POSTed round-robin to the \`serve\` replicas from a thread of their own. Each configuration gets a fresh database, fresh state folders and fresh repositories, and one clean and one leaking push per worker before its burst to warm the processes up. The GitHub fake (real HTTP, real git, every request validated against GitHub's OpenAPI description; its answers not re-validated, so its CPU is spent on GitHub's work) runs in the benchmark's process; PostgreSQL (a throwaway cluster, fsync off) and every App process share the same ${meta.cores} cores. ${o.concurrency ?? '16'} jobs at once per process and at most 8 per installation over all of them (the defaults).`,
    '',
    '| configuration | deliveries | ack p50 / p99 | delivery → disabled p50 / p95 | jobs/s drained | pushes/s, fast path | drain: first delivery → last job (→ last push job) | REST calls / push | lost | duplicated |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.label} | ${r.deliveries} in ${r.seconds.toFixed(0)} s | ${ms(r.ack.p50)} / ${ms(r.ack.p99)} | ${ms(r.disabled.p50)} / ${ms(r.disabled.p95)} (${r.disabled.n}/${r.leaks}) | ${f1(r.jobsPerS)} (${r.doneJobs} jobs) | ${f1(r.fastPushesPerS)} | ${r.drainS.toFixed(0)} s (${r.fastDrainS.toFixed(0)} s)${r.drained ? '' : ' **not drained**'} | ${f2(r.restPerPush)} | ${r.lost.total}${which(r.lost)} | ${r.duplicated.total}${which(r.duplicated)} |`,
    ),
    '',
    '"jobs/s drained": the burst\'s jobs (a push job per delivery, and the full scan each leaking push queues) over first delivery → last job done. "pushes/s, fast path": deliveries over first delivery → last push job done (compare, pre-check, revocation; the full scans run after). "Lost" counts deliveries refused or without a job row, job rows not `done`, leaking pushes without a done full scan, and leaked tokens the fake never saw revoked; "duplicated" counts deliveries with two job rows, dedupe keys held by two rows, tokens revoked twice or revoked without having leaked, two `keywarden` check runs on one commit, and two done revoke steps for one credential — read after the drain from `keywarden.jobs`, `deliveries` and `steps` (SQLite: `jobs.db`, `pipeline.db`) and from the fake\'s request log.',
    '',
    'Where the CPU went from the first delivery to the end of the drain (CPU seconds; the fake\'s git processes count as the fake\'s, the workers\' as the App\'s; "other" is the machine\'s busy time that none of these account for — work outside this benchmark):',
    '',
    '| configuration | wall | App processes | GitHub fake | PostgreSQL | other | machine busy | peak queue depth | jobs/s while arriving | retried jobs | git requests / push | revoke requests | peak RSS per App process |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.label} | ${r.cpu.wallS.toFixed(0)} s | ${r.cpu.appsS.toFixed(0)} s | ${r.cpu.fakeS.toFixed(0)} s | ${r.cpu.postgresS.toFixed(0)} s | ${r.cpu.otherS.toFixed(0)} s | ${(r.cpu.machineBusyShare * 100).toFixed(0)} % | ${r.peakDepth} | ${f1(r.jobsPerSWhileArriving)} | ${r.retried} | ${f2(r.gitPerPush)} | ${r.revokeRequests} for ${r.leaks} leaks | ${rssSummary(r)} |`,
    ),
  ];
  const curved = results.filter((r) => r.curve);
  const curve = (curved.length ? [...curved, ...(curved[0]!.deliveries === head?.deliveries && head.engine === 'postgres' ? [head] : [])] : results.filter((r) => r.engine === 'postgres')).sort((a, b) => a.workers - b.workers);
  if (curve.length > 1) {
    lines.push(
      '',
      `Throughput curve on PostgreSQL (${curve[0]!.serve} serve replicas each time, ${curve[0]!.deliveries} deliveries in ${curve[0]!.seconds.toFixed(0)} s): ${curve.map((r) => `${r.workers} worker${r.workers === 1 ? '' : 's'} ${f1(r.jobsPerS)} jobs/s (fast path ${f1(r.fastPushesPerS)} pushes/s, ack p99 ${ms(r.ack.p99)})`).join('; ')}.`,
    );
  }
  if (head) lines.push('', `REST calls of the ${head.label} burst by route: ${head.routes.slice(0, 8).map((x) => `${x.route} ${x.n}`).join('; ')}.`);
  return lines.join('\n');
}

function rssSummary(r: ConfigResult): string {
  const by = new Map<string, number[]>();
  for (const p of r.peakRssMb) by.set(p.role, [...(by.get(p.role) ?? []), p.mb]);
  return [...by.entries()].map(([role, xs]) => `${role} ${Math.max(...xs).toFixed(0)} MB`).join(', ');
}

/** The headline configuration's numbers per push and per row, for the estimate. */
export function measuredFrom(r: ConfigResult, sizes: readonly TableSize[], cores: number): Measured {
  const size = (t: string): TableSize => sizes.find((s) => s.table === t) ?? { table: t, rows: 0, totalBytes: 0, rowBytes: 0 };
  const per = (t: string): number => (size(t).rows ? size(t).totalBytes / size(t).rows : 0);
  const leaksInDb = r.leaks + (r.warmLeaks ?? 0);
  const clean = r.deliveries - r.leaks;
  // Every push: the compare, and the policy read when this process's cache (60 s per repository) misses; the rest are the leaks'.
  const calls = (re: RegExp): number => r.routes.filter((x) => re.test(x.route)).reduce((s, x) => s + x.n, 0);
  const compare = calls(/\/compare\//);
  const contents = calls(/\/contents\//);
  const installationCalls = r.restInstallationPerPush * r.deliveries;
  return {
    appCpuSPerPush: r.cpu.appsS / r.deliveries,
    postgresCpuSPerPush: r.cpu.postgresS / r.deliveries,
    pushesPerS: r.pushesPerS,
    cores,
    compareCallsPerPush: compare / r.deliveries,
    policyReadsPerPush: contents / r.deliveries,
    extraCallsPerLeak: r.leaks ? (installationCalls - compare - contents) / r.leaks : 0,
    revokeRequestsPerLeak: r.leaks ? r.revokeRequests / r.leaks : 0,
    jobsPerCleanPush: 1 + (clean ? r.cleanScanned / clean : 0),
    jobsPerLeak: 2,
    stepsPerLeak: leaksInDb ? size('steps').rows / leaksInDb : 0,
    idempotencyPerLeak: leaksInDb ? size('idempotency').rows / leaksInDb : 0,
    bytesPerJob: per('jobs'),
    bytesPerDelivery: per('deliveries'),
    bytesPerStep: per('steps'),
    bytesPerIdempotency: per('idempotency'),
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const mb = (b: number): string => (b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(1)} GB` : `${(b / 1024 ** 2).toFixed(0)} MB`);

export function renderScale(r: ConfigResult, sizes: readonly TableSize[], meta: RunMeta): string {
  const m = measuredFrom(r, sizes, meta.cores);
  const a = ORG_ASSUMPTIONS;
  const e = estimateOrg(m, a);
  return [
    `From \`${meta.command}\`, ${meta.date}: the ${r.label} burst (${r.deliveries} pushes, ${r.leaks} leaking) on ${meta.cores} cores, the GitHub fake and PostgreSQL on the same cores.`,
    '',
    '| measured | value |',
    '|---|---|',
    `| App CPU per push (all App processes, intake and jobs, with their git) | ${(m.appCpuSPerPush * 1000).toFixed(0)} ms |`,
    `| PostgreSQL CPU per push | ${(m.postgresCpuSPerPush * 1000).toFixed(0)} ms |`,
    `| pushes drained per second on this machine | ${f1(m.pushesPerS)} |`,
    `| installation REST calls per push: the compare / policy reads (this burst: ${(r.deliveries / r.repos).toFixed(0)} pushes per repository in ${r.seconds.toFixed(0)} s, so many cache hits) / added per leaking push | ${f2(m.compareCallsPerPush)} / ${f2(m.policyReadsPerPush)} / ${f1(m.extraCallsPerLeak)} |`,
    `| \`POST /credentials/revoke\` requests per leaking push | ${f2(m.revokeRequestsPerLeak)} |`,
    `| job rows per clean push / per leaking push | ${f2(m.jobsPerCleanPush)} / ${f2(m.jobsPerLeak)} |`,
    `| step rows / idempotency rows per leaking push | ${f1(m.stepsPerLeak)} / ${f1(m.idempotencyPerLeak)} |`,
    ...sizes.map((s) => `| \`keywarden.${s.table}\`: ${s.rows} rows, ${mb(s.totalBytes)} with indexes | ${s.rows ? int(s.totalBytes / s.rows) : '–'} bytes per row on disk (tuple ${int(s.rowBytes)} bytes) |`),
    '',
    '| assumption | value |',
    '|---|---|',
    `| repositories / people pushing | ${int(a.repos)} / ${int(a.developers)} |`,
    `| pushes per person per working day; bot pushes per repository per working day | ${a.pushesPerDeveloperPerDay}; ${a.botPushesPerRepoPerDay} |`,
    `| share of a day's pushes in its 8 busiest hours; busiest hour ÷ their mean | ${a.shareInWorkingHours * 100} %; ${a.peakHourFactor}× |`,
    `| org-wide burst | ${int(a.burstPushes)} pushes in ${a.burstSeconds / 60} min |`,
    `| leaking pushes | ${(a.leakShare * 100).toFixed(1)} % |`,
    `| working days a year; a weekend day ÷ a working day | ${a.workingDaysPerYear}; ${a.weekendFactor} |`,
    `| retention of done jobs and delivery ids; table bloat | ${a.retentionDays} days; ${a.bloatFactor}× |`,
    `| GitHub: requests per hour per installation; revocation requests per hour | ${int(a.requestsPerHourPerInstallation)}; ${a.revokeRequestsPerHour} |`,
    `| policy reads per push (the 60 s cache rarely hits at this scale) | ${a.policyReadsPerPush} |`,
    '',
    '| estimate | value |',
    '|---|---|',
    `| pushes per working day / per year | ${int(e.pushesPerDay)} / ${int(e.pushesPerYear)} |`,
    `| busiest hour | ${int(e.peakPushesPerHour)} pushes (${f2(e.peakPushesPerS)} per second): ${f2(e.peakAppCores)} App cores + ${f2(e.peakPostgresCores)} PostgreSQL cores; ${(e.peakUtilisationOfMeasured * 100).toFixed(0)} % of what this machine drained${e.peakUtilisationOfMeasured < 0.7 ? ', so the queue stays near empty' : ''} |`,
    `| org-wide burst | ${f1(e.burstPushesPerS)} pushes per second: ${f1(e.burstAppCores)} App cores + ${f1(e.burstPostgresCores)} PostgreSQL cores to keep up (${f1(e.coresToAbsorbBurst)} in all); at this machine's rate the queue peaks at ${int(e.burstDepthAtMeasuredRate)} jobs and the burst takes ${(e.burstDrainSAtMeasuredRate / 60).toFixed(0)} min to drain |`,
    `| database after a year | ${mb(e.totalBytesAfterOneYear)}: the queue at ${a.retentionDays} days' retention ${mb(e.queueBytes)} (steady), step and idempotency records ${mb(e.stepsBytesPerYear)} a year (never pruned) |`,
    `| GitHub REST calls | ${f2(e.callsPerPush)} per push, ${int(e.dailyCalls)} a working day; busiest hour ${int(e.peakCallsPerHour)} an hour = ${(e.peakBudgetShare * 100).toFixed(0)} % of ${int(a.requestsPerHourPerInstallation)}; the burst ${int(e.burstCalls)} calls = ${f1(e.burstBudgetHours)} hours of the installation's budget |`,
    `| revocations | ${f1(e.leaksPerDay)} leaking pushes a day, ${f2(e.peakLeaksPerHour)} in the busiest hour = ${(e.peakRevokeShare * 100).toFixed(0)} % of the revocation API's ${a.revokeRequestsPerHour} requests an hour |`,
  ].join('\n');
}

/** Replaces what is between this benchmark's markers, or appends `heading` and the block; nothing else in the file is touched. */
export function writeBetween(file: string, marker: string, heading: string, body: string): void {
  const startTag = `<!-- ${marker}:start`;
  const START = `${startTag} — written by \`npm run bench:scale\`; edits between the markers are overwritten -->`;
  const END = `<!-- ${marker}:end -->`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const block = `${START}\n\n${body.trimEnd()}\n\n${END}`;
  const s = text.indexOf(startTag);
  const e = text.indexOf(END);
  const next = s >= 0 && e > s ? `${text.slice(0, s)}${block}${text.slice(e + END.length)}` : `${text.trimEnd()}\n\n${heading}\n\n${block}\n`;
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}
