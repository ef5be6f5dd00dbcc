/**
 * The source and detect stages' settings: what is scanned, and which revision's policy and
 * baseline judge it. Used by every entry point (`keywarden scan`, `keywarden respond`, the hooks).
 *
 * Security property: a range is judged by its base revision and staged changes by HEAD, never by
 * what they bring: the policy (its `secrets:` block and, for respond, its rules) and a tracked
 * baseline are read there, through a git `PolicySource`. A change to either inside the range (or
 * the index) is reported as `KW_POLICY_CHANGED_IN_RANGE` and not obeyed. A file that neither end
 * tracks is the operator's own and is read from disk.
 *
 * Peers' suppression files (`.gitleaksignore`, `.gitleaks.toml`, `.secrets.baseline`,
 * `.secretlintignore`, `.gitguardian.yaml`) follow the same rule: a tree or history scan reads
 * them from the root on disk, a range from its base revision only and staged changes from HEAD
 * only (never from disk there: a `.gitleaksignore` that a push adds or edits cannot suppress the
 * push it is in; the change is reported as `KW_POLICY_CHANGED_IN_RANGE`).
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';
import { gitTopLevel } from '../git/run-git.js';
import { createDiskPolicySource } from '../policy/source.js';
import { DEFAULT_POLICY_FILE } from '../policy/default-file.js';
import type { PolicyAst } from '../policy/dsl/ast.js';
import { getSecretsConfig, type SecretsConfig } from '../policy/dsl/secrets.js';
import { parseBaseline, type Baseline } from '../scan/baseline.js';
import type { ScanOptions } from '../scan/scan.js';
import type { DetectorSelection } from '../scan/select-detectors.js';
import { resolveRange, type GitRange } from '../scan/sources/git.js';
import { PEER_FILES } from '../scan/suppress/peer-files.js';
import { readPeerSuppressions, type PeerFileRead } from '../scan/suppress/read-peer-files.js';
import type { PeerSuppressions } from '../scan/suppress/types.js';
import type { ScanWarning } from '../scan/types.js';

export type DetectMode =
  | { kind: 'tree' }
  | { kind: 'range'; range: string }
  | { kind: 'history' }
  /** `indexFile`: the index a hook's `git commit -a` stages into (GIT_INDEX_FILE). */
  | { kind: 'staged'; indexFile?: string }
  | { kind: 'stdin' };

export interface DetectRequest {
  /** Where relative paths given by the user resolve. */
  cwd: string;
  /** What is scanned: the repository (or folder, or file). */
  root: string;
  mode: DetectMode;
  /** The policy file (relative to `cwd`); `false`: none; default `.github/keywarden.yml` under `root`, when present. */
  config?: string | false;
  /**
   * The policy, already read by the entry point (the App reads it from the default branch, so a
   * push cannot weaken the policy that judges it): `config` is then not read at all.
   */
  policy?: PolicyAst;
  /** A baseline file (relative to `cwd`). */
  baseline?: string;
  /** The baseline is about to be rewritten: read it from disk, may be missing. */
  updateBaseline?: boolean;
  detectors?: string[];
  excludeDetectors?: string[];
  ignorePaths?: string[];
  /** Honour peers' suppression files (Gitleaks, detect-secrets, secretlint, ggshield); default true. */
  peerSuppressions?: boolean;
  scan?: Pick<ScanOptions, 'maxFileSize' | 'gitignore' | 'inlineAllow' | 'secretlint' | 'recurseSubmodules' | 'workers'>;
}

export interface PreparedScan {
  options: ScanOptions;
  /** Warnings to show with the scan's own (a settings file changed in the range, …). */
  notes: ScanWarning[];
  selection: DetectorSelection;
  /** The whole policy that judges this scan (undefined: none; the built-in default applies). */
  policy: PolicyAst | undefined;
  baseline?: Baseline;
  baselinePath?: string;
  range?: GitRange;
  /** The peer files read and their rules (also in `options.peerSuppressions` when they have any). */
  peer?: PeerSuppressions;
}

