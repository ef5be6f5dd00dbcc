/** The git hooks Keywarden installs, and the hook managers it knows how to add itself to. */
import { ErrorCode, KeywardenError } from '../errors.js';

const HOOK_NAMES = ['pre-commit', 'pre-push'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** `git`: a script in the hooks folder; the others keep their own configuration. */
const HOOK_MANAGERS = ['git', 'husky', 'lefthook', 'pre-commit'] as const;
export type HookManager = (typeof HOOK_MANAGERS)[number];

export function assertHookName(name: string): HookName {
  if ((HOOK_NAMES as readonly string[]).includes(name)) return name as HookName;
  throw new KeywardenError(ErrorCode.HOOK_UNKNOWN, `Unknown hook "${JSON.stringify(name).slice(1, -1).slice(0, 60)}": Keywarden installs ${HOOK_NAMES.join(' and ')}.`, {
    fault: 'user',
    hint: 'Run "keywarden hook install pre-commit" or "keywarden hook install pre-push".',
  });
}

export function assertHookManager(name: string): HookManager | 'auto' {
  if (name === 'auto' || (HOOK_MANAGERS as readonly string[]).includes(name)) return name as HookManager | 'auto';
  throw new KeywardenError(ErrorCode.USAGE, `Unknown hook manager "${JSON.stringify(name).slice(1, -1).slice(0, 60)}": use auto, ${HOOK_MANAGERS.join(', ')}.`, { fault: 'user' });
}
