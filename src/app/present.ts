/**
 * The App's words on GitHub: the remediation PR's title and body, the tracking issue, and the
 * `keywarden` check run's output with its annotations — all from a `PipelineReport`. Pure.
 *
 * Security property: built from redacted previews, fingerprints, public ids and the pipeline's
 * own words only; never a secret. What comes from the repository (paths, rule ids, messages from
 * the policy) is hostile text: it is flattened to one line, cut, and put in code spans that it
 * cannot close, so it cannot inject Markdown, mentions or links. `GitHubRepo` masks once more.
 */
import type { Problem } from '../inspect/index.js';
import type { DecisionAction, Violation } from '../model/decision.js';
import type { PipelineReport, StepResult } from '../pipeline/types.js';
import type { Annotation, CheckRunOutput } from '../scm/github.js';

/** Per request and per check run, GitHub takes 50 annotations; we send at most this many in all and summarise the rest. */
export const MAX_ANNOTATIONS = 500;

export interface PresentContext {
  /** Where the policy came from: a link to its lines when it is a file on the default branch. */
  policy: { file?: string; ref?: string; fullName?: string; webBase: string } | undefined;
  /** The pushed branch or the PR, for the words. */
  where: string;
}

/** One line, bounded, control characters out: for text from a repository. */
export function oneLine(s: string, max = 200): string {
   
  const flat = s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A code span that the text cannot close (its backticks become ´). */
export function code(s: string, max = 200): string {
  return `\`${oneLine(s, max).replace(/`/g, '´')}\``;
}

export function policyLink(ctx: PresentContext, loc: DecisionAction['policy'] | undefined): string {
  const p = ctx.policy;
  if (!loc?.file || !p?.file || !p.fullName) return 'the built-in default policy';
  const line = loc.line ? `#L${loc.line}` : '';
  return `[${oneLine(loc.file, 100)}${loc.line ? `:${loc.line}` : ''}](${p.webBase}/${p.fullName}/blob/${encodeURIComponent(p.ref ?? 'HEAD')}/${p.file.split('/').map(encodeURIComponent).join('/')}${line})`;
}

function stepLine(s: StepResult): string {
  const mark = s.status === 'done' ? '✅' : s.status === 'failed' ? '❌' : s.status === 'planned' ? '🕓' : '⏭️';
  return `- ${mark} ${oneLine(s.detail, 300)}${s.code ? ` (${s.code})` : ''}`;
}

