/**
 * The command an installed hook runs. By default the absolute path of the node that runs this
 * Keywarden and of this package's `bin/keywarden.js`, so a hook works without a global install
 * and runs the same Keywarden that installed it. `portable` writes `npx --no-install keywarden`
 * instead, for configuration a team commits (husky's `.husky/`, lefthook.yml,
 * .pre-commit-config.yaml): the project's own `node_modules` then provides Keywarden on every
 * machine, and nothing is downloaded when it is missing (the hook fails instead).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCode, KeywardenError } from '../errors.js';

export interface HookCommand {
  argv: string[];
  /** `argv` quoted for a POSIX shell (and for pre-commit's shlex). */
  shell: string;
}

/** Single-quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function keywardenCommand(options: { portable?: boolean; nodePath?: string; binPath?: string } = {}): HookCommand {
  const argv = options.portable ? ['npx', '--no-install', 'keywarden'] : [options.nodePath ?? process.execPath, options.binPath ?? packageBin()];
  for (const a of argv) {
    // A path a hook cannot hold safely (a newline would end the command line).
    if (/[\0-\x1f\x7f]/.test(a)) {
      throw new KeywardenError(ErrorCode.HOOK_PATH_REFUSED, 'The path of node or of Keywarden holds a control character, so no hook can name it.', {
        fault: 'config',
        hint: 'Install with --portable (runs npx --no-install keywarden), or move Keywarden to a plain path.',
      });
    }
  }
  return { argv, shell: argv.map(shellQuote).join(' ') };
}

/** This package's launcher, found from this module's own place (dist/hooks or src/hooks). */
function packageBin(): string {
  const bin = fileURLToPath(new URL('../../bin/keywarden.js', import.meta.url));
  if (!existsSync(bin)) {
    throw new KeywardenError(ErrorCode.HOOK_PATH_REFUSED, 'Cannot find Keywarden\'s bin/keywarden.js next to the running code.', {
      fault: 'config',
      hint: 'Install with --portable to run "npx --no-install keywarden" from the project instead.',
    });
  }
  return bin;
}
