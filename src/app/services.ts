/**
 * What the App's job handlers are given: the adapters the App's composition root opened once
 * for the process (Probot's installation auth, the step store, the backend settings, the state
 * folder), and the per-repository work every handler shares: the policy (cached, read from the
 * default branch), the compare pre-check, and the pipeline over the repository's git copy.
 */
import ignore from 'ignore';
import path from 'node:path';
import { readAuditSignerFromEnv, type BackendSettings } from '../backends/open-backend.js';
import { AuditedRevoker } from '../backends/audited.js';
import { GitHubDeployKeys, type DeployKeyApi } from '../backends/github-deploy-keys.js';
import { GitHubTokenRevoker } from '../backends/github-token-revoker.js';
import { FileSecretSink } from '../backends/secret-sink.js';
import { KeyedMutex } from '../backends/keyed-mutex.js';
import { compose } from '../compose.js';
import { ErrorCode, KeywardenError } from '../errors.js';
import { detectionSettings } from '../pipeline/detect.js';
import { runPipeline, type PipelineEvent, type PipelineSource } from '../pipeline/run.js';
import type { Finding } from '../model/finding.js';
import type { PipelineReport, StepResult } from '../pipeline/types.js';
import { getSecretsConfig } from '../policy/dsl/secrets.js';
import { createRuleset, type Ruleset } from '../scan/engine.js';
import { selectDetectors } from '../scan/select-detectors.js';
import { preCheckCompare, secretInPatch, type ComparePatchFile, type ComparePreCheck } from '../scan/sources/compare-patch.js';
import { cloneUrl, dropScratchBranches, ensureMirror, fetchInto, fetchedBranch, hasCommit, historyAsRange, type GitRemote } from '../scm/github-git.js';
import { GitHubRepo, githubError, type Octokit } from '../scm/github.js';
import { AuditLog, type AuditWriter } from '../store/audit.js';
import type { IdempotencyStore } from '../store/idempotency.js';
import type { StepStore } from '../store/steps.js';
import type { RepoJob } from './jobs.js';
import { readRepoPolicy, type RepoPolicy } from './repo-policy.js';

export interface AppLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface AppMetrics {
  finding(kind: string): void;
  action(type: string, outcome: string): void;
  webhookToAction(seconds: number): void;
}

export interface AppServices {
  /** An Octokit authenticated as the installation (Probot's `auth`: retry and throttling plugins on). */
  auth(installationId: number): Promise<Octokit>;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  /** The operator's backend settings (they win over a repository policy's `backend:` block). */
  backend: BackendSettings;
  steps: StepStore;
  /** Shared idempotency records for remote backends (the App on PostgreSQL); default each state folder's own. */
  idempotency?: IdempotencyStore;
  /** The shared audit chain (the App on PostgreSQL): remote backends and GitHub-side revocations record there. */
  audit?: AuditWriter;
  /** Where repositories are cloned from: `https://github.com` (or a GHES host). */
  gitBase: string;
  /** Where people look: `https://github.com`, for links in PR bodies and checks. */
  webBase: string;
  logger: AppLogger;
  metrics?: AppMetrics;
  clock: () => Date;
  /**
   * Sends leaked GitHub tokens to `POST /credentials/revoke`. On github.com the endpoint takes only
   * unauthenticated requests ("any authenticated request will return a 403"); on GHES it wants
   * authentication. The composition root picks.
   */
  revokeTokens?: (credentials: string[], octokit: Octokit) => Promise<void>;
  /** GitHub's caps on a compare, 300 files and 250 commits (the tests lower them with the fake's). */
  compareLimits?: { files: number; commits: number };
  /** Called as each pipeline step finishes (the crash tests' kill hook). */
  onStep?: (r: StepResult) => void;
  /**
   * Queues follow-up work of a job (a push's full scan, after its fast part): durable, deduplicated
   * by key. Absent: the follow-up runs in the same job.
   */
  defer?: (job: { kind: 'push_scan' | 'drift'; payload: Record<string, unknown>; dedupeKey: string; priority: number; runAt?: Date }) => Promise<void>;
  /** Policy cache time (ms); default 60 s. A push to the default branch that touches `.github/` drops it at once. */
  policyTtlMs?: number;
}

