/**
 * `runPipeline`: the one pipeline every entry point runs —
 * source → detect → context → decide → plan → act → record.
 *
 * - source + detect: the scan of a tree, a git range or the index, with the detection settings
 *   of the revision that judges it (a range: its base; the index: HEAD);
 * - context: each finding matched to what can be revoked (`matchFindings`);
 * - decide: the policy (the same revision's) evaluated on the findings;
 * - plan: `planResponse`, pure;
 * - act: `actOnPlan` — revoke, rotate, patch, each recorded before and after in the step store;
 * - record: every key operation is in the backend's audit log (the audited backend writes it),
 *   and the run's decision is appended there too.
 *
 * A raw secret exists only inside the scan and inside the patch step, which re-reads it from the
 * repository at the commit it patches and checks its fingerprint.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { OpenedBackend } from '../backends/open-backend.js';
import type { CredentialRevoker } from '../backends/port.js';
import type { Composition } from '../compose.js';
import { isKeywardenError } from '../errors.js';
import type { Decision, DecisionAction } from '../model/decision.js';
import type { Finding } from '../model/finding.js';
import type { PolicyAst, Visibility } from '../policy/dsl/ast.js';
import { createRuleset } from '../scan/engine.js';
import { scan, type ScanOptions } from '../scan/scan.js';
import { DEFAULT_POLICY_FILE } from '../policy/default-file.js';
import { prepareScan } from './detect.js';
import { selectDetectors } from '../scan/select-detectors.js';
import type { ScanWarning } from '../scan/types.js';
import { currentBranch, headCommit } from '../scm/local-git.js';
import type { StepStore } from '../store/steps.js';
import { actOnPlan } from './act.js';
import { isIdOnly, matchFindings, type CredentialMatcher } from './context.js';
import { readSecretForAct } from './secret-at.js';
import { fingerprintSecret } from '../scan/redact.js';
import { actionsByFinding, planResponse } from './plan.js';
import type { PatchReport, PipelineReport, StepResult } from './types.js';

export type PipelineSource =
  | { kind: 'tree' }
  | { kind: 'range'; range: string }
  | { kind: 'staged' }
  /**
   * Findings the entry point's own scan made (the App's compare pre-check, to revoke before the
   * git copy is fetched), with the way back to each one's secret at act time (checked against its
   * fingerprint by the caller). Nothing is scanned; no patch is made.
   */
  | { kind: 'findings'; label: string; findings: readonly Finding[]; secretOf: (f: Finding) => string | undefined };

export interface PipelineEvent {
  /** The repository (or, for a tree, any folder). */
  path: string;
  source: PipelineSource;
  /** Print the plan and change nothing: no backend call, no commit. */
  dryRun?: boolean;
  repo?: { name?: string; visibility?: Visibility };
  /** A baseline file (relative to the composition's cwd): accepted secrets, read at the base revision when tracked. */
  baseline?: string;
  /** Extra scan settings from the entry point (flags). */
  scan?: Pick<ScanOptions, 'maxFileSize' | 'workers' | 'gitignore'> & { ignorePaths?: string[] };
  /**
   * The policy that judges the event, read by the entry point: the App reads it from the default
   * branch. Absent: the policy file at the range's base revision (or on disk), as `prepareScan` reads it.
   */
  policy?: PolicyAst;
  /** Files the patch also looks in for the leaked secrets (an open remediation PR's files, from the App). */
  patchAlso?: string[];
  /** The commit a patch is made on, when it is not the range's head (the App's first scan of a repository scans a tree as a range). */
  patchBase?: string;
  /** Only these kinds of step are carried out (the App's fast path: `['revoke']`); the rest are left to a later run. */
  steps?: ReadonlyArray<'revoke' | 'rotate' | 'patch'>;
  /** What the policy sees as `event`: the App's push or pull request, its branch and commit. Default: `push` for a range, else `local`, with the repository's current branch. */
  trigger?: { kind: 'push' | 'pull_request' | 'local' | 'schedule'; branch?: string; sha?: string; pullRequest?: number };
}