function findingLines(report: PipelineReport): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of report.findings) {
    const key = `${f.finding.fingerprint}:${f.finding.file}:${f.finding.startLine}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(`- ${oneLine(f.finding.title ?? f.finding.type, 100)} ${code(f.finding.redacted, 40)} in ${code(f.finding.file)} line ${f.finding.startLine} (${f.finding.fingerprint.slice(0, 19)}…)`);
    if (out.length >= 50) {
      out.push(`- … and ${report.findings.length - 50} more`);
      break;
    }
  }
  return out;
}

function ruleLines(report: PipelineReport, ctx: PresentContext): string[] {
  const rules = new Map<string, { a: DecisionAction; types: Set<string> }>();
  for (const a of report.decision.actions) {
    const r = rules.get(a.rule) ?? { a, types: new Set<string>() };
    r.types.add(a.type);
    rules.set(a.rule, r);
  }
  const message = (rule: string): string | undefined => report.decision.violations.find((v) => v.rule === rule)?.message;
  return [...rules.values()].slice(0, 20).map(({ a, types }) => `- ${code(a.rule, 80)} (${a.severity}, demands ${[...types].join(', ')})${message(a.rule) ? `: ${oneLine(message(a.rule)!, 200)}` : ''} — ${policyLink(ctx, a.policy)}`);
}

const HUMAN_TODO = [
  '- The secret is still in git history. The credential is revoked, so a copy there is useless; rewrite history (`git filter-repo`) only if your policy or an auditor demands it.',
  '- Deploy the new credential where the old one was used (CI secrets, servers, other repositories) — the replacement is in the configured secret store.',
  '- Check the provider\'s logs for use of the leaked credential between the push and its revocation.',
];

export const PR_MARKER = '<!-- keywarden:remediation -->';

export function remediationTitle(report: PipelineReport): string {
  const types = [...new Set(report.findings.map((f) => f.finding.type))];
  const files = [...new Set(report.findings.map((f) => f.finding.file))];
  return oneLine(`Keywarden: remove leaked ${types.slice(0, 2).join(', ')}${types.length > 2 ? ', …' : ''} from ${files[0] ?? 'the code'}${files.length > 1 ? ` and ${files.length - 1} more` : ''}`, 200);
}

export function remediationBody(report: PipelineReport, ctx: PresentContext): string {
  const acted = report.steps.filter((s) => s.step.kind !== 'patch');
  const lines = [
    PR_MARKER,
    `Keywarden found ${report.findings.length === 1 ? 'a leaked secret' : `${report.findings.length} leaked secrets`} pushed to ${code(ctx.where, 100)} and acted on the key policy.`,
    '',
    '### What was found',
    ...findingLines(report),
    '',
    '### What was done',
    ...(acted.length ? acted.map(stepLine) : ['- No credential could be revoked automatically (see below).']),
    ...report.notDone.filter((n) => n.action !== 'open-pr' && n.action !== 'fail-check').slice(0, 20).map((n) => `- ⚠️ ${n.action} not done: ${oneLine(n.reason, 300)}`),
    '- ✅ This pull request removes the secrets from the code: they are read from the environment now (see `.env.example` and `REMEDIATION.md`).',
    '',
    '### Why',
    ...ruleLines(report, ctx),
    '',
    '### What remains for a human',
    ...HUMAN_TODO,
    '',
    'Closing this pull request without merging tells Keywarden the team chose to handle it another way; it will not be reopened.',
  ];
  return lines.join('\n');
}

export function issueMarker(branch: string): string {
  return `<!-- keywarden:issue:${branch.replace(/[^A-Za-z0-9/_.-]/g, '_')} -->`;
}

export function trackingIssue(report: PipelineReport, ctx: PresentContext, pr: { number: number; url: string } | undefined, branch: string): { title: string; body: string } {
  return {
    title: oneLine(`Leaked credential in ${ctx.where}: ${[...new Set(report.findings.map((f) => f.finding.type))].join(', ')}`, 200),
    body: [
      issueMarker(branch),
      `Keywarden found ${report.findings.length === 1 ? 'a leaked secret' : `${report.findings.length} leaked secrets`} in ${code(ctx.where, 100)}.`,
      '',
      '### Found',
      ...findingLines(report),
      '',
      '### Done',
      ...report.steps.map(stepLine),
      '',
      '### Why',
      ...ruleLines(report, ctx),
      '',
      pr ? `The fix is in #${pr.number}; this issue closes when it is merged.` : 'No fix could be prepared automatically: remove the secret from the code by hand.',
      '',
      '### What remains for a human',
      ...HUMAN_TODO,
    ].join('\n'),
  };
}

