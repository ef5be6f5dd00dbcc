/**
 * `keywarden hook install|uninstall`: adds Keywarden to a repository's pre-commit or pre-push
 * hook without taking anyone else's place.
 *
 * - Plain git: a hook script that is not Keywarden's keeps its content; a marked block that runs
 *   Keywarden (and stops the hook when it fails) goes after its shebang. Uninstall removes exactly
 *   the block, and the file only when nothing else is left in it.
 * - husky: the block goes into the team's `.husky/<hook>` (created when absent), never into
 *   husky's generated `.husky/_`.
 * - lefthook and the pre-commit framework: an entry in their YAML (comments and layout kept);
 *   their own `install` writes the git hook.
 * Files are written as safe-file.ts says (no symlink followed, temp file + rename); hook scripts
 * are executable (0755).
 */
import path from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';
import { escapeName } from '../scan/format/text.js';
import { keywardenCommand } from './command.js';
import { locateHook, type HookTarget } from './locate.js';
import type { HookManager, HookName } from './names.js';
import { assertSafeTarget, readTarget, removeTarget, writeTarget } from './safe-file.js';
import { hookBlock, insertBlock, isShellScript, ownHookFile, removeBlock } from './shell-block.js';
import { addLefthookCommand, addPreCommitHook, removeLefthookCommand, removePreCommitHook } from './yaml-edit.js';

export interface HookInstallOptions {
  /** A folder inside the repository. */
  repo: string;
  hook: HookName;
  manager?: HookManager | 'auto';
  /** Replace a Keywarden entry that differs from the one this install writes. */
  force?: boolean;
  /** Run `npx --no-install keywarden` instead of absolute paths (for files a team commits). */
  portable?: boolean;
  env: NodeJS.ProcessEnv;
}

export interface HookInstallResult {
  manager: HookManager;
  /** The file edited, relative to the work tree's top when inside it. */
  file: string;
  action: 'created' | 'added' | 'updated' | 'unchanged' | 'removed' | 'deleted' | 'absent';
  /** What the user still has to do, or should know. */
  notes: string[];
}

const HOOK_MODE = 0o755;
const CONFIG_MODE = 0o644;

function shown(t: HookTarget): string {
  const rel = path.relative(t.top, t.file);
  return escapeName(rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : t.file);
}

function installNotes(t: HookTarget, hook: HookName, portable: boolean): string[] {
  const notes: string[] = [];
  if (t.manager === 'lefthook') notes.push('Run "lefthook install" if lefthook has not written its git hooks yet.');
  if (t.manager === 'pre-commit') notes.push(`Run "pre-commit install --hook-type ${hook}" if the pre-commit framework does not manage ${hook} yet.`);
  if (t.inWorkTree && !portable) {
    notes.push(`${shown(t)} is in the work tree and the entry names this machine's node and Keywarden; for a file the team commits, install with --portable (npx --no-install keywarden).`);
  }
  return notes;
}

export async function installHook(o: HookInstallOptions): Promise<HookInstallResult> {
  const t = await locateHook(o.repo, o.hook, { manager: o.manager ?? 'auto', env: o.env });
  const command = keywardenCommand(o.portable ? { portable: true } : {}).shell;
  const top = t.inWorkTree ? t.top : undefined;
  assertSafeTarget(t.file, top);
  const cur = readTarget(t.file);
  const notes = installNotes(t, o.hook, Boolean(o.portable));
  const force = o.force ? { force: true } : {};
  if (t.manager === 'lefthook' || t.manager === 'pre-commit') {
    const text = cur?.text ?? '';
    const edit = t.manager === 'lefthook' ? addLefthookCommand(text, shown(t), o.hook, command, force) : addPreCommitHook(text, shown(t), o.hook, command, force);
    if (edit.normalized) notes.push(`${shown(t)} could not be edited in place; it was rewritten with its comments kept, but its layout may have changed.`);
    if (edit.action !== 'unchanged') writeTarget(t.file, edit.text, cur?.mode ?? CONFIG_MODE, top);
    return { manager: t.manager, file: shown(t), action: cur ? edit.action : 'created', notes };
  }
  if (!cur) {
    writeTarget(t.file, ownHookFile(o.hook, command), HOOK_MODE, top);
    return { manager: t.manager, file: shown(t), action: 'created', notes };
  }
  if (!isShellScript(cur.text)) {
    throw new KeywardenError(ErrorCode.HOOK_NOT_SHELL, `${shown(t)} is not a shell script, so Keywarden cannot add its block to it; it was left as it is.`, {
      fault: 'user',
      hint: `Call "keywarden hook run ${o.hook}" from it yourself (see docs/hooks.md), passing its standard input for pre-push.`,
      details: { file: shown(t) },
    });
  }
  const edit = insertBlock(cur.text, hookBlock(o.hook, command), shown(t), force);
  if (edit.action !== 'unchanged') writeTarget(t.file, edit.text, (cur.mode & 0o7777) | HOOK_MODE, top);
  return { manager: t.manager, file: shown(t), action: edit.action, notes };
}

export async function uninstallHook(o: Omit<HookInstallOptions, 'force' | 'portable'>): Promise<HookInstallResult> {
  const t = await locateHook(o.repo, o.hook, { manager: o.manager ?? 'auto', env: o.env });
  const top = t.inWorkTree ? t.top : undefined;
  assertSafeTarget(t.file, top);
  const cur = readTarget(t.file);
  if (!cur) return { manager: t.manager, file: shown(t), action: 'absent', notes: [] };
  if (t.manager === 'lefthook' || t.manager === 'pre-commit') {
    const edit = t.manager === 'lefthook' ? removeLefthookCommand(cur.text, shown(t), o.hook) : removePreCommitHook(cur.text, shown(t), o.hook);
    if (edit.action === 'removed') writeTarget(t.file, edit.text, cur.mode, top);
    const notes = edit.normalized ? [`${shown(t)} was rewritten with its comments kept; its layout may have changed.`] : [];
    return { manager: t.manager, file: shown(t), action: edit.action, notes };
  }
  const r = removeBlock(cur.text, shown(t));
  if (!r.removed) return { manager: t.manager, file: shown(t), action: 'absent', notes: [] };
  if (r.empty) {
    removeTarget(t.file, top);
    return { manager: t.manager, file: shown(t), action: 'deleted', notes: [] };
  }
  writeTarget(t.file, r.text, cur.mode, top);
  return { manager: t.manager, file: shown(t), action: 'removed', notes: [] };
}
