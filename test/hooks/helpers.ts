/**
 * What the hook tests share: git run the way a developer runs it (hooks on, but no global or
 * system config of the machine running the tests), and the CLI in process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { gitTestEnv } from '../helpers/git-repo.js';

const root = path.resolve(import.meta.dirname, '../..');

/** The installed hooks run bin/keywarden.js, which runs dist/: the build must be there. */
export function assertBuilt(): void {
  if (!existsSync(path.join(root, 'dist', 'hooks', 'run.js'))) throw new Error('dist/ is missing or stale: run "npm run build" before the hook tests.');
}

/** An environment for git and the hooks it starts: a fixed identity, a home of its own. */
export function devEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(gitTestEnv)) if (!k.startsWith('KEYWARDEN_') && !k.startsWith('GIT_CONFIG') && k !== 'NO_COLOR') env[k] = v;
  return { ...env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), GIT_CONFIG_NOSYSTEM: '1', ...extra };
}

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** git with the repository's hooks on (the helper in git-repo.ts turns them off). */
export function devGit(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Run {
  const r = spawnSync('git', args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status ?? 1, out: r.stdout, err: r.stderr };
}

export async function kw(cwd: string, env: NodeJS.ProcessEnv, args: string[], stdin?: string): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    isTTY: false,
    cwd,
    env,
    ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
  });
  return { code, out, err };
}
