/**
 * The paper estimate of docs/scale.md: what a 10,000-repository org needs, from the scale
 * benchmark's measurements (CPU per push, calls per push, bytes per row, jobs per push) and the
 * assumptions below — each stated, none measured. Pure: numbers in, numbers out.
 */

export interface OrgAssumptions {
  repos: number;
  /** People pushing. */
  developers: number;
  /** Pushes per developer per working day (branches, PR updates, merges). */
  pushesPerDeveloperPerDay: number;
  /** Bot pushes (dependency updates, generated code) per repository per working day. */
  botPushesPerRepoPerDay: number;
  /** Share of a working day's pushes in its 8 busiest hours, and the busiest hour against their mean. */
  shareInWorkingHours: number;
  peakHourFactor: number;
  /** An org-wide change (a dependency bump, a renamed default branch): one push to this many repositories … */
  burstPushes: number;
  /** … within this many seconds. */
  burstSeconds: number;
  /** Share of pushes that add a credential the App revokes. */
  leakShare: number;
  workingDaysPerYear: number;
  /** A weekend day's pushes against a working day's. */
  weekendFactor: number;
  /** Days a done job and a delivery id are kept (the queue's retention: 7 days). */
  retentionDays: number;
  /** Dead tuples and free space PostgreSQL keeps in a table that is written and deleted all day (autovacuum keeps up). */
  bloatFactor: number;
  /** GitHub's rate limit per installation (the minimum; an org with many repositories and users gets up to 12,500). */
  requestsPerHourPerInstallation: number;
  /** `POST /credentials/revoke`: 60 unauthenticated requests an hour, up to 1,000 tokens each. */
  revokeRequestsPerHour: number;
  /**
   * Contents reads of the repository's policy per push. A process caches a repository's policy for
   * 60 s; with 10,000 repositories a repository is rarely pushed twice within a minute on the same
   * worker, so nearly every push reads it (one call; the organisation's `.github` policy is cached
   * per organisation and costs one call a minute per process).
   */
  policyReadsPerPush: number;
}

export const ORG_ASSUMPTIONS: OrgAssumptions = {
  repos: 10_000,
  developers: 3_000,
  pushesPerDeveloperPerDay: 5,
  botPushesPerRepoPerDay: 0.2,
  shareInWorkingHours: 0.8,
  peakHourFactor: 2,
  burstPushes: 10_000,
  burstSeconds: 600,
  leakShare: 0.001,
  workingDaysPerYear: 250,
  weekendFactor: 0.1,
  retentionDays: 7,
  bloatFactor: 1.5,
  requestsPerHourPerInstallation: 5_000,
  revokeRequestsPerHour: 60,
  policyReadsPerPush: 1,
};

/** What the benchmark measured, per push or per row. */
export interface Measured {
  /** CPU seconds per push, every App process together (intake and jobs, with their git). */
  appCpuSPerPush: number;
  postgresCpuSPerPush: number;
  /** Pushes per second the headline configuration drained on this machine. */
  pushesPerS: number;
  cores: number;
  /** Installation-authenticated REST calls per push: the compare; the policy reads (as measured, with this burst's cache hits); what a leaking push adds. */
  compareCallsPerPush: number;
  policyReadsPerPush: number;
  extraCallsPerLeak: number;
  /** `POST /credentials/revoke` requests per leaking push. */
  revokeRequestsPerLeak: number;
  /** Job rows per clean push and per leaking push. */
  jobsPerCleanPush: number;
  jobsPerLeak: number;
  /** Step rows per leaking push (clean pushes write none). */
  stepsPerLeak: number;
  idempotencyPerLeak: number;
  /** On-disk bytes per row, indexes included. */
  bytesPerJob: number;
  bytesPerDelivery: number;
  bytesPerStep: number;
  bytesPerIdempotency: number;
}

