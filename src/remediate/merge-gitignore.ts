/**
 * `.gitignore`: the files a remediation removed. The merge keeps what is there byte for byte and
 * only appends; it is idempotent.
 */
import { ErrorCode, KeywardenError } from '../errors.js';
import { appendLines } from './merge-env-example.js';

const GITIGNORE_HEADER = '# Files that held leaked secrets (Keywarden)';

/**
 * Adds the lines `.gitignore` does not have yet (compared without trailing `\r`), under one
 * header line; idempotent: merging the same lines again returns the text unchanged.
 */
export function mergeGitignore(existing: string | undefined, lines: string[]): string {
  const present = new Set((existing ?? '').split('\n').map((l) => l.replace(/\r$/, '')));
  const add: string[] = [];
  for (const line of lines) {
    if (/[\r\n]/.test(line) || line.trim() === '') {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A .gitignore line must be one non-empty line.', { fault: 'internal' });
    }
    if (present.has(line)) continue;
    present.add(line);
    add.push(line);
  }
  if (add.length === 0) return existing ?? '';
  return appendLines(existing, present.has(GITIGNORE_HEADER) ? add : [GITIGNORE_HEADER, ...add]);
}
