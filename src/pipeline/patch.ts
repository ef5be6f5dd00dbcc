/**
 * The patch step: the remediation commit on a new branch. Every file is read at the commit the
 * patch is made on (never the work tree), the secret's sites are found again in that text by
 * scanning it (a line may have moved since the commit that added it; a secret already removed is
 * simply not there), and `patchFile` edits only a site whose text hashes to its fingerprint. So
 * the raw secret is read from the source at act time, in this process, and goes nowhere else.
 *
 * The commit also adds the new variables to `.env.example`, ignores removed files, points
 * references to a replaced key at its replacement, and appends a REMEDIATION.md section.
 */
import { scanText } from '../scan/scan-text.js';
import type { Ruleset } from '../scan/engine.js';
import type { Finding } from '../model/finding.js';
import { mergeEnvExample, mergeGitignore, patchFile, renderRemediation, updateReferences } from '../remediate/index.js';
import { fileKindOf } from '../remediate/file-kind.js';
import type { RemediationFinding, SiteOutcomeKind } from '../remediate/types.js';
import { commitOnNewBranch, filesContaining, readFileAt, type FileChange } from '../scm/local-git.js';
import type { DecisionLocation } from '../model/decision.js';
import type { NotDone, PatchReport, Step, StepResult } from './types.js';

export interface PatchInput {
  repo: string;
  /** The commit the branch starts from. */
  base: string;
  step: Step;
  findings: readonly Finding[];
  ruleset: Ruleset;
  done: readonly StepResult[];
  notDone: readonly NotDone[];
  /**
   * Files to look in as well for the step's secrets (found again by scanning each at `base`): the
   * App passes the files an open remediation PR already fixes, so the PR, rebuilt on a new push,
   * keeps fixing them.
   */
  alsoFiles?: readonly string[];
  /** Per finding: the rule that demanded its response (revoke before rotate before open-pr) and where it is written. */
  rules: ReadonlyMap<string, { rule: string; policy: DecisionLocation }>;
}

const MAX_PATCH_FILE = 8 * 1024 * 1024;
const OUTCOME_RANK: Record<SiteOutcomeKind, number> = { replaced: 0, removed: 0, stale: 1, unsupported: 2 };

function remediationBranch(fingerprints: readonly string[]): string {
  const first = [...fingerprints].sort()[0] ?? 'sha256:0';
  return `keywarden/remediate-${first.replace(/^sha256:/, '').slice(0, 12)}`;
}