export interface OrgEstimate {
  pushesPerDay: number;
  pushesPerYear: number;
  peakPushesPerHour: number;
  peakPushesPerS: number;
  /** Cores the App and PostgreSQL keep busy at the peak hour, and in the burst. */
  peakAppCores: number;
  peakPostgresCores: number;
  burstPushesPerS: number;
  burstAppCores: number;
  burstPostgresCores: number;
  /** At the measured drain rate (this machine's): the queue at the end of the burst, and how long it takes to empty. */
  burstDepthAtMeasuredRate: number;
  burstDrainSAtMeasuredRate: number;
  /** Cores needed to keep the burst's queue flat (App + PostgreSQL). */
  coresToAbsorbBurst: number;
  peakUtilisationOfMeasured: number;
  callsPerPush: number;
  peakCallsPerHour: number;
  peakBudgetShare: number;
  burstCalls: number;
  burstBudgetHours: number;
  dailyCalls: number;
  leaksPerDay: number;
  peakLeaksPerHour: number;
  peakRevokeShare: number;
  /** Database size: the queue at its retention, and what grows for ever (steps, idempotency records) per year. */
  queueBytes: number;
  stepsBytesPerYear: number;
  totalBytesAfterOneYear: number;
}

export function estimateOrg(m: Measured, a: OrgAssumptions = ORG_ASSUMPTIONS): OrgEstimate {
  const pushesPerDay = a.developers * a.pushesPerDeveloperPerDay + a.repos * a.botPushesPerRepoPerDay;
  const pushesPerYear = pushesPerDay * (a.workingDaysPerYear + (365 - a.workingDaysPerYear) * a.weekendFactor);
  const peakPushesPerHour = ((pushesPerDay * a.shareInWorkingHours) / 8) * a.peakHourFactor;
  const peakPushesPerS = peakPushesPerHour / 3600;
  const burstPushesPerS = a.burstPushes / a.burstSeconds;
  const callsPerPush = m.compareCallsPerPush + a.policyReadsPerPush + a.leakShare * m.extraCallsPerLeak;
  const jobsPerPush = m.jobsPerCleanPush + a.leakShare * (m.jobsPerLeak - m.jobsPerCleanPush);
  const depth = Math.max(0, a.burstPushes - m.pushesPerS * a.burstSeconds);
  const peakCallsPerHour = peakPushesPerHour * callsPerPush;
  const burstCalls = a.burstPushes * callsPerPush;
  const leaksPerDay = pushesPerDay * a.leakShare;
  const peakLeaksPerHour = peakPushesPerHour * a.leakShare;
  const queueRowsPerPush = jobsPerPush * m.bytesPerJob + m.bytesPerDelivery;
  const queueBytes = (pushesPerYear / 365) * a.retentionDays * queueRowsPerPush * a.bloatFactor;
  const stepsBytesPerYear = pushesPerYear * a.leakShare * (m.stepsPerLeak * m.bytesPerStep + m.idempotencyPerLeak * m.bytesPerIdempotency);
  return {
    pushesPerDay,
    pushesPerYear,
    peakPushesPerHour,
    peakPushesPerS,
    peakAppCores: peakPushesPerS * m.appCpuSPerPush,
    peakPostgresCores: peakPushesPerS * m.postgresCpuSPerPush,
    burstPushesPerS,
    burstAppCores: burstPushesPerS * m.appCpuSPerPush,
    burstPostgresCores: burstPushesPerS * m.postgresCpuSPerPush,
    burstDepthAtMeasuredRate: depth,
    burstDrainSAtMeasuredRate: a.burstPushes / m.pushesPerS,
    coresToAbsorbBurst: burstPushesPerS * (m.appCpuSPerPush + m.postgresCpuSPerPush),
    peakUtilisationOfMeasured: peakPushesPerS / m.pushesPerS,
    callsPerPush,
    peakCallsPerHour,
    peakBudgetShare: peakCallsPerHour / a.requestsPerHourPerInstallation,
    burstCalls,
    burstBudgetHours: burstCalls / a.requestsPerHourPerInstallation,
    dailyCalls: pushesPerDay * callsPerPush,
    leaksPerDay,
    peakLeaksPerHour,
    peakRevokeShare: (peakLeaksPerHour * m.revokeRequestsPerLeak) / a.revokeRequestsPerHour,
    queueBytes,
    stepsBytesPerYear,
    totalBytesAfterOneYear: queueBytes + stepsBytesPerYear,
  };
}