/** Per App (services object): repository id → its policy, read at `at`. */
const policyCaches = new WeakMap<AppServices, Map<number, { at: number; policy: Promise<RepoPolicy> }>>();
const policyCacheOf = (s: AppServices): Map<number, { at: number; policy: Promise<RepoPolicy> }> => {
  let m = policyCaches.get(s);
  if (!m) policyCaches.set(s, (m = new Map()));
  return m;
};
/** Per App: `installation:owner` → the organisation's policy (its `.github` repository), read at `at`. */
const orgPolicyCaches = new WeakMap<AppServices, Map<string, { at: number; policy: Promise<RepoPolicy> }>>();
const orgPolicyCacheOf = (s: AppServices): Map<string, { at: number; policy: Promise<RepoPolicy> }> => {
  let m = orgPolicyCaches.get(s);
  if (!m) orgPolicyCaches.set(s, (m = new Map()));
  return m;
};
const rulesets = new WeakMap<object, Ruleset>();
const defaultRuleset = { key: 'default' };
const repoLocks = new KeyedMutex();

export class RepoWork {
  readonly gh: GitHubRepo;
  constructor(
    readonly s: AppServices,
    readonly job: RepoJob,
    readonly octokit: Octokit,
    /** Which attempt of the job this is (1-based): a retry finds what an earlier attempt wrote. */
    readonly attempt = 1,
  ) {
    this.gh = new GitHubRepo(octokit, { owner: job.owner, repo: job.repo }, s.compareLimits);
  }

  static async open(s: AppServices, job: RepoJob, attempt = 1): Promise<RepoWork> {
    return new RepoWork(s, job, await s.auth(job.installationId), attempt);
  }

  /**
   * Writes the `keywarden` check run this job owns (`key` names it, as its external id). On a
   * retry the run an earlier attempt made is updated, so a job that failed after writing its check
   * (a backend down, a crash) does not leave two.
   */
  async writeCheck(key: string, input: Omit<Parameters<GitHubRepo['writeCheckRun']>[0], 'externalId'>): Promise<number> {
    const externalId = `keywarden:${key}`;
    const id = input.id ?? (this.attempt > 1 ? await this.gh.findCheckRun(input.headSha, externalId, input.name) : undefined);
    return this.gh.writeCheckRun({ ...input, ...(id !== undefined ? { id } : {}), externalId });
  }

  get fullName(): string {
    return `${this.job.owner}/${this.job.repo}`;
  }

  /** The policy from the default branch, cached per repository. */
  async policy(options: { fresh?: boolean } = {}): Promise<RepoPolicy> {
    const ttl = this.s.policyTtlMs ?? 60_000;
    const now = this.s.clock().getTime();
    const policyCache = policyCacheOf(this.s);
    const hit = policyCache.get(this.job.repoId);
    if (hit && !options.fresh && now - hit.at < ttl) return hit.policy;
    const orgCache = orgPolicyCacheOf(this.s);
    const org = (owner: string, read: () => Promise<RepoPolicy>): Promise<RepoPolicy> => {
      const key = `${this.job.installationId}:${owner.toLowerCase()}`;
      const got = orgCache.get(key);
      if (got && !options.fresh && now - got.at < ttl) return got.policy;
      const q = read();
      orgCache.set(key, { at: now, policy: q });
      q.catch(() => orgCache.delete(key));
      return q;
    };
    const p = readRepoPolicy(this.octokit, { owner: this.job.owner, repo: this.job.repo, defaultBranch: this.job.defaultBranch }, { org });
    policyCache.set(this.job.repoId, { at: now, policy: p });
    p.catch(() => policyCache.delete(this.job.repoId));
    return p;
  }