export async function prepareScan(req: DetectRequest): Promise<PreparedScan> {
  const { cwd, root, mode } = req;
  const range = mode.kind === 'range' ? await resolveRange(root, mode.range) : undefined;
  const stagedMod = mode.kind === 'staged' ? await import('../hooks/staged-settings.js') : undefined;
  const stagedAt = stagedMod && mode.kind === 'staged' ? await stagedMod.resolveStagedSettingsBase(root, mode.indexFile) : undefined;
  const atRevision = range !== undefined || stagedAt !== undefined;
  const inRepo = atRevision ? await repoRelative(root) : undefined;
  const notes: ScanWarning[] = [];
  // The baseline: at the base revision (or HEAD) when the repository tracks it.
  const baselinePath = req.baseline ? path.resolve(cwd, req.baseline) : undefined;
  let baseline: Baseline | undefined;
  const baselineRel = atRevision && baselinePath && !req.updateBaseline ? inRepo?.(baselinePath) : undefined;
  const policyRel = req.policy === undefined && atRevision && req.config !== false ? (req.config === undefined ? DEFAULT_POLICY_FILE : inRepo?.(path.resolve(cwd, req.config))) : undefined;
  // A range's settings files (baseline, policy, peers' ignore files), looked up at both ends in one git run each.
  const files = range
    ? await (await import('../policy/secrets-at-revision.js')).rangeFiles(root, range.base, range.head, [
        ...(baselineRel !== undefined ? [baselineRel] : []),
        ...(policyRel !== undefined ? [policyRel] : []),
        ...(req.peerSuppressions !== false ? PEER_FILES.map((k) => k.name) : []),
      ])
    : undefined;
  if (stagedAt && stagedMod && baselineRel !== undefined) {
    const at = await stagedMod.readFileAtStaged(stagedAt, baselineRel);
    if (at.untracked) baseline = readBaselineFile(baselinePath!, false);
    else if (at.base !== undefined) baseline = parseBaseline(at.base, baselineRel);
    if (at.changed && !at.untracked) notes.push(stagedMod.changedInIndex(baselineRel, stagedAt.head, 'the secrets it accepts'));
  } else if (range && baselineRel !== undefined) {
    const { changedInRange } = await import('../policy/secrets-at-revision.js');
    const at = await files!.at(baselineRel);
    if (at.untracked) baseline = readBaselineFile(baselinePath!, false);
    else if (at.base !== undefined) baseline = parseBaseline(at.base, baselineRel);
    if (at.changed && !at.untracked) notes.push(changedInRange(baselineRel, range.base, 'the secrets it accepts'));
  } else if (baselinePath) baseline = readBaselineFile(baselinePath, Boolean(req.updateBaseline));

  // The policy: at the base revision (or HEAD) when the repository tracks it, else from disk.
  let policy: PolicyAst | undefined = req.policy;
  if (req.policy !== undefined) {
    // Given by the entry point.
  } else if (atRevision && policyRel !== undefined) {
    const at =
      stagedAt && stagedMod
        ? await stagedMod.readPolicyAtStaged(stagedAt, policyRel)
        : await (await import('../policy/secrets-at-revision.js')).readPolicyAtRevision(root, range!.base, range!.head, policyRel, files);
    if (at.untracked && req.config !== undefined) policy = await readPolicyFromDisk(req.config, root, cwd, false);
    else policy = at.ast;
    if (at.warning) notes.push(at.warning);
  } else {
    policy = await readPolicyFromDisk(req.config, root, cwd, mode.kind === 'stdin');
  }
  const secrets: SecretsConfig | undefined = policy ? getSecretsConfig(policy) : undefined;

  // Peers' suppression files: where the policy and the baseline come from, for the same reason.
  let peer: PeerSuppressions | undefined;
  if (req.peerSuppressions !== false && mode.kind !== 'stdin') {
    let read: PeerFileRead;
    if (stagedAt && stagedMod) {
      read = async (name) => {
        const at = await stagedMod.readFileAtStaged(stagedAt, name);
        if (at.changed && !at.untracked) notes.push(stagedMod.changedInIndex(name, stagedAt.head, 'the findings it suppresses'));
        return at.base;
      };
    } else if (range) {
      const { changedInRange } = await import('../policy/secrets-at-revision.js');
      read = async (name) => {
        const at = await files!.at(name);
        if (at.changed && !at.untracked) notes.push(changedInRange(name, range.base, 'the findings it suppresses'));
        return at.base;
      };
    } else {
      const dir = mode.kind === 'history' ? await gitTopLevel(root) : statSync(root, { throwIfNoEntry: false })?.isDirectory() ? root : path.dirname(root);
      const source = createDiskPolicySource(dir);
      read = (name) => source.read(name);
    }
    peer = await readPeerSuppressions(read);
    notes.push(...peer.warnings);
  }

  const { selection, ignorePaths } = detectionSettings(secrets, req);
  const options: ScanOptions = {
    path: root,
    detectors: selection,
    ...req.scan,
    ...(ignorePaths.length ? { ignorePaths } : {}),
    ...(baseline && !req.updateBaseline ? { baseline } : {}),
    ...(peer?.rules.length ? { peerSuppressions: peer } : {}),
  };
  if (range) options.git = { range };
  if (mode.kind === 'history') options.git = { history: true };
  if (stagedAt) options.git = { staged: true, ...(stagedAt.indexFile ? { indexFile: stagedAt.indexFile } : {}) };
  return {
    options,
    notes,
    selection,
    policy,
    ...(baseline ? { baseline } : {}),
    ...(baselinePath ? { baselinePath } : {}),
    ...(range ? { range } : {}),
    ...(peer?.files.length ? { peer } : {}),
  };
}