export interface PipelineDeps {
  composition: Composition;
  steps: StepStore;
  onStep?: (r: StepResult) => void;
  /** Revokers the entry point brings besides the composition's (the App's GitHub token and deploy-key revokers). */
  revokers?: readonly CredentialRevoker[];
  /** Matchers the entry point brings (the App's deploy keys), asked before the backend. */
  matchers?: readonly CredentialMatcher[];
}

export async function runPipeline(event: PipelineEvent, deps: PipelineDeps): Promise<PipelineReport> {
  const started = performance.now();
  const c = deps.composition;
  const root = path.resolve(c.cwd, event.path);
  const warnings: ScanWarning[] = [];

  // source + detect: what is scanned, and which revision's policy judges it — or the findings an
  // entry point's own scan already made (the App's compare pre-check), judged by its policy.
  const given = event.source.kind === 'findings' ? event.source : undefined;
  const head = given ? undefined : await headCommit(root).catch(() => undefined);
  let detected: { selection?: Awaited<ReturnType<typeof prepareScan>>['selection']; range?: Awaited<ReturnType<typeof prepareScan>>['range']; ast: PolicyAst | undefined; findings: Finding[]; files: number; skipped: number };
  if (given) {
    detected = { ast: event.policy, findings: [...given.findings], files: new Set(given.findings.map((f) => f.file)).size, skipped: 0 };
  } else {
    const prepared = await prepareScan({
      cwd: c.cwd,
      root,
      mode: event.source.kind === 'range' ? { kind: 'range', range: event.source.range } : event.source.kind === 'staged' ? { kind: 'staged' } : { kind: 'tree' },
      ...(c.policyRef === false ? { config: false as const } : c.policyRef !== DEFAULT_POLICY_FILE ? { config: c.policyRef } : {}),
      ...(event.baseline ? { baseline: event.baseline } : {}),
      ...(event.policy ? { policy: event.policy } : {}),
      ...(event.scan?.ignorePaths?.length ? { ignorePaths: event.scan.ignorePaths } : {}),
      scan: {
        ...(event.scan?.maxFileSize !== undefined ? { maxFileSize: event.scan.maxFileSize } : {}),
        ...(event.scan?.workers !== undefined ? { workers: event.scan.workers } : {}),
        ...(event.scan?.gitignore !== undefined ? { gitignore: event.scan.gitignore } : {}),
      },
    });
    warnings.push(...prepared.notes);
    const { options, selection, range } = prepared;
    const ast = prepared.policy;
    const scanned = await scan(options);
    warnings.push(...scanned.warnings);
    detected = { selection, ...(range ? { range } : {}), ast, findings: scanned.findings, files: scanned.summary.files, skipped: scanned.summary.skipped };
  }
  const { selection, range, ast, findings } = detected;

  // context
  const opened = findings.length ? await openBackendFor(c, findings) : {};
  const targets = await matchFindings(findings, {
    ...(deps.matchers?.length ? { matchers: deps.matchers } : {}),
    ...(opened.backend ? { backend: opened.backend.backend } : {}),
    ...(opened.unavailable ? { backendUnavailable: opened.unavailable } : {}),
  });
  if (opened.unavailable) warnings.push({ code: 'KW_BACKEND_UNAVAILABLE', message: `The key backend could not be opened, so no managed key was matched: ${opened.unavailable}.` });

  // decide
  const engine = await c.policyEngine(ast);
  const branch = event.trigger ? event.trigger.branch : ((await currentBranch(root).catch(() => undefined)) ?? undefined);
  const eventSha = event.trigger?.sha ?? range?.head ?? head;
  const decision: Decision = findings.length
    ? engine.evaluate({
        now: c.clock().toISOString(),
        repo: { name: event.repo?.name ?? path.basename(root), visibility: event.repo?.visibility ?? 'private', files: [...new Set(findings.map((f) => f.file))] },
        event: { kind: event.trigger?.kind ?? (event.source.kind === 'range' ? 'push' : 'local'), ...(branch ? { branch } : {}), ...(eventSha ? { sha: eventSha } : {}), ...(event.trigger?.pullRequest ? { pullRequest: event.trigger.pullRequest } : {}) },
        findings: findings.map(forPolicy),
        keys: [],
      })
    : { violations: [], actions: [] };

  // plan
  const revokers: CredentialRevoker[] = [...(deps.revokers ?? [])];
  if (findings.some((f) => f.identity?.kind === 'aws-access-key')) revokers.push(...(await c.revokers().catch(() => [])));
  const patchBase = event.patchBase ?? range?.head ?? head;
  const plan = planResponse(decision, findings, targets, {
    revokers: new Set(revokers.map((r) => r.provider)),
    cannotRotate: new Map(revokers.flatMap((r) => (r.cannotRotate ? [[r.provider, r.cannotRotate] as const] : []))),
    canPatch: given
      ? 'findings only, no source to patch'
      : event.source.kind === 'staged'
        ? 'staged changes are not committed yet: take the secret out of the index (git restore --staged FILE) and the file'
        : patchBase === undefined
          ? 'not a git repository with a commit'
          : true,
    ...(patchBase ? { patchBase } : {}),
  });

  if (event.steps) plan.steps = plan.steps.filter((st) => event.steps!.includes(st.kind));

  // act
  let patch: PatchReport | undefined;
  const steps = await actOnPlan(
    plan,
    {
      backend: async () => (await c.backend()).backend,
      revokers: new Map(revokers.map((r) => [r.provider, r])),
      steps: deps.steps,
      clock: c.clock,
      actor: c.actor,
      ...(deps.onStep ? { onStep: deps.onStep } : {}),
      secretOf: async (step) => {
        const f = findings.find((x) => step.fingerprints.includes(x.fingerprint) && x.member === undefined && x.file !== '-');
        if (!f) return undefined;
        if (given) {
          const secret = given.secretOf(f);
          return secret !== undefined && fingerprintSecret(secret) === f.fingerprint ? secret : undefined;
        }
        return readSecretForAct(root, f, head);
      },
      verifyCredential: async (step) => {
        const t = step.target;
        if (t?.kind !== 'credential' || t.provider !== 'aws-iam' || !t.credentialId) return { ok: true };
        const f = findings.find((x) => x.identity?.kind === 'aws-access-key' && x.identity.id === t.credentialId && !isIdOnly(x));
        if (!f) return { ok: false, why: 'its secret key was not found with it' };
        const secret = given ? given.secretOf(f) : await readSecretForAct(root, f, head);
        if (secret === undefined) return { ok: false, why: 'its secret key could not be read again from the source' };
        const cfg = await c.backendConfig();
        const { checkAwsKeyPair } = await import('../backends/aws-credential-check.js');
        const r = await checkAwsKeyPair({ accessKeyId: t.credentialId, secretAccessKey: secret }, { ...(cfg.region ? { region: cfg.region } : {}), ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}) });
        return r.live ? { ok: true } : { ok: false, why: r.why };
      },
      patch: async (step, done) => {
        // Loaded only when there is a patch to make: ts-morph brings a TypeScript compiler.
        const { makePatch } = await import('./patch.js');
        const ruleset = createRuleset(selectDetectors(selection));
        const r = await makePatch({ repo: root, base: patchBase!, step, findings, ruleset, done, notDone: plan.notDone, rules: leadingRules(decision), ...(event.patchAlso?.length ? { alsoFiles: event.patchAlso } : {}) });
        patch = r.report;
        return r.result;
      },
    },
    { dryRun: Boolean(event.dryRun) },
  );

  // record: the decision joins the audit log the key operations went to (the revokers log there too).
  const recordTo = event.dryRun || !findings.length ? undefined : (opened.backend ?? (revokers.length ? await c.backend().catch(() => undefined) : undefined));
  if (recordTo) {
    try {
      await recordTo.audit.append({
        actor: c.actor,
        backend: recordTo.backend.name,
        operation: 'respond',
        outcome: steps.some((s) => s.status === 'failed') ? 'failed' : 'succeeded',
        reason: `findings:${new Set(findings.map((f) => f.fingerprint)).size}`,
        details: {
          source: describeSource(event.source),
          fingerprints: [...new Set(findings.map((f) => f.fingerprint))].join(',').slice(0, 4000),
          steps: steps.map((s) => `${s.step.kind}:${s.status}`).join(','),
          ...(patch ? { branch: patch.branch, commit: patch.commit } : {}),
        },
      });
    } catch (e) {
      warnings.push({ code: isKeywardenError(e) ? e.code : 'KW_STORE_FAILED', message: 'The run could not be recorded in the audit log.' });
    }
  }

  return {
    source: describeSource(event.source),
    findings: findings.map((f) => ({ finding: f, target: targets.get(f.fingerprint)!, actions: actionTypes(decision, f.fingerprint) })),
    decision,
    steps,
    notDone: plan.notDone,
    ...(patch ? { patch } : {}),
    warnings,
    dryRun: Boolean(event.dryRun),
    summary: { findings: findings.length, files: detected.files, skipped: detected.skipped, durationMs: Math.round(performance.now() - started) },
  };
}