  /**
   * The compare pre-check: the added lines GitHub shows, scanned with the policy's detectors.
   * `compared`: the compare already asked for (a push asks for it while the policy is read).
   */
  async preCheck(policy: RepoPolicy, base: string, head: string, compared?: ReturnType<GitHubRepo['compare']>): Promise<ComparePreCheck & { patches: readonly ComparePatchFile[] }> {
    const cmp = await (compared ?? this.gh.compare(base, head));
    const secrets = policy.ast ? getSecretsConfig(policy.ast) : undefined;
    const { selection, ignorePaths } = detectionSettings(secrets);
    const key = policy.ast ?? defaultRuleset;
    let ruleset = rulesets.get(key);
    if (!ruleset) rulesets.set(key, (ruleset = createRuleset(selectDetectors(selection))));
    const ig = ignorePaths.length ? ignore().add(ignorePaths) : undefined;
    return { ...preCheckCompare(cmp.files, { ruleset, truncated: cmp.truncated, ...(ig ? { ignore: (f: string) => ig.ignores(f) } : {}) }), patches: cmp.files };
  }

  /**
   * The fast path of a leaking push: the pipeline on the pre-check's findings, revoke steps only,
   * before the git copy is fetched — the secret is in GitHub's compare answer (cut again from the
   * patch and checked against the finding's fingerprint at act time). The full run that follows
   * has the same step ids, so it replays these revocations and does the rest (rotate, patch).
   *
   * Only credentials whose target the finding itself names (a GitHub token, an AWS access key):
   * a deploy key or a backend key is found by looking it up, and once deleted the full run could
   * not find it again to put its replacement in place.
   */
  async revokeFirst(pre: { findings: readonly Finding[]; patches: readonly ComparePatchFile[] }, input: { policy: RepoPolicy; trigger: { kind: 'push' | 'pull_request'; branch?: string; sha: string } }): Promise<PipelineReport | undefined> {
    const findings = pre.findings.filter((f) => f.identity?.kind === 'github-token' || f.identity?.kind === 'aws-access-key');
    if (!findings.length) return undefined;
    return this.pipeline({ kind: 'findings', label: `compare ${input.trigger.sha.slice(0, 12)}`, findings, secretOf: (f) => secretInPatch(pre.patches, f) }, this.s.stateDir, { policy: input.policy, dryRun: false, trigger: input.trigger, steps: ['revoke'] });
  }

  async remote(): Promise<GitRemote> {
    const auth = (await this.octokit.auth({ type: 'installation' })) as { token?: string };
    if (!auth.token) throw new KeywardenError(ErrorCode.GITHUB_DENIED, 'No installation token for git.', { fault: 'config' });
    return { url: cloneUrl(this.s.gitBase, this.job.owner, this.job.repo), token: auth.token };
  }

  /** Runs `fn` holding this repository's git copy (one job at a time per repository in this process). */
  withMirror<T>(fn: (dir: string, remote: GitRemote) => Promise<T>): Promise<T> {
    return repoLocks.run(String(this.job.repoId), async () => {
      const dir = await ensureMirror(this.s.stateDir, this.job.repoId);
      return fn(dir, await this.remote());
    });
  }

