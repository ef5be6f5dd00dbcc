/**
 * The key-configuration part of the pull-request check: `keywarden check` on the PR's head, as
 * `keywarden check` runs it (src/pipeline/check-config.ts), with the policy from the default
 * branch. Every configuration file of the head is read, so what a changed file references (a
 * module, a variable, a policy document in another file) resolves as it would in the CLI; the
 * check **gates on the violations the PR brings** (at the head, not at the base) and counts the
 * ones that were there before as the repository's existing debt.
 *
 * One policy engine per policy text is kept for the process (a few at most), so the next check of
 * the same repository re-judges only the facts that changed (the engine is incremental).
 */
import { createHash } from 'node:crypto';
import { defaultCacheDir } from '../policy/engine/cache-dir.js';
import { ProblemCode, type Problem } from '../inspect/index.js';
import { CODE_FILE, CONFIG_FILE, judgeConfig, MAX_CONFIG_BYTES, MAX_CONFIG_FILES, violationAt, type ConfigJudgement } from '../pipeline/check-config.js';
import type { PolicyAst } from '../policy/dsl/ast.js';
import { defaultPolicy } from '../policy/default-policy.js';
import { createPolicyEngine, type PolicyEngine } from '../policy/engine/policy-engine.js';
import { findOpaRunner } from '../policy/engine/opa-runner.js';
import type { Violation } from '../policy/input.js';
import { runGit } from '../git/run-git.js';
import { readTreeFiles } from '../scm/local-git.js';
import { displayName } from '../scan/display-name.js';
import type { ComparePatchFile } from '../scan/sources/compare-patch.js';

export interface PullRequestConfigCheck extends ConfigJudgement {
  /** Violations the pull request brings (at the head, not at the base): these gate it. */
  inScope: Violation[];
  /** Problems (unparsable files and the like) in the files the pull request changes. */
  problemsInScope: Problem[];
  /** Violations that were there before (not the PR's doing). */
  elsewhere: number;
  /** Configuration files not read (symlinks, names that are not UTF-8, past the caps). */
  skipped: number;
  /**
   * Configuration files of the PR that were not read (a symlinked `.tf`, one over the size cap,
   * past the file cap, a name that is not UTF-8): Terraform would read them, so the check cannot
   * vouch for the PR and fails.
   */
  unreadInScope: string[];
  /** Configuration files elsewhere in the repository that were not read. */
  unreadElsewhere: number;
}

const MAX_ENGINES = 8;
const engines = new Map<string, Promise<PolicyEngine>>();

/** The engine for a policy (undefined: the built-in default), shared by policy text. */
export function configEngine(ast: PolicyAst | undefined, env: NodeJS.ProcessEnv): Promise<PolicyEngine> {
  const policy = ast ?? defaultPolicy();
  const key = ast ? createHash('sha256').update(JSON.stringify(policy)).digest('hex') : 'keywarden:default';
  let p = engines.get(key);
  if (p) {
    // Most recently used last.
    engines.delete(key);
    engines.set(key, p);
    return p;
  }
  p = createPolicyEngine({ ast: policy, modules: [], runner: findOpaRunner({ env }), cacheDir: defaultCacheDir(env) });
  engines.set(key, p);
  p.catch(() => engines.delete(key));
  while (engines.size > MAX_ENGINES) engines.delete(engines.keys().next().value!);
  return p;
}

/** Whether the PR's changes call for the configuration check: a configuration file added or changed, or a compare that does not list every file. */
export function touchesConfig(patches: readonly (ComparePatchFile & { previous_filename?: string })[], truncated: boolean): boolean {
  // A deleted `.tfvars` can turn a key's rotation off as surely as an edited one; a rename may hide a file from the check.
  return truncated || patches.some((p) => CONFIG_FILE.test(p.filename) || (p.status === 'renamed' && (p.previous_filename === undefined || CONFIG_FILE.test(p.previous_filename))));
}