/** Per finding, the rule that leads its response: the revoke rule, else rotate, else open-pr. */
function leadingRules(decision: Decision): Map<string, { rule: string; policy: DecisionAction['policy'] }> {
  const out = new Map<string, { rule: string; policy: DecisionAction['policy'] }>();
  for (const [fp, actions] of actionsByFinding(decision)) {
    const a = actions.get('revoke') ?? actions.get('rotate') ?? actions.get('open-pr') ?? [...actions.values()][0];
    if (a) out.set(fp, { rule: a.rule, policy: a.policy });
  }
  return out;
}

function describeSource(s: PipelineSource): string {
  if (s.kind === 'findings') return s.label;
  return s.kind === 'range' ? `--git ${s.range}` : s.kind === 'staged' ? '--staged' : 'tree';
}

function actionTypes(decision: Decision, fingerprint: string): PipelineReport['findings'][number]['actions'] {
  return [...new Set(decision.actions.filter((a) => a.subject.kind === 'finding' && a.subject.fingerprint === fingerprint).map((a) => a.type))];
}

/**
 * The finding as the policy input takes it (the schema's fields only). The schema caps a preview
 * at 16 characters, and a key block's preview is its label (`OPENSSH PRIVATE KEY…`): cut, or one
 * such file in the repository would make the whole run fail at the policy.
 */
function forPolicy(f: Finding): Finding {
  const { member: _m, ...rest } = f;
  const chars = [...rest.redacted];
  return chars.length > MAX_POLICY_PREVIEW ? { ...rest, redacted: `${chars.slice(0, MAX_POLICY_PREVIEW - 1).join('')}…` } : rest;
}

const MAX_POLICY_PREVIEW = 16;

/**
 * Opens the backend when a finding could be one of its keys (anything that is not an AWS or a
 * GitHub credential). A local keystore that does not exist yet is not created for this; a backend
 * that cannot be opened (locked, unreachable) is reported, and the run goes on without it.
 */
async function openBackendFor(c: Composition, findings: readonly Finding[]): Promise<{ backend?: OpenedBackend; unavailable?: string }> {
  if (!findings.some((f) => f.identity?.kind !== 'aws-access-key' && f.identity?.kind !== 'github-token')) return {};
  try {
    const cfg = await c.backendConfig();
    if (cfg.kind === 'local' && !existsSync(cfg.keystore)) return {};
    return { backend: await c.backend() };
  } catch (e) {
    return { unavailable: isKeywardenError(e) ? `${e.message} [${e.code}]` : 'internal error' };
  }
}
