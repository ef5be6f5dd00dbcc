/**
 * What git tells a pre-push hook on standard input: one `<local ref> SP <local sha> SP <remote
 * ref> SP <remote sha> LF` line per ref it is about to update. Pure.
 *
 * Security property: the input is untrusted (anything can run the hook with any input). Every
 * object id must be 40 or 64 lowercase hex digits before anything reaches git, so an id like
 * `--output=x` or `HEAD@{1}` is refused; refs are only ever printed (escaped), never passed to git.
 */
import { ErrorCode, KeywardenError } from '../errors.js';

export interface PushUpdate {
  localRef: string;
  localSha: string;
  remoteRef: string;
  remoteSha: string;
}

export const MAX_PRE_PUSH_INPUT = 1024 * 1024;
const MAX_LINES = 10_000;
const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const ZERO = /^0+$/;

const isObjectId = (s: string): boolean => OID.test(s);
export const isZeroId = (s: string): boolean => ZERO.test(s);

function bad(line: number, why: string): KeywardenError {
  return new KeywardenError(ErrorCode.HOOK_INPUT_INVALID, `Line ${line} of the pre-push input ${why}; the push was stopped.`, {
    fault: 'user',
    hint: 'git writes "<local ref> <local sha> <remote ref> <remote sha>" lines; run the hook only from git push.',
    details: { line },
  });
}

/**
 * @example
 * parsePrePushInput(`refs/heads/main ${'a'.repeat(40)} refs/heads/main ${'0'.repeat(40)}\n`)
 * // [{ localRef: 'refs/heads/main', localSha: 'aaa…', remoteRef: 'refs/heads/main', remoteSha: '000…' }]
 */
export function parsePrePushInput(text: string): PushUpdate[] {
  const lines = text.split('\n');
  if (lines.length > MAX_LINES) throw bad(MAX_LINES, 'is past the most lines Keywarden reads');
  const out: PushUpdate[] = [];
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') return;
    const f = line.split(' ');
    if (f.length !== 4 || f.some((x) => x === '' || x.length > 4096)) throw bad(i + 1, 'does not have four fields');
    const [localRef, localSha, remoteRef, remoteSha] = f as [string, string, string, string];
    if (!isObjectId(localSha)) throw bad(i + 1, 'has a local object id that is not 40 or 64 hex digits');
    if (!isObjectId(remoteSha)) throw bad(i + 1, 'has a remote object id that is not 40 or 64 hex digits');
    out.push({ localRef, localSha, remoteRef, remoteSha });
  });
  return out;
}

/** Validates an object id from elsewhere (the pre-commit framework's PRE_COMMIT_*_REF variables). */
export function assertObjectId(value: string, what: string): string {
  if (isObjectId(value)) return value;
  throw new KeywardenError(ErrorCode.HOOK_INPUT_INVALID, `${what} is not a 40 or 64 hex digit object id; the push was stopped.`, { fault: 'user' });
}
