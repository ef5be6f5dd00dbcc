/**
 * The one place Keywarden runs git. A repository is hostile input: its `.git/config` can name
 * commands (`core.fsmonitor`, `diff.*.textconv`, `diff.external`, filters, `core.sshCommand`,
 * `gpg.program`, a promisor remote's transport, hooks) and settings that change what git prints
 * (`diff.noprefix`, `diff.relative`, `log.showRoot`, `core.worktree`, `core.excludesFile`).
 *
 * Every call here therefore:
 * - puts `-c` overrides on the command line (they win over every config file, includes too),
 *   switching off every configured command and every output-changing setting we rely on;
 * - runs with a clean environment for git: no system or global config, no pager, no prompts,
 *   no replace objects, no inherited `GIT_DIR`/`GIT_WORK_TREE`/`GIT_EXTERNAL_DIFF`, optional
 *   locks off (git never writes to the repository to refresh its index);
 * - never goes through a shell (arguments are an array) and puts `--end-of-options` or `--`
 *   before anything that came from a user.
 *
 * Security property: no command that a repository configures is run by any git invocation of
 * Keywarden. `test/git/hardening.test.ts` plants each kind and checks that none runs.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { isAbsolute } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, KeywardenError } from '../errors.js';

const NULL_DEVICE = process.platform === 'win32' ? 'NUL' : '/dev/null';

/** Overrides that win over the repository's own configuration. */
const HARDENING_CONFIG: readonly string[] = [
  // commands a repository can configure
  'core.fsmonitor=false',
  `core.hooksPath=${NULL_DEVICE}`,
  'core.sshCommand=false',
  'core.gitProxy=',
  'core.askPass=',
  'core.pager=cat',
  'core.editor=false',
  'core.alternateRefsCommand=',
  'credential.helper=',
  'diff.external=',
  'gpg.program=false',
  'gpg.ssh.program=false',
  'gpg.x509.program=false',
  'log.showSignature=false',
  // no transport at all: a partial clone's lazy fetch (and an ext:: remote) cannot start
  'protocol.allow=never',
  'protocol.ext.allow=never',
  'protocol.file.allow=never',
  'uploadpack.packObjectsHook=',
  'fetch.recurseSubmodules=false',
  'submodule.recurse=false',
  // settings that change the output we parse
  'core.quotePath=false',
  'core.precomposeUnicode=false',
  `core.attributesFile=${NULL_DEVICE}`,
  'core.untrackedCache=false',
  'diff.noprefix=false',
  'diff.mnemonicPrefix=false',
  'diff.relative=false',
  'diff.renames=false',
  'diff.ignoreSubmodules=none',
  'log.showRoot=true',
  'log.follow=false',
  'log.mailmap=false',
  'log.decorate=false',
  'color.ui=false',
  'i18n.logOutputEncoding=UTF-8',
  'safe.bareRepository=all',
];

/** Environment variables git reads that must not come from whoever started Keywarden. */
const DROPPED_ENV = /^(GIT_|PAGER$|LESS$|SSH_ASKPASS$|EDITOR$|VISUAL$)/;

/** The environment every git child runs with. */
export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!DROPPED_ENV.test(k)) env[k] = v;
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: NULL_DEVICE,
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
    // Grafts rewire parents (a commit could drop out of a range); replace objects are off above.
    GIT_GRAFT_FILE: NULL_DEVICE,
    GIT_NO_LAZY_FETCH: '1',
    GIT_PROTOCOL_FROM_USER: '0',
    LC_ALL: 'C',
  };
}

/** `git --no-pager -c … -C repo <args>`: the argument vector of every call. */
export function gitArgv(repo: string, args: readonly string[]): string[] {
  const argv = ['--no-pager', '--no-replace-objects', '--literal-pathspecs'];
  for (const c of HARDENING_CONFIG) argv.push('-c', c);
  argv.push('-C', repo, ...args);
  return argv;
}

export type GitChild = ChildProcessByStdio<Writable, Readable, Readable>;

/**
 * How long a git child may show no sign of life while Keywarden waits on it. A named pipe where
 * git expects a file (`.git/config`, `.git/HEAD`, a `.gitignore` in the work tree) blocks git
 * forever; the watchdog turns that into a typed failure. `KEYWARDEN_GIT_IDLE_TIMEOUT_MS` overrides it.
 */
function gitIdleTimeoutMs(): number {
  const v = Number(process.env.KEYWARDEN_GIT_IDLE_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 300_000;
}

function gitStalled(args: readonly string[], ms: number): KeywardenError {
  return new KeywardenError(
    ErrorCode.GIT_FAILED,
    `git ${args[0] ?? ''} showed no progress for ${Math.round(ms / 1000)} s and was stopped. A named pipe (FIFO) or a hung file system where git expects a file does this.`,
    { fault: 'user', hint: 'Look for FIFOs in the repository and its .git folder (find . -type p).' },
  );
}

/**
 * Options every call takes. `indexFile`: the index git reads instead of `.git/index`, for a hook
 * that git started with `GIT_INDEX_FILE` (`git commit -a` and `git commit <paths>` stage into a
 * temporary index). An absolute path; it is the only `GIT_` variable that ever reaches git.
 */
export interface GitCallOptions {
  indexFile?: string;
  /**
   * A network call (the App's fetch and push, nothing else): the one scheme allowed for it and the
   * HTTP `Authorization` header, passed to git through its environment (`GIT_CONFIG_*`), never on
   * the command line where other users could read it. Redirects are not followed.
   */
  remote?: { scheme: 'https' | 'http'; authorization: string };
}

function startGit(repo: string, args: readonly string[], stdin: boolean, call: GitCallOptions = {}): GitChild {
  const env = gitEnv();
  if (call.indexFile !== undefined) {
    if (!isAbsolute(call.indexFile) || /[\0\n\r]/.test(call.indexFile)) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'The index file for git must be an absolute path.', { fault: 'internal' });
    }
    env.GIT_INDEX_FILE = call.indexFile;
  }
  let argv = args;
  if (call.remote) {
    if (/[\0\r\n]/.test(call.remote.authorization)) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A git credential may not contain control characters.', { fault: 'internal' });
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = 'http.extraHeader';
    env.GIT_CONFIG_VALUE_0 = `Authorization: ${call.remote.authorization}`;
    argv = ['-c', `protocol.${call.remote.scheme}.allow=always`, '-c', 'http.followRedirects=false', '-c', 'gc.auto=0', '-c', 'maintenance.auto=false', ...args];
  }
  return spawn('git', gitArgv(repo, argv), {
    stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env,
    shell: false,
    windowsHide: true,
  }) as GitChild;
}