/**
 * The detectors and ignored paths a policy's `secrets:` block (and the entry point's flags) ask
 * for: what `prepareScan` scans with, and what the App's compare pre-check scans with.
 */
export function detectionSettings(
  secrets: SecretsConfig | undefined,
  req: Pick<DetectRequest, 'detectors' | 'excludeDetectors' | 'ignorePaths'> = {},
): { selection: DetectorSelection; ignorePaths: string[] } {
  const selection: DetectorSelection = {
    ...(req.detectors?.length ? { include: req.detectors } : secrets && !secrets.presets.includes('none') ? { include: secrets.presets } : {}),
    ...(req.excludeDetectors?.length ? { exclude: req.excludeDetectors } : {}),
    ...(secrets?.custom.length ? { custom: secrets.custom } : {}),
    ...(secrets?.presets.includes('none') && !req.detectors?.length ? { builtins: false } : {}),
  };
  return { selection, ignorePaths: [...(secrets?.ignorePaths ?? []), ...(req.ignorePaths ?? [])] };
}

/**
 * The key policy on disk: an explicit file must exist; the default file is used only when
 * present. For standard input there is no tree, so only an explicit file counts.
 */
async function readPolicyFromDisk(config: string | false | undefined, root: string, cwd: string, stdin: boolean): Promise<PolicyAst | undefined> {
  if (config === false) return undefined;
  // Loaded only when a policy is read: the policy parser compiles its schema at import.
  const load = async (file: string): Promise<PolicyAst> => (await import('../policy/engine/load.js')).readPolicy(file, { cwd });
  if (config === undefined) {
    if (stdin) return undefined;
    const dir = statSync(root, { throwIfNoEntry: false })?.isDirectory() ? root : path.dirname(root);
    const file = path.join(dir, DEFAULT_POLICY_FILE);
    if (!existsSync(file)) return undefined;
    return load(file);
  }
  return load(path.resolve(cwd, config));
}

/** A path's repository-relative POSIX form, or undefined when it lies outside the work tree. */
async function repoRelative(dir: string): Promise<(abs: string) => string | undefined> {
  const top = realpathSync(await gitTopLevel(dir));
  return (abs) => {
    const rel = path.relative(top, realOr(abs));
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : undefined;
  };
}

/** The path with its folder's symlinks resolved; the last component is kept as named (a link is not followed). */
function realOr(p: string): string {
  try {
    return path.join(realpathSync(path.dirname(p)), path.basename(p));
  } catch {
    return path.resolve(p);
  }
}

function readBaselineFile(file: string, mayBeMissing: boolean): Baseline | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && mayBeMissing) return undefined;
    throw new KeywardenError(ErrorCode.BASELINE_INVALID, `Cannot read the baseline file (${code ?? 'error'}).`, {
      location: { file },
      hint: 'Create one with `keywarden scan --baseline FILE --update-baseline`.',
    });
  }
  return parseBaseline(text, file);
}
