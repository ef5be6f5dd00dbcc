/**
 * Files the CLI writes (a report with `-o`, a baseline with `--update-baseline`). Checked before
 * any work starts, so a bad path is a usage error (exit 2), not a scan thrown away at the end.
 *
 * Security property: a write never goes through a symlink. The scanned repository is hostile, and
 * a CI job that runs `keywarden scan -o report.sarif` inside it must not let a committed
 * `report.sarif -> ~/.bashrc` (or a symlinked parent folder) redirect the write. The target must
 * not be a symlink; a target inside the repository must have its real parent folder inside it
 * too; the content goes to a new file created next to the target (O_EXCL | O_NOFOLLOW) and is
 * renamed over it, which replaces a path and never follows one.
 */
import { accessSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';

export interface OutputFile {
  /** The absolute path that will be written. */
  readonly path: string;
  write(text: string): void;
}

export interface PrepareOutputOptions {
  /** What the file is, for messages: "report (-o)", "baseline". */
  what: string;
  /** The scanned repository or folder: a target inside it must stay inside it. */
  root: string;
  /** File mode of a newly written file. Default 0o644; 0o600 for anything private. */
  mode?: number;
}

export function prepareOutputFile(file: string, cwd: string, options: PrepareOutputOptions): OutputFile {
  const abs = path.resolve(cwd, file);
  const usage = (why: string, hint?: string): KeywardenError =>
    new KeywardenError(ErrorCode.USAGE, `Cannot write the ${options.what} to ${file}: ${why}.`, {
      fault: 'user',
      location: { file },
      ...(hint ? { hint } : {}),
    });
  const dir = path.dirname(abs);
  const dirStat = statSync(dir, { throwIfNoEntry: false });
  if (!dirStat) throw usage('its folder does not exist', 'Create the folder first, or choose another path.');
  if (!dirStat.isDirectory()) throw usage('its parent is not a folder');
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw usage('its folder is not writable');
  }
  const st = lstatSync(abs, { throwIfNoEntry: false });
  if (st?.isSymbolicLink()) throw usage('it is a symbolic link, and Keywarden never writes through one', 'Remove the link or choose another path.');
  if (st && !st.isFile()) throw usage(st.isDirectory() ? 'it is a folder' : 'it is not a regular file');
  const rootReal = realOr(options.root);
  const lexicallyInside = isInside(path.resolve(options.root), abs) || isInside(rootReal, abs);
  const realDir = realOr(dir);
  if (lexicallyInside && !isInside(rootReal, realDir)) throw usage(`its folder is a symbolic link that leads out of ${options.root}`);
  return {
    path: abs,
    write(text) {
      const tmp = path.join(realDir, `.${path.basename(abs)}.${randomBytes(6).toString('hex')}.tmp`);
      let fd: number | undefined;
      try {
        fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, options.mode ?? 0o644);
        // The mode given to open() is masked by the umask; a private file must be private whatever it is.
        if (options.mode !== undefined) fchmodSync(fd, options.mode);
        if (!fstatSync(fd).isFile()) throw usage('the temporary file is not a regular file');
        const bytes = Buffer.from(text, 'utf8');
        let at = 0;
        while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
        closeSync(fd);
        fd = undefined;
        const now = lstatSync(abs, { throwIfNoEntry: false });
        if (now?.isSymbolicLink() || (now && !now.isFile())) throw usage('it was replaced by a link or a special file during the scan');
        renameSync(tmp, path.join(realDir, path.basename(abs)));
      } catch (e) {
        if (fd !== undefined) closeSync(fd);
        rmSync(tmp, { force: true });
        if (e instanceof KeywardenError) throw e;
        const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
        throw new KeywardenError(ErrorCode.FILE_UNREADABLE, `Could not write the ${options.what} to ${file} (${code}).`, { fault: 'user', location: { file }, cause: e });
      }
    },
  };
}

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