/** The files `base...head` adds or changes, from git (when the compare API cut its list). */
export async function changedFiles(dir: string, base: string | undefined, head: string): Promise<Set<string>> {
  const args = base ? ['diff', '--name-only', '-z', '--no-renames', '--diff-filter=d', '--end-of-options', `${base}...${head}`] : ['ls-tree', '-r', '-z', '--name-only', '--full-tree', '--end-of-options', head];
  const r = await runGit(dir, args, { maxStdout: 64 * 1024 * 1024 });
  if (r.code !== 0) return new Set();
  const out = new Set<string>();
  let at = 0;
  const b = r.stdout;
  while (at < b.length) {
    let end = b.indexOf(0, at);
    if (end < 0) end = b.length;
    if (end > at) out.add(displayName(b.subarray(at, end)));
    at = end + 1;
  }
  return out;
}

/** The configuration of one commit, judged. */
async function judgeAt(dir: string, commit: string, engine: PolicyEngine, now: string, changed: ReadonlySet<string>): Promise<ConfigJudgement & { skipped: number; unread: string[]; unreadCount: number; badNames: string[] }> {
  // Code files have facts of their own only: those the PR changes are enough.
  const tree = await readTreeFiles(dir, commit, { select: (p) => CONFIG_FILE.test(p) && (!CODE_FILE.test(p) || changed.has(p)), maxBytes: MAX_CONFIG_BYTES, maxFiles: MAX_CONFIG_FILES });
  const problems: Problem[] = tree.tooLarge.map((file) => ({ code: ProblemCode.FILE_TOO_LARGE, file, line: 1, column: 1, message: `${file} is larger than ${MAX_CONFIG_BYTES} bytes; it was not checked.` }));
  return { ...judgeConfig(engine, { inputs: tree.files, files: tree.paths, problems, now }), skipped: tree.skipped, unread: [...tree.skippedPaths, ...tree.tooLarge], unreadCount: tree.skipped + tree.tooLarge.length, badNames: tree.badNames };
}

/** A violation's identity across two commits: its rule and subject, not its line (lines move). */
const identity = (v: Violation): string => JSON.stringify([v.rule, v.subject.kind, v.subject.id ?? null, violationAt(v).file ?? null]);

/**
 * Judges the head's configuration and, when the base is in the git copy, the base's: a violation
 * the head has and the base has not is the pull request's doing and gates it, wherever it is (a
 * changed `.tfvars` can turn off the rotation of a key declared in a file the PR does not touch).
 * Without the base, the violations in the changed files gate.
 */
export async function checkConfigAt(dir: string, commits: { base?: string | undefined; head: string }, input: { ast: PolicyAst | undefined; env: NodeJS.ProcessEnv; now: string; changed: ReadonlySet<string> }): Promise<PullRequestConfigCheck> {
  const engine = await configEngine(input.ast, input.env);
  const head = await judgeAt(dir, commits.head, engine, input.now, input.changed);
  const before = commits.base ? new Set((await judgeAt(dir, commits.base, engine, input.now, input.changed)).violations.map(identity)) : undefined;
  const inScope = head.violations.filter((v) => {
    if (before) return !before.has(identity(v));
    const f = violationAt(v).file;
    return f !== undefined && input.changed.has(f);
  });
  // What the check could not read among the PR's files — or anywhere, for names git shows differently.
  const badNames = new Set(head.badNames);
  const unreadInScope = [...new Set(head.unread.filter((p) => input.changed.has(p) || badNames.has(p)))];
  const { unread: _u, unreadCount, badNames: _bad, ...rest } = head;
  return {
    ...rest,
    inScope,
    problemsInScope: head.problems.filter((p) => input.changed.has(p.file)),
    elsewhere: head.violations.length - inScope.length,
    unreadInScope,
    unreadElsewhere: Math.max(0, unreadCount - unreadInScope.length),
  };
}
