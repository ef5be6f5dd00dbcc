/**
 * Where a hook goes: which hook manager the repository uses, and the file to edit.
 *
 * Git runs through run-git.ts, whose hardening sets `core.hooksPath` to the null device on the
 * command line (no hook of the repository may run inside Keywarden), so `git rev-parse
 * --git-path hooks` would answer that. The repository's own setting is read from its config file
 * (`git config --local`), the user's from their global files (`git config --file`), and the
 * default folder is `<common git dir>/hooks`, which is where `--git-path hooks` points in every
 * worktree.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';
import { firstLine, gitTopLevel, runGit } from '../git/run-git.js';
import type { HookManager, HookName } from './names.js';

export interface HookTarget {
  manager: HookManager;
  /** The work tree's top. */
  top: string;
  /** The file to edit: a hook script, or the manager's configuration. */
  file: string;
  /** The file is inside the work tree (teams commit it), not in the git folder. */
  inWorkTree: boolean;
}

const LEFTHOOK_FILES = ['lefthook.yml', '.lefthook.yml', 'lefthook.yaml', '.lefthook.yaml'];
const PRE_COMMIT_FILE = '.pre-commit-config.yaml';

async function configValue(top: string, args: string[]): Promise<string | undefined> {
  const r = await runGit(top, ['config', ...args, '--get', 'core.hooksPath'], { maxStdout: 64 * 1024 });
  // 1: not set. Anything else but 0 is a broken config file: say so rather than guess.
  if (r.code === 1) return undefined;
  if (r.code !== 0) throw new KeywardenError(ErrorCode.GIT_FAILED, `git could not read core.hooksPath: ${firstLine(r.stderr)}`, { fault: 'user' });
  const v = r.stdout.toString('utf8').replace(/\n$/, '');
  return v === '' ? undefined : v;
}

function expandHome(p: string, env: NodeJS.ProcessEnv): string {
  return (p === '~' || p.startsWith('~/')) && env.HOME ? path.join(env.HOME, p.slice(1)) : p;
}

/** The user's global git config files that git itself would read (Keywarden's git reads none). */
function globalConfigFiles(env: NodeJS.ProcessEnv): string[] {
  const files: string[] = [];
  const xdg = env.XDG_CONFIG_HOME || (env.HOME ? path.join(env.HOME, '.config') : undefined);
  if (xdg) files.push(path.join(xdg, 'git', 'config'));
  if (env.HOME) files.push(path.join(env.HOME, '.gitconfig'));
  return files.filter((f) => existsSync(f));
}

const inside = (top: string, p: string): boolean => {
  const rel = path.relative(top, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) && rel.split(path.sep)[0] !== '.git';
};

/** Husky v9 points core.hooksPath at `<dir>/_` (its runner `h`); v4–8 at `<dir>` itself (with `_/husky.sh`). */
function huskyScriptsDir(hooksDir: string): string | undefined {
  if (path.basename(hooksDir) === '_' && (existsSync(path.join(hooksDir, 'h')) || existsSync(path.join(hooksDir, 'husky.sh')))) return path.dirname(hooksDir);
  if (existsSync(path.join(hooksDir, '_', 'husky.sh'))) return hooksDir;
  return undefined;
}

/**
 * Finds the file to edit for `hook`. `manager: 'auto'` picks lefthook (its config present), then
 * the pre-commit framework (`.pre-commit-config.yaml`), then husky (core.hooksPath), then the
 * plain hooks folder.
 */
export async function locateHook(dir: string, hook: HookName, options: { manager?: HookManager | 'auto'; env: NodeJS.ProcessEnv }): Promise<HookTarget> {
  const top = await gitTopLevel(dir);
  const want = options.manager ?? 'auto';
  const lefthook = LEFTHOOK_FILES.map((f) => path.join(top, f)).find((f) => existsSync(f));
  if (want === 'lefthook' || (want === 'auto' && lefthook)) {
    return { manager: 'lefthook', top, file: lefthook ?? path.join(top, LEFTHOOK_FILES[0]!), inWorkTree: true };
  }
  const preCommit = path.join(top, PRE_COMMIT_FILE);
  if (want === 'pre-commit' || (want === 'auto' && existsSync(preCommit))) return { manager: 'pre-commit', top, file: preCommit, inWorkTree: true };

  const local = await configValue(top, ['--local']);
  let hooksDir: string;
  if (local !== undefined) {
    // A relative core.hooksPath is relative to the work tree's top, where git runs hooks.
    hooksDir = path.resolve(top, expandHome(local, options.env));
  } else {
    for (const f of globalConfigFiles(options.env)) {
      const global = await configValue(top, ['--file', f]);
      if (global === undefined) continue;
      throw new KeywardenError(ErrorCode.HOOK_PATH_REFUSED, `Your global git config (${f}) sets core.hooksPath, so git runs the hooks of every repository from ${global}; Keywarden does not install into a folder other repositories share.`, {
        fault: 'user',
        hint: 'Set a hooks folder for this repository (git config core.hooksPath .git/hooks) and install again, or add "keywarden hook run" to your shared hooks by hand (docs/hooks.md).',
        details: { reason: 'global-hooks-path', file: f },
      });
    }
    const r = await runGit(top, ['rev-parse', '--git-common-dir'], { maxStdout: 64 * 1024 });
    const common = r.stdout.toString('utf8').replace(/\n$/, '');
    if (r.code !== 0 || !common) throw new KeywardenError(ErrorCode.NOT_A_GIT_REPO, `${top} has no git folder.`, { location: { file: top } });
    hooksDir = path.join(path.resolve(top, common), 'hooks');
  }
  const husky = huskyScriptsDir(hooksDir);
  if (want === 'husky' && !husky) {
    throw new KeywardenError(ErrorCode.USAGE, 'This repository does not use husky (core.hooksPath does not point at a husky folder).', {
      fault: 'user',
      hint: 'Run "npx husky init" first, or install with --manager git.',
    });
  }
  const file = husky && want !== 'git' ? path.join(husky, hook) : path.join(hooksDir, hook);
  return { manager: husky && want !== 'git' ? 'husky' : 'git', top, file, inWorkTree: inside(top, file) };
}