  /**
   * The range to scan in the git copy for `after` on `branch`, fetched: `before..after` (for a
   * force-push too: what `after` has that `before` had not), else — a new branch, or a `before`
   * that cannot be fetched — what `after` has that the default branch has not; for the default
   * branch's first push, every commit it brought.
   */
  async fetchRange(dir: string, remote: GitRemote, input: { branch?: string; before?: string; after: string }): Promise<string> {
    const branches = [this.job.defaultBranch, ...(input.branch ? [input.branch] : [])];
    const before = input.before && !/^0+$/.test(input.before) ? input.before : undefined;
    const { missing } = await fetchInto(dir, remote, { branches, commits: [input.after, ...(before ? [before] : [])] });
    if (missing.includes(input.after) || !(await hasCommit(dir, input.after))) {
      throw new KeywardenError(ErrorCode.GITHUB_FAILED, `The pushed commit ${input.after.slice(0, 12)} could not be fetched; retrying later.`, { fault: 'backend', retryable: true });
    }
    if (before && (await hasCommit(dir, before))) return `${before}..${input.after}`;
    const def = await fetchedBranch(dir, this.job.defaultBranch);
    if (def && def !== input.after && !(before === undefined && input.branch === this.job.defaultBranch)) return `${def}..${input.after}`;
    // The default branch's first push (or nothing to compare with): every commit it brought.
    return historyAsRange(dir, input.after);
  }

  /**
   * The pipeline over a range of the git copy: decide by the policy, and (unless `dryRun`) revoke
   * and rotate through the configured backend and GitHub, and make the patch commit.
   */
  async respond(dir: string, input: { range: string; policy: RepoPolicy; dryRun: boolean; patchBase?: string; trigger: { kind: 'push' | 'pull_request'; branch?: string; sha: string; pullRequest?: number } }): Promise<PipelineReport> {
    // What earlier remediation commits fixed (their generated files aside) is looked at again.
    const patchAlso = (await dropScratchBranches(dir)).filter((f) => !['.env.example', '.gitignore', 'REMEDIATION.md'].includes(f));
    return this.pipeline({ kind: 'range', range: input.range }, dir, { ...input, ...(patchAlso.length ? { patchAlso } : {}) });
  }

  private async pipeline(
    source: PipelineSource,
    dir: string,
    input: { policy: RepoPolicy; dryRun: boolean; patchBase?: string; patchAlso?: string[]; steps?: PipelineEvent['steps']; trigger: { kind: 'push' | 'pull_request'; branch?: string; sha: string; pullRequest?: number } },
  ): Promise<PipelineReport> {
    const c = compose({
      cwd: dir,
      env: this.s.env,
      actor: `app:${this.fullName}`,
      policyFile: false,
      backend: this.s.backend,
      stateDir: this.s.stateDir,
      clock: this.s.clock,
      ...(this.s.idempotency ? { idempotency: this.s.idempotency } : {}),
      ...(this.s.audit ? { audit: this.s.audit } : {}),
    });
    try {
      const octokit = this.octokit;
      let audit: AuditWriter | undefined;
      const audited = async <T extends { provider: string; revoke: AuditedRevoker['revoke'] }>(r: T): Promise<AuditedRevoker> => {
        // On PostgreSQL GitHub-side revocations go to the one shared chain, whatever the key backend.
        if (!audit && this.s.audit) audit = this.s.audit;
        if (!audit) {
          try {
            audit = (await c.backend()).audit;
          } catch {
            // The key backend (and the audit log in it) cannot be opened — a locked keystore, an
            // HSM down. A leaked GitHub token is still revoked at once, and recorded: in the
            // App's fallback audit log, a hash chain of its own in the state folder.
            audit = fallbackAudit(this.s);
            this.s.logger.warn({ repo: this.fullName, auditLog: FALLBACK_AUDIT_FILE }, 'the key backend could not be opened: GitHub-side revocations are recorded in the fallback audit log');
          }
        }
        return new AuditedRevoker(r, audit, { actor: c.actor });
      };
      const deployKeys = new GitHubDeployKeys({ api: deployKeyApi(octokit), sink: new FileSecretSink(path.join(this.s.stateDir, 'issued')), clock: this.s.clock });
      const tokenRevoker = new GitHubTokenRevoker({
        revoke: async (credentials) => {
          try {
            if (this.s.revokeTokens) await this.s.revokeTokens(credentials, octokit);
            else await octokit.request('POST /credentials/revoke', { credentials });
          } catch (e) {
            throw githubError(e, 'revoke the token');
          }
        },
      });
      const revokers = input.dryRun ? [tokenRevoker, deployKeys] : [await audited(tokenRevoker), await audited(deployKeys)];
      return await runPipeline(
        {
          path: dir,
          source,
          ...(input.steps ? { steps: input.steps } : {}),
          dryRun: input.dryRun,
          // A push's range is small: scanned in this thread (a worker pool per job costs more than it saves, and jobs run side by side).
          scan: { workers: 0 },
          ...(input.policy.ast ? { policy: input.policy.ast } : {}),
          repo: { name: this.fullName, visibility: this.job.private ? 'private' : 'public' },
          trigger: input.trigger,
          ...(input.patchBase ? { patchBase: input.patchBase } : {}),
          ...(input.patchAlso?.length ? { patchAlso: input.patchAlso } : {}),
        },
        { composition: c, steps: this.s.steps, revokers, matchers: [deployKeys.match], ...(this.s.onStep ? { onStep: this.s.onStep } : {}) },
      );
    } finally {
      await c.close();
    }
  }
}