/** Re-armed by `touch`; on expiry kills the child and fails its stdout with a typed error. */
function watch(p: GitChild, args: readonly string[], ms: number): { touch: () => void; fired: () => boolean } {
  let fired = false;
  let timer: NodeJS.Timeout | undefined;
  const touch = (): void => {
    if (timer) clearTimeout(timer);
    if (p.exitCode !== null || p.signalCode !== null) return;
    timer = setTimeout(() => {
      fired = true;
      p.kill('SIGKILL');
      p.stdout.destroy(gitStalled(args, ms));
    }, ms);
    timer.unref();
  };
  p.on('close', () => timer && clearTimeout(timer));
  p.stderr.on('data', touch);
  touch();
  return { touch, fired: () => fired };
}

/**
 * Starts git with hardened arguments and environment; stdout and stdin are the caller's. A
 * watchdog stops the child if it shows no sign of life (`gitIdleTimeoutMs`): the caller's next
 * read from stdout then fails with `KW_GIT_FAILED`.
 */
export function spawnGit(repo: string, args: readonly string[], options: { stdin?: boolean } & GitCallOptions = {}): GitChild {
  const p = startGit(repo, args, Boolean(options.stdin), options);
  const w = watch(p, args, gitIdleTimeoutMs());
  // 'readable' (not 'data': that would switch the stream to flowing mode under its reader).
  p.stdout.on('readable', w.touch);
  return p;
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Stderr kept from a git child: enough for a message, bounded whatever git prints. */
const MAX_STDERR = 16 * 1024;

/**
 * Runs git to completion and returns its output as bytes (names in it may not be UTF-8).
 * `maxStdout` bounds memory: past it the child is killed and the call fails.
 */
export function runGit(repo: string, args: readonly string[], options: { maxStdout?: number; input?: string } & GitCallOptions = {}): Promise<GitResult> {
  const max = options.maxStdout ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const p = startGit(repo, args, options.input !== undefined, options);
    const w = watch(p, args, gitIdleTimeoutMs());
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let overflow = false;
    p.stdout.on('error', () => undefined);
    p.stdout.on('data', (d: Buffer) => {
      w.touch();
      size += d.length;
      if (size > max) {
        overflow = true;
        p.kill('SIGKILL');
        return;
      }
      chunks.push(d);
    });
    p.stderr.on('data', (d: Buffer) => {
      if (stderr.length < MAX_STDERR) stderr += d.toString('utf8');
    });
    p.on('error', (e) => reject(gitMissing(e)));
    p.on('close', (code) => {
      if (w.fired()) {
        reject(gitStalled(args, gitIdleTimeoutMs()));
        return;
      }
      if (overflow) {
        reject(new KeywardenError(ErrorCode.GIT_FAILED, `git ${args[0] ?? ''} printed more than ${max} bytes; stopped.`, { fault: 'internal' }));
        return;
      }
      resolve({ code: code ?? 1, stdout: Buffer.concat(chunks, Math.min(size, max)), stderr });
    });
    if (options.input !== undefined) {
      p.stdin.on('error', () => undefined);
      p.stdin.end(options.input);
    }
  });
}

export function gitMissing(cause: unknown): KeywardenError {
  return new KeywardenError(ErrorCode.GIT_FAILED, 'Could not run git. Install git and make sure it is on PATH.', { cause, fault: 'config' });
}

/** The first non-empty line of git's stderr, for a message (never file content: git prints paths and refs). */
export function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim()) ?? '').slice(0, 300);
}

/** True if `dir` is inside a git work tree (not a bare repository, not `.git` itself). */
export async function isInsideWorkTree(dir: string): Promise<boolean> {
  try {
    const r = await runGit(dir, ['rev-parse', '--is-inside-work-tree'], { maxStdout: 1024 });
    return r.code === 0 && r.stdout.toString('utf8').trim() === 'true';
  } catch {
    return false;
  }
}

/** The top of the work tree that contains `dir`. */
export async function gitTopLevel(dir: string): Promise<string> {
  const r = await runGit(dir, ['rev-parse', '--show-toplevel'], { maxStdout: 64 * 1024 });
  const top = r.stdout.toString('utf8').trim();
  if (r.code !== 0 || !top) throw new KeywardenError(ErrorCode.NOT_A_GIT_REPO, `${dir} is not inside a git work tree.`, { location: { file: dir } });
  return top;
}
