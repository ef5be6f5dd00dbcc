/**
 * `keywarden hook install|uninstall|run pre-commit|pre-push`: push protection on a developer's
 * machine. `install` adds Keywarden to the repository's hook (or its hook manager's config)
 * without replacing anyone's; `run` is what the hook calls: exit 0 lets the commit or push
 * through, 1 blocks it (something was found, or a bypass lacked a reason), 2 or 3 blocks it on
 * an error (a bypass that could not be recorded is `KW_BYPASS_NOT_RECORDED`). See docs/hooks.md.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { HookInstallResult } from '../../hooks/install.js';
import { assertHookManager, assertHookName } from '../../hooks/names.js';
import type { CliIO } from '../main.js';

interface InstallFlags {
  repo?: string;
  force?: boolean;
  manager: string;
  portable?: boolean;
}

const SAY: Record<HookInstallResult['action'], (file: string) => string> = {
  created: (f) => `created ${f}`,
  added: (f) => `added Keywarden to ${f}`,
  updated: (f) => `updated Keywarden in ${f}`,
  unchanged: (f) => `Keywarden is already in ${f}`,
  removed: (f) => `removed Keywarden from ${f}`,
  deleted: (f) => `deleted ${f} (it held only Keywarden)`,
  absent: (f) => `Keywarden is not in ${f}`,
};

function report(r: HookInstallResult, hook: string, io: CliIO): void {
  io.stdout(`keywarden: ${hook}: ${SAY[r.action](r.file)} (${r.manager === 'git' ? 'git hook' : r.manager}).\n`);
  for (const n of r.notes) io.stdout(`  note: ${n}\n`);
}

export function registerHookCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const cwd = (): string => io.cwd ?? process.cwd();
  const env = (): NodeJS.ProcessEnv => io.env ?? process.env;
  const hook = program.command('hook').description('Install, remove or run the pre-commit and pre-push hooks that block leaked secrets.');
  hook
    .command('install')
    .description('Add Keywarden to the pre-commit or pre-push hook (plain git, husky, lefthook or the pre-commit framework); nothing of theirs is replaced.')
    .argument('<hook>', 'pre-commit or pre-push')
    .option('--repo <dir>', 'the repository (default: the current directory)')
    .option('--manager <name>', 'auto, git, husky, lefthook or pre-commit', 'auto')
    .option('--portable', 'run "npx --no-install keywarden" instead of this machine\'s node and Keywarden paths (for files the team commits)')
    .option('--force', 'replace a Keywarden entry that differs from the one this install writes')
    .action(async (name: string, flags: InstallFlags) => {
      const h = assertHookName(name);
      const { installHook } = await import('../../hooks/install.js');
      const r = await installHook({
        repo: path.resolve(cwd(), flags.repo ?? '.'),
        hook: h,
        manager: assertHookManager(flags.manager),
        ...(flags.force ? { force: true } : {}),
        ...(flags.portable ? { portable: true } : {}),
        env: env(),
      });
      report(r, h, io);
      setExit(0);
    });
  hook
    .command('uninstall')
    .description('Take Keywarden out of the hook again, leaving everything else as it was.')
    .argument('<hook>', 'pre-commit or pre-push')
    .option('--repo <dir>', 'the repository (default: the current directory)')
    .option('--manager <name>', 'auto, git, husky, lefthook or pre-commit', 'auto')
    .action(async (name: string, flags: Omit<InstallFlags, 'force' | 'portable'>) => {
      const h = assertHookName(name);
      const { uninstallHook } = await import('../../hooks/install.js');
      const r = await uninstallHook({ repo: path.resolve(cwd(), flags.repo ?? '.'), hook: h, manager: assertHookManager(flags.manager), env: env() });
      report(r, h, io);
      setExit(0);
    });
  hook
    .command('run')
    .description('What an installed hook runs: scan the staged changes (pre-commit) or the pushed commits (pre-push; reads git\'s standard input). KEYWARDEN_BYPASS="reason" lets it through and records it in the audit log.')
    .argument('<hook>', 'pre-commit or pre-push')
    .argument('[args...]', 'what git passes the hook (pre-push: the remote\'s name and URL); not used')
    .action(async (name: string) => {
      const h = assertHookName(name);
      const { runPreCommitHook, runPrePushHook } = await import('../../hooks/run.js');
      const runIO = {
        cwd: cwd(),
        env: env(),
        ...(io.stdin ? { stdin: io.stdin } : {}),
        stdout: io.stdout,
        stderr: io.stderr,
        color: Boolean(io.isTTY) && !env().NO_COLOR,
      };
      setExit(h === 'pre-push' ? await runPrePushHook(runIO) : await runPreCommitHook(runIO));
    });
}