export async function makePatch(input: PatchInput): Promise<{ result: Omit<StepResult, 'step'>; report?: PatchReport }> {
  const fps = new Set(input.step.fingerprints);
  const byFile = new Map<string, Finding[]>();
  for (const f of input.findings) {
    if (!fps.has(f.fingerprint) || f.member !== undefined || f.file === '-') continue;
    const list = byFile.get(f.file) ?? [];
    list.push(f);
    byFile.set(f.file, list);
  }
  for (const file of input.alsoFiles ?? []) if (!byFile.has(file)) byFile.set(file, []);
  const changes: FileChange[] = [];
  const files: PatchReport['files'] = [];
  const notes: string[] = [];
  const outcome = new Map<string, SiteOutcomeKind>();
  // One secret, many sites: the worst outcome is the one said, so a copy left in a file (or in
  // another file) is never reported as "replaced".
  const setOutcome = (fp: string, o: SiteOutcomeKind): void => {
    const prev = outcome.get(fp);
    if (prev === undefined || OUTCOME_RANK[o] > OUTCOME_RANK[prev]) outcome.set(fp, o);
  };
  const known = new Map<string, string>();
  const taken = new Set<string>();
  const envAdded: Array<{ name: string; comment?: string }> = [];
  const removed: string[] = [];
  const ignoreLines: string[] = [];

  const envExample = await readText(input.repo, input.base, '.env.example');
  for (const m of (envExample ?? '').matchAll(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)) taken.add(m[1]!);

  for (const [file, findings] of [...byFile].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const at = await readFileAt(input.repo, input.base, file, MAX_PATCH_FILE).catch(() => undefined);
    if (!at) {
      // An also-file that is gone is simply not there to fix.
      if (findings.length) notes.push(`${file}: not in the commit ${input.base.slice(0, 12)} (an uncommitted change?); remove the secret from your working copy yourself.`);
      continue;
    }
    if (at.mode === '120000' || at.mode === '160000') {
      notes.push(`${file}: a symlink or submodule; not patched.`);
      continue;
    }
    const text = at.data.toString('utf8');
    // A key store (.p12, .jks) is binary and is removed all the same (patchFile does it); other non-UTF-8 files are not patched.
    if (!Buffer.from(text, 'utf8').equals(at.data) && fileKindOf(file, text).kind !== 'remove') {
      notes.push(`${file}: not UTF-8 text; not patched (remove the secret by hand) [KW_PATCH_UNSUPPORTED].`);
      for (const f of findings) setOutcome(f.fingerprint, 'unsupported');
      continue;
    }
    // The sites as they are in this commit's text, not where the finding's commit had them.
    const sites = scanText(text, { ruleset: input.ruleset, file, inlineAllow: false })
      .filter((s) => fps.has(s.fingerprint))
      .map((s) => ({ startLine: s.startLine, startColumn: s.startColumn, endLine: s.endLine, endColumn: s.endColumn, fingerprint: s.fingerprint, type: s.type, ruleId: s.ruleId, redacted: s.redacted }));
    if (!sites.length) {
      if (findings.length) notes.push(`${file}: the secret is no longer in ${input.base.slice(0, 12)}; nothing to patch there (it remains in history).`);
      continue;
    }
    const r = patchFile({ path: file, text, sites, takenEnvNames: taken, knownEnvNames: known });
    for (const s of r.sites) setOutcome(s.fingerprint, s.outcome);
    if (r.action === 'edit') {
      changes.push({ path: file, content: r.text, mode: at.mode });
      files.push({ path: file, action: 'edit', method: r.method });
      for (const v of r.envVars) {
        if (!known.has(v.fingerprint)) {
          known.set(v.fingerprint, v.name);
          envAdded.push({ name: v.name, comment: `replaces a ${findings.find((f) => f.fingerprint === v.fingerprint)?.type ?? 'secret'} removed by Keywarden` });
        }
        taken.add(v.name);
      }
      notes.push(...r.notes.map((n) => `${file}: ${n}`));
    } else if (r.action === 'remove') {
      changes.push({ path: file, delete: true });
      files.push({ path: file, action: 'remove' });
      removed.push(file);
      ignoreLines.push(r.gitignore);
      notes.push(`${file}: ${r.reason}`);
    } else {
      notes.push(`${file}: ${r.reason} [${r.code}]`);
    }
  }

  // References to a key that was replaced (not rotated in place) now name its replacement.
  const replacements = input.done
    .filter((d) => d.status === 'done' && d.step.kind === 'rotate' && typeof d.facts?.newKeyId === 'string' && typeof d.facts?.keyId === 'string')
    .map((d) => ({ from: String(d.facts!.keyId), to: String(d.facts!.newKeyId) }));
  for (const rep of replacements) {
    for (const file of await filesContaining(input.repo, input.base, rep.from)) {
      const pending = changes.find((c) => c.path === file);
      if (pending && 'delete' in pending) continue;
      const text = pending && 'content' in pending ? pending.content : await readText(input.repo, input.base, file);
      if (text === undefined) continue;
      const u = updateReferences(text, [rep]);
      if (!u.count) continue;
      if (pending && 'content' in pending) pending.content = u.text;
      else {
        changes.push({ path: file, content: u.text });
        files.push({ path: file, action: 'edit', method: 'text' });
      }
      notes.push(`${file}: ${u.count} reference(s) to ${rep.from} now name ${rep.to}.`);
    }
  }

  if (!changes.length) {
    return { result: { status: 'skipped', detail: `nothing to change in ${input.base.slice(0, 12)}: ${notes[0] ?? 'no site found'}`, facts: {} } };
  }
  if (envAdded.length) {
    changes.push({ path: '.env.example', content: mergeEnvExample(envExample, envAdded) });
    files.push({ path: '.env.example', action: envExample === undefined ? 'add' : 'edit' });
  }
  if (ignoreLines.length) {
    const gi = await readText(input.repo, input.base, '.gitignore');
    changes.push({ path: '.gitignore', content: mergeGitignore(gi, ignoreLines) });
    files.push({ path: '.gitignore', action: gi === undefined ? 'add' : 'edit' });
  }

  const summary = {
    findings: summarise(input, outcome),
    filesChanged: files.filter((f) => f.action !== 'remove').map((f) => f.path),
    filesRemoved: removed,
    envAdded: envAdded.map((e) => e.name),
    notes,
  };
  const { commitMessage, markdown } = renderRemediation(summary);
  const existing = await readText(input.repo, input.base, 'REMEDIATION.md');
  changes.push({ path: 'REMEDIATION.md', content: existing ? `${existing.trimEnd()}\n\n${markdown}` : markdown });
  files.push({ path: 'REMEDIATION.md', action: existing === undefined ? 'add' : 'edit' });

  const c = await commitOnNewBranch(input.repo, { base: input.base, branch: remediationBranch(input.step.fingerprints), message: commitMessage, changes });
  const report: PatchReport = { branch: c.branch, commit: c.commit, base: input.base, files, envVars: envAdded.map((e) => e.name), notes };
  return {
    result: {
      status: 'done',
      replayed: c.replayed,
      detail: `branch ${c.branch} (${c.commit.slice(0, 12)}): ${files.length} file(s) changed`,
      facts: { branch: c.branch, commit: c.commit },
    },
    report,
  };
}

async function readText(repo: string, commit: string, file: string): Promise<string | undefined> {
  const at = await readFileAt(repo, commit, file, MAX_PATCH_FILE).catch(() => undefined);
  return at && at.mode !== '120000' ? at.data.toString('utf8') : undefined;
}

function summarise(input: PatchInput, outcome: ReadonlyMap<string, SiteOutcomeKind>): RemediationFinding[] {
  const seen = new Set<string>();
  const out: RemediationFinding[] = [];
  for (const f of input.findings) {
    if (!input.step.fingerprints.includes(f.fingerprint) || seen.has(f.fingerprint)) continue;
    seen.add(f.fingerprint);
    const actions = [
      ...input.done.filter((d) => d.step.kind !== 'patch' && d.step.fingerprints.includes(f.fingerprint)).map((d) => `${d.step.kind}: ${d.status === 'done' ? d.detail : `${d.status} (${d.code ?? ''}) ${d.detail}`}`),
      ...input.notDone.filter((n) => n.fingerprint === f.fingerprint && n.action !== 'open-pr').map((n) => `${n.action}: ${n.reason}`),
    ];
    const rule = input.rules.get(f.fingerprint) ?? input.step;
    out.push({
      redacted: f.redacted,
      type: f.type,
      file: f.file,
      line: f.startLine,
      fingerprint: f.fingerprint,
      actions,
      ...(rule.policy.file ? { rule: { id: rule.rule, file: rule.policy.file, line: rule.policy.line ?? 1 } } : {}),
      ...(outcome.has(f.fingerprint) ? { patch: outcome.get(f.fingerprint)! } : {}),
    });
  }
  return out;
}