/** The check run's conclusion and output for a report: failure when the policy says `fail-check`. */
export function checkOutput(report: PipelineReport, ctx: PresentContext, extra: string[] = []): { conclusion: 'success' | 'failure' | 'neutral'; output: CheckRunOutput } {
  const fails = report.decision.actions.some((a) => a.type === 'fail-check');
  const violations = report.decision.violations.length;
  const annotations: Annotation[] = [];
  for (const f of report.findings) {
    if (annotations.length >= MAX_ANNOTATIONS) break;
    const actions = f.actions.length ? ` The policy demands: ${f.actions.join(', ')}.` : '';
    annotations.push({
      path: f.finding.file,
      start_line: f.finding.startLine,
      end_line: f.finding.endLine,
      ...(f.finding.startLine === f.finding.endLine ? { start_column: f.finding.startColumn, end_column: Math.max(f.finding.startColumn, f.finding.endColumn) } : {}),
      annotation_level: f.actions.includes('fail-check') ? 'failure' : 'warning',
      title: oneLine(`${f.finding.title ?? f.finding.type} (${f.finding.ruleId})`, 200),
      message: oneLine(`${f.finding.redacted} — ${f.target.kind === 'none' ? f.target.why : `revocable: ${f.target.kind === 'credential' ? f.target.provider : `${f.target.backend} key ${f.target.keyId}`}`}.${actions}`, 1000),
    });
  }
  const rest = report.findings.length - annotations.length;
  const summary = [
    report.findings.length ? `**${report.findings.length} secret${report.findings.length === 1 ? '' : 's'}** in the added lines of ${code(ctx.where, 100)}.` : `No secrets in the added lines of ${code(ctx.where, 100)}.`,
    ...(rest > 0 ? ['', `${rest} more finding${rest === 1 ? ' is' : 's are'} not annotated (GitHub's limit).`] : []),
    ...(report.steps.length ? ['', '### Response', ...report.steps.map(stepLine)] : []),
    ...(report.decision.actions.length ? ['', '### Policy', ...ruleLines(report, ctx)] : []),
    ...(extra.length ? ['', ...extra] : []),
  ].join('\n');
  return {
    conclusion: fails ? 'failure' : violations || report.findings.length ? 'neutral' : 'success',
    output: {
      title: report.findings.length ? `${report.findings.length} secret${report.findings.length === 1 ? '' : 's'} found` : 'No secrets found',
      summary,
      annotations,
    },
  };
}

/** The check for a policy that does not parse: failure, each problem at its line. */
export function brokenPolicyCheck(error: { message: string; code: string; location?: { file?: string; line?: number; column?: number } | undefined; details?: Record<string, unknown> | undefined }, file: string): CheckRunOutput {
  const problems = Array.isArray(error.details?.problems) ? (error.details!.problems as Array<{ code?: string; message?: string; location?: { file?: string; line?: number; column?: number } }>) : [{ code: error.code, message: error.message, location: error.location }];
  const annotations: Annotation[] = problems.slice(0, MAX_ANNOTATIONS).map((p) => ({
    path: p.location?.file && !p.location.file.includes('github:') ? p.location.file : file,
    start_line: p.location?.line ?? 1,
    end_line: p.location?.line ?? 1,
    annotation_level: 'failure',
    title: oneLine(p.code ?? error.code, 100),
    message: oneLine(p.message ?? error.message, 1000),
  }));
  return {
    title: 'The key policy is broken',
    summary: [`${code(file)} on the default branch does not parse (${problems.length} problem${problems.length === 1 ? '' : 's'}), so nothing could be judged. Fix the file on the default branch.`, '', ...problems.slice(0, 20).map((p) => `- ${p.location?.line ? `line ${p.location.line}: ` : ''}${oneLine(p.message ?? '', 300)} (${p.code ?? ''})`)].join('\n'),
    annotations,
  };
}

const CONFIG_LEVEL: Record<string, Annotation['annotation_level']> = { critical: 'failure', high: 'failure', medium: 'failure', low: 'warning', info: 'notice' };

/**
 * Adds the key-configuration check to a check run's output: each violation the PR brings at
 * its line (any of them fails the check, as any makes `keywarden check` exit 1; the annotation's
 * level follows the rule's severity), each problem
 * (a file that does not parse) as a warning, and a section of the summary. Annotations stay
 * within `MAX_ANNOTATIONS` in all.
 */
