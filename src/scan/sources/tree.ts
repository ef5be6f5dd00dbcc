/**
 * The files of a tree, honouring `.gitignore`. Inside a git work tree, git itself lists the
 * files (tracked plus untracked-but-not-ignored), which is exact and fast; elsewhere a walker
 * applies every `.gitignore` it meets with the `ignore` package.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { ErrorCode, KeywardenError } from '../../errors.js';

export interface TreeEntry {
  abs: string;
  /** Relative to the scan root, forward slashes. */
  rel: string;
}

export interface ListTreeOptions {
  /** Honour .gitignore files (default true). */
  gitignore?: boolean;
}

/** Lists the files to scan under `root` (a directory or a single file). */
export async function* listTree(root: string, options: ListTreeOptions = {}): AsyncGenerator<TreeEntry[]> {
  let st;
  try {
    st = statSync(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KeywardenError(
      code === 'ENOENT' ? ErrorCode.PATH_NOT_FOUND : ErrorCode.FILE_UNREADABLE,
      code === 'ENOENT' ? `Path not found: ${root}. Check the path you gave to scan.` : `Cannot read ${root} (${code ?? 'error'}).`,
      { location: { file: root } },
    );
  }
  if (st.isFile()) {
    yield [{ abs: path.resolve(root), rel: path.basename(root) }];
    return;
  }
  const useGitignore = options.gitignore ?? true;
  if (useGitignore && (await isInsideWorkTree(root))) {
    yield* gitListFiles(root);
    return;
  }
  yield* walk(path.resolve(root), useGitignore);
}

async function isInsideWorkTree(dir: string): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('git', ['-C', dir, 'rev-parse', '--is-inside-work-tree'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', () => resolve(false));
    p.on('close', (code) => resolve(code === 0 && out.trim() === 'true'));
  });
}

async function* gitListFiles(root: string): AsyncGenerator<TreeEntry[]> {
  const abs = path.resolve(root);
  // Ask for the top level first: a child's unread stdout is drained and lost once it exits.
  const top = await gitTopLevel(abs);
  const p = spawn('git', ['-C', abs, '-c', 'core.quotePath=false', 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--full-name', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // --full-name gives paths from the repo top; make them relative to the scan root.
  const prefix = path.relative(top, abs).split(path.sep).join('/');
  let rest = '';
  let batch: TreeEntry[] = [];
  const seen = new Set<string>();
  for await (const chunk of p.stdout as AsyncIterable<Buffer>) {
    const parts = (rest + chunk.toString('utf8')).split('\0');
    rest = parts.pop() ?? '';
    for (const full of parts) {
      if (!full || seen.has(full)) continue;
      seen.add(full); // ls-files lists a path once per stage during a merge conflict
      const rel = prefix ? full.slice(prefix.length + 1) : full;
      batch.push({ abs: path.join(top, full), rel });
      if (batch.length >= 256) {
        yield batch;
        batch = [];
      }
    }
  }
  if (rest) batch.push({ abs: path.join(top, rest), rel: prefix ? rest.slice(prefix.length + 1) : rest });
  if (batch.length) yield batch;
}

function gitTopLevel(dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('git', ['-C', dir, 'rev-parse', '--show-toplevel'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', () => resolve(out.trim() || dir));
  });
}

interface Frame {
  dir: string;
  rel: string;
  rules: { base: string; ig: Ignore }[];
}

async function* walk(root: string, useGitignore: boolean): AsyncGenerator<TreeEntry[]> {
  const stack: Frame[] = [{ dir: root, rel: '', rules: [] }];
  let batch: TreeEntry[] = [];
  while (stack.length) {
    const frame = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(frame.dir, { withFileTypes: true });
    } catch {
      continue; // unreadable directory: nothing to list
    }
    let rules = frame.rules;
    if (useGitignore && entries.some((e) => e.name === '.gitignore' && e.isFile())) {
      try {
        const ig = ignore().add(readFileSync(path.join(frame.dir, '.gitignore'), 'utf8'));
        rules = [...rules, { base: frame.rel, ig }];
      } catch {
        // an unreadable .gitignore ignores nothing
      }
    }
    for (const e of entries) {
      if (e.name === '.git') continue;
      const rel = frame.rel ? `${frame.rel}/${e.name}` : e.name;
      const isDir = e.isDirectory();
      if (useGitignore && isIgnored(rules, rel, isDir)) continue;
      if (isDir) stack.push({ dir: path.join(frame.dir, e.name), rel, rules });
      else if (e.isFile()) {
        batch.push({ abs: path.join(frame.dir, e.name), rel });
        if (batch.length >= 256) {
          yield batch;
          batch = [];
        }
      }
    }
  }
  if (batch.length) yield batch;
}

function isIgnored(rules: Frame['rules'], rel: string, isDir: boolean): boolean {
  for (const { base, ig } of rules) {
    const sub = base ? rel.slice(base.length + 1) : rel;
    if (ig.ignores(isDir ? `${sub}/` : sub)) return true;
  }
  return false;
}