/** The App's own audit log for when the key backend's cannot be opened (in the state folder). */
export const FALLBACK_AUDIT_FILE = 'audit-fallback.db';
const fallbackAudits = new Map<string, AuditLog>();

function fallbackAudit(s: AppServices): AuditLog {
  const file = path.join(s.stateDir, FALLBACK_AUDIT_FILE);
  let log = fallbackAudits.get(file);
  if (!log) {
    // Checkpoints signed with KEYWARDEN_AUDIT_KEY when it is set, as a remote backend's log is.
    const signer = readAuditSignerFromEnv(s.env);
    log = AuditLog.open(file, signer ? { signer } : {});
    fallbackAudits.set(file, log);
  }
  return log;
}

/** Closes the fallback audit log of this state folder, if it was opened (at shutdown). */
export function closeFallbackAudit(stateDir: string): void {
  const file = path.join(stateDir, FALLBACK_AUDIT_FILE);
  fallbackAudits.get(file)?.close();
  fallbackAudits.delete(file);
}

function deployKeyApi(octokit: Octokit): DeployKeyApi {
  return {
    repositories: async () => {
      try {
        const repos = await octokit.paginate('GET /installation/repositories', { per_page: 100 });
        return repos.map((r) => ({ owner: r.owner.login, repo: r.name }));
      } catch (e) {
        throw githubError(e, 'list the installation\'s repositories');
      }
    },
    list: async (owner, repo) => {
      try {
        const keys = await octokit.paginate('GET /repos/{owner}/{repo}/keys', { owner, repo, per_page: 100 });
        return keys.map((k) => ({ id: k.id, key: k.key, title: k.title, readOnly: k.read_only }));
      } catch (e) {
        if ((e as { status?: number }).status === 404 || (e as { status?: number }).status === 403) return [];
        throw githubError(e, 'list deploy keys');
      }
    },
    remove: async (owner, repo, id) => {
      try {
        await octokit.request('DELETE /repos/{owner}/{repo}/keys/{key_id}', { owner, repo, key_id: id });
      } catch (e) {
        if ((e as { status?: number }).status === 404) return;
        throw githubError(e, 'delete the deploy key');
      }
    },
    add: async (owner, repo, key) => {
      try {
        const r = await octokit.request('POST /repos/{owner}/{repo}/keys', { owner, repo, title: key.title, key: key.key, read_only: key.readOnly });
        return { id: r.data.id };
      } catch (e) {
        throw githubError(e, 'add the new deploy key');
      }
    },
  };
}

/** Drops the cached policy of a repository (a push changed `.github/` on its default branch); of its organisation too when it is the organisation's `.github` repository. */
export function forgetPolicy(s: AppServices, repoId: number, org?: { installationId: number; owner: string }): void {
  policyCacheOf(s).delete(repoId);
  if (org) orgPolicyCacheOf(s).delete(`${org.installationId}:${org.owner.toLowerCase()}`);
}
