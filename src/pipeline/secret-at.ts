/**
 * The raw secret, for the one kind of step that needs it (a revoker that takes the credential
 * itself, as GitHub's revocation API does): re-read from the source at act time — the blob at the
 * finding's commit and path, cut at its recorded range — and returned only if it still hashes to
 * the finding's fingerprint. Never from the store, the queue, a log or an argument list; a job
 * retried or resumed after a crash does the same.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';
import type { Finding } from '../model/finding.js';
import { fingerprintSecret } from '../scan/redact.js';
import { readEntryText } from '../scan/sources/read-file.js';
import { readFileAt } from '../scm/local-git.js';

const MAX_SECRET_FILE = 64 * 1024 * 1024;
import { lineStarts } from '../util/line-column.js';

export type SecretLocation = Pick<Finding, 'file' | 'startLine' | 'startColumn' | 'endLine' | 'endColumn' | 'fingerprint'> & { commit: string };

/** Cuts the range out of a text (1-based lines, UTF-16 columns, end exclusive); undefined when it does not fit. */
export function cutRange(text: string, at: Pick<Finding, 'startLine' | 'startColumn' | 'endLine' | 'endColumn'>): string | undefined {
  const starts = lineStarts(text);
  const lineEnd = (i: number): number => (i + 1 < starts.length ? starts[i + 1]! - 1 : text.length);
  const a = starts[at.startLine - 1];
  const b = starts[at.endLine - 1];
  if (a === undefined || b === undefined) return undefined;
  const from = a + at.startColumn - 1;
  const to = b + at.endColumn - 1;
  if (from > lineEnd(at.startLine - 1) || to > lineEnd(at.endLine - 1) + 1 || to < from) return undefined;
  return text.slice(from, to);
}

export async function readSecretAt(repo: string, loc: SecretLocation): Promise<string> {
  const gone = (why: string): KeywardenError =>
    new KeywardenError(ErrorCode.SECRET_NOT_AT_SOURCE, `The secret of ${loc.fingerprint.slice(0, 19)}… is not at ${loc.file}:${loc.startLine} in ${loc.commit.slice(0, 12)} (${why}); it cannot be handed to the revoker.`, {
      fault: 'user',
      details: { fingerprint: loc.fingerprint, file: loc.file, commit: loc.commit },
    });
  const at = await readFileAt(repo, loc.commit, loc.file);
  if (!at) throw gone('no such file');
  const secret = cutRange(at.data.toString('utf8'), loc);
  if (secret === undefined) throw gone('the range does not fit the file');
  if (fingerprintSecret(secret) !== loc.fingerprint) throw gone('the text there has another fingerprint');
  return secret;
}

/**
 * The secret of a finding at act time: from the blob at its commit (git scans), else from the
 * commit the tree is at, else from the work tree file (opened without following a symlink, inside
 * `root`). Undefined when it is not there any more or its fingerprint does not match.
 */
export async function readSecretForAct(root: string, f: Finding, head: string | undefined): Promise<string | undefined> {
  for (const commit of [f.commit, head]) {
    if (!commit) continue;
    const s = await readSecretAt(root, { ...f, commit }).catch(() => undefined);
    if (s !== undefined) return s;
  }
  // The work tree copy, opened as the scan opens a tree entry (never through a symlink), inside root.
  try {
    const abs = path.resolve(root, f.file);
    const dir = realpathSync(path.dirname(abs));
    const top = realpathSync(root);
    if (dir !== top && !dir.startsWith(`${top}${path.sep}`)) return undefined;
    const text = readEntryText(path.join(dir, path.basename(abs)), MAX_SECRET_FILE);
    const secret = text === undefined ? undefined : cutRange(text, f);
    return secret !== undefined && fingerprintSecret(secret) === f.fingerprint ? secret : undefined;
  } catch {
    return undefined;
  }
}