export function withConfigCheck(
  out: { conclusion: 'success' | 'failure' | 'neutral'; output: CheckRunOutput },
  cfg: { inScope: readonly Violation[]; problemsInScope: readonly Problem[]; elsewhere: number; counts: { configFiles: number; keys: number; unknown: Record<string, number> }; unreadInScope?: readonly string[]; unreadElsewhere?: number },
  ctx: PresentContext,
): { conclusion: 'success' | 'failure' | 'neutral'; output: CheckRunOutput } {
  const annotations = [...(out.output.annotations ?? [])];
  let cut = 0;
  const add = (a: Annotation): void => {
    if (annotations.length < MAX_ANNOTATIONS) annotations.push(a);
    else cut++;
  };
  for (const v of cfg.inScope) {
    const s = v.subject as { file?: string; line?: number };
    add({
      path: s.file!,
      start_line: s.line ?? 1,
      end_line: s.line ?? 1,
      annotation_level: CONFIG_LEVEL[v.severity] ?? 'failure',
      title: oneLine(`Key policy: ${v.rule}`, 200),
      message: oneLine(`${v.message}${v.policy.file ? ` (policy ${v.policy.file}:${v.policy.line ?? 1})` : ''}`, 1000),
    });
  }
  const unread = cfg.unreadInScope ?? [];
  for (const f of unread.slice(0, 50)) add({ path: f, start_line: 1, end_line: 1, annotation_level: 'failure', title: 'Not checked: not read', message: 'Keywarden did not read this configuration file (a symbolic link, over the size or file cap, or a name that is not UTF-8), but Terraform or CloudFormation would: the check cannot vouch for it.' });
  for (const p of cfg.problemsInScope) add({ path: p.file, start_line: p.line, end_line: p.line, annotation_level: 'warning', title: oneLine(`Not checked: ${p.code}`, 200), message: oneLine(p.message, 1000) });
  const unknown = Object.values(cfg.counts.unknown).reduce((a, b) => a + b, 0);
  const rules = [...new Map(cfg.inScope.map((v) => [v.rule, v])).values()];
  const section = [
    '',
    '### Key configuration',
    cfg.inScope.length
      ? `**${cfg.inScope.length} violation${cfg.inScope.length === 1 ? '' : 's'}** of the key policy brought by ${code(ctx.where, 100)} (${cfg.counts.keys} key${cfg.counts.keys === 1 ? '' : 's'} declared in ${cfg.counts.configFiles} configuration file${cfg.counts.configFiles === 1 ? '' : 's'}).`
      : `${code(ctx.where, 100)} brings no violation of the key policy (${cfg.counts.keys} key${cfg.counts.keys === 1 ? '' : 's'} in ${cfg.counts.configFiles} configuration file${cfg.counts.configFiles === 1 ? '' : 's'}).`,
    ...rules.slice(0, 20).map((v) => `- ${code(v.rule, 80)} (${v.severity}): ${code(v.message, 200)} — ${policyLink(ctx, v.policy)}`),
    ...(unread.length ? [`- **${unread.length} configuration file${unread.length === 1 ? '' : 's'} of this change could not be read** (a symbolic link, over the size or file cap, a name that is not UTF-8), so the check fails: make ${unread.length === 1 ? 'it a regular file' : 'them regular files'} under 2 MiB.`] : []),
    ...(cfg.unreadElsewhere ? [`- ${cfg.unreadElsewhere} other configuration file${cfg.unreadElsewhere === 1 ? ' was' : 's were'} not read.`] : []),
    ...(cfg.problemsInScope.length ? [`- ${cfg.problemsInScope.length} changed file${cfg.problemsInScope.length === 1 ? '' : 's'} could not be read fully (see the annotations).`] : []),
    ...(unknown ? [`- ${unknown} value${unknown === 1 ? ' is' : 's are'} not known without running Terraform (a resource attribute, a data source): not judged.`] : []),
    ...(cfg.elsewhere ? [`- ${cfg.elsewhere} violation${cfg.elsewhere === 1 ? '' : 's'} that were there before this change (not counted against it; \`keywarden check\` lists them).`] : []),
    ...(cut ? [`- ${cut} more annotation${cut === 1 ? ' is' : 's are'} not shown (GitHub's limit).`] : []),
  ];
  const conclusion = cfg.inScope.length || unread.length ? 'failure' : out.conclusion;
  const secretsTitle = out.output.title;
  const parts = [
    ...(secretsTitle === 'No secrets found' && (cfg.inScope.length || unread.length) ? [] : [secretsTitle]),
    ...(cfg.inScope.length ? [`${cfg.inScope.length} key policy violation${cfg.inScope.length === 1 ? '' : 's'}`] : []),
    ...(unread.length ? [`${unread.length} configuration file${unread.length === 1 ? '' : 's'} not read`] : []),
  ];
  const title = parts.join('; ');
  return { conclusion, output: { ...out.output, title, summary: `${out.output.summary}\n${section.join('\n')}`, annotations } };
}
