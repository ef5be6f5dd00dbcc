/**
 * The marked block Keywarden adds to a shell hook script, and taking it out again. Pure text in,
 * text out: what the script held before stays byte for byte, so uninstall restores it exactly.
 *
 * The block goes right after the shebang (or at the top of a script without one, like husky's),
 * so it runs before the rest of the script can consume a pre-push hook's standard input; it hands
 * that input on to the rest of the script.
 */
import { ErrorCode, KeywardenError } from '../errors.js';
import type { HookName } from './names.js';

export const BLOCK_START = '# >>> keywarden >>>';
export const BLOCK_END = '# <<< keywarden <<<';
/** The first line of a hook file Keywarden creates. */
const OWN_SHEBANG = '#!/bin/sh';

/**
 * The block for `hook`, running `command` (already shell-quoted). It exits with the hook's
 * status when the hook fails, so the commit or push stops and the rest of the script never runs.
 */
export function hookBlock(hook: HookName, command: string): string {
  const body =
    hook === 'pre-push'
      ? [
          // git writes the refs being pushed to stdin once: keep them for the rest of the script.
          'kw_stdin=$(cat)',
          `printf '%s\\n' "$kw_stdin" | ${command} hook run pre-push "$@" || exit $?`,
          'exec 0<<KW_STDIN_EOF',
          '$kw_stdin',
          'KW_STDIN_EOF',
        ]
      : [`${command} hook run pre-commit || exit $?`];
  return [BLOCK_START, `# Added by "keywarden hook install ${hook}"; "keywarden hook uninstall ${hook}" removes it.`, ...body, BLOCK_END, ''].join('\n');
}

/** A whole hook file of Keywarden's own. */
export function ownHookFile(hook: HookName, command: string): string {
  return `${OWN_SHEBANG}\n${hookBlock(hook, command)}`;
}

interface Found {
  start: number;
  end: number;
  text: string;
}

/**
 * Where the block is; undefined when there is none. Refuses a half or doubled block. `tag`
 * names one of several blocks in a file (YAML configs hold one per hook): its markers end in it.
 */
export function findBlock(script: string, file: string, tag = ''): Found | undefined {
  const startMark = tag ? `${BLOCK_START} ${tag}` : BLOCK_START;
  const endMark = tag ? `${BLOCK_END} ${tag}` : BLOCK_END;
  const lines = script.split('\n');
  let at = 0;
  let start = -1;
  let found: Found | undefined;
  for (const line of lines) {
    const lineEnd = Math.min(script.length, at + line.length + 1);
    // Trimmed: in YAML the markers are indented like the entry they frame.
    const t = line.trim();
    if (t === startMark) {
      if (start !== -1 || found) throw edited(file, 'it has more than one start marker');
      start = at;
    } else if (t === endMark) {
      if (start === -1) throw edited(file, 'its end marker has no start marker');
      found = { start, end: lineEnd, text: script.slice(start, lineEnd) };
      start = -1;
    }
    at += line.length + 1;
  }
  if (start !== -1) throw edited(file, 'its start marker has no end marker');
  return found;
}

function edited(file: string, why: string): KeywardenError {
  return new KeywardenError(ErrorCode.HOOK_BLOCK_EDITED, `The Keywarden block in ${file} was edited by hand (${why}); it was left as it is.`, {
    fault: 'user',
    hint: `Fix or delete the lines between "${BLOCK_START}" and "${BLOCK_END}", then run the command again.`,
    details: { file },
  });
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'busybox']);

/** True when git would run the script with a POSIX-style shell (no shebang: git uses sh). */
export function isShellScript(script: string): boolean {
  if (!script.startsWith('#!')) return true;
  const words = (script.split('\n', 1)[0] ?? '').slice(2).trim().split(/\s+/);
  let prog = words[0]?.split('/').pop() ?? '';
  if (prog === 'env') prog = words.slice(1).find((w) => !w.startsWith('-'))?.split('/').pop() ?? '';
  return SHELLS.has(prog);
}

export interface BlockEdit {
  text: string;
  action: 'added' | 'updated' | 'unchanged';
}

/**
 * Puts `block` into `script`: after its shebang line, or in place of an older Keywarden block. A
 * block that differs from `block` is replaced only with `force` (it may have been edited by hand).
 */
export function insertBlock(script: string, block: string, file: string, options: { force?: boolean } = {}): BlockEdit {
  const old = findBlock(script, file);
  if (old) {
    if (old.text === block) return { text: script, action: 'unchanged' };
    if (!options.force) {
      throw new KeywardenError(ErrorCode.HOOK_BLOCK_EDITED, `${file} already has a Keywarden block that differs from the one this install writes (edited by hand, or another Keywarden).`, {
        fault: 'user',
        hint: 'Run again with --force to replace the block, or uninstall first.',
        details: { file },
      });
    }
    return { text: script.slice(0, old.start) + block + script.slice(old.end), action: 'updated' };
  }
  if (!script.startsWith('#!')) return { text: block + script, action: 'added' };
  const nl = script.indexOf('\n');
  if (nl === -1) return { text: `${script}\n${block}`, action: 'added' };
  return { text: script.slice(0, nl + 1) + block + script.slice(nl + 1), action: 'added' };
}

export interface BlockRemoval {
  text: string;
  removed: boolean;
  /** Nothing but Keywarden's own shebang (or nothing) is left: the file was entirely Keywarden's. */
  empty: boolean;
}

/** Takes exactly the block out of `script`. */
export function removeBlock(script: string, file: string): BlockRemoval {
  const old = findBlock(script, file);
  if (!old) return { text: script, removed: false, empty: false };
  const text = script.slice(0, old.start) + script.slice(old.end);
  const rest = text.trim();
  return { text, removed: true, empty: rest === '' || rest === OWN_SHEBANG };
}
