/**
 * Reading a policy: the YAML file and its `extends:` chain (paths relative to each file, inside
 * one `PolicySource`; cycles and depth refused), and the custom `.rego` modules of the repo's
 * `policies/` folder.
 *
 * Security properties: every file of the chain is read through the source, so an `extends:`
 * entry can name neither an absolute path, nor a `..` escape, nor a symlink out of the
 * repository; and a file named by `extends:` that is not a policy (not YAML, or no `version: 1`)
 * is reported by name, line and column only, never by its content.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, KeywardenError } from '../../errors.js';
import type { PolicyAst } from '../dsl/ast.js';
import { mergePolicies } from '../dsl/merge.js';
import { validatePolicy, type ParsePolicyOptions } from '../dsl/parse.js';
import { PolicyError } from '../dsl/policy-error.js';
import { createDiskPolicySource, normalizeSourcePath, type PolicySource } from '../source.js';
import type { RegoModule } from './build.js';

import { DEFAULT_POLICY_FILE } from '../default-file.js';

export { DEFAULT_POLICY_FILE };
const MAX_EXTENDS_DEPTH = 8;

/** The built-in policy packs (`extends: [keywarden:<name>]`): `policies/<name>.yml` of the package (src/policy/engine and dist/policy/engine sit three levels below its root). */
const PACKS_DIR = fileURLToPath(new URL('../../../policies/', import.meta.url));
const PACK = 'keywarden:';
const PACK_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The names of the built-in policy packs, for `extends: [keywarden:<name>]`. */
export async function policyPacks(): Promise<string[]> {
  return (await readdir(PACKS_DIR)).filter((f) => f.endsWith('.yml') && PACK_NAME.test(f.slice(0, -4))).map((f) => f.slice(0, -4)).sort();
}

async function readPack(name: string, at: { file: string; line: number; column: number }): Promise<string> {
  const known = await policyPacks();
  if (!PACK_NAME.test(name) || !known.includes(name))
    throw new KeywardenError(ErrorCode.POLICY_EXTENDS, `\`extends: ${PACK}${name.slice(0, 64)}\` names no built-in policy pack.`, {
      fault: 'config',
      hint: `The packs are: ${known.map((k) => PACK + k).join(', ')}.`,
      location: at,
      details: { reason: 'unknown-pack' },
    });
  return readFile(join(PACKS_DIR, `${name}.yml`), 'utf8');
}

export interface ReadPolicyOptions extends Omit<ParsePolicyOptions, 'file'> {
  /**
   * Without `source`: `file` is relative to this folder and locations are shown relative to it.
   * Default: the current directory.
   */
  cwd?: string;
  /**
   * Where the policy and every file its `extends:` names are read from. With a source, `file` is
   * a source-relative POSIX path and locations show source-relative paths.
   *
   * Default: a disk source rooted at the top of the git work tree that holds `file` (the nearest
   * folder above it with a `.git`); outside a work tree, at `cwd` when `file` is inside it, else
   * at the folder of `file`. So `extends:` may reach any file of the repository, and nothing else.
   */
  source?: PolicySource;
  /** Called with each policy file of the chain once it parsed (shown name, text): e.g. to print source lines. */
  onFile?: (file: string, text: string) => void;
}

/**
 * Read, validate and resolve `extends:` into one AST. Throws `PolicyError` with every problem, or
 * a `KeywardenError` (`KW_PATH_NOT_FOUND`, `KW_PATH_REFUSED`, `KW_POLICY_EXTENDS`, …).
 *
 * @example
 * const ast = await readPolicy('.github/keywarden.yml', { source: createGitPolicySource(repo, 'origin/main') });
 */
export async function readPolicy(file: string, options: ReadPolicyOptions = {}): Promise<PolicyAst> {
  const { cwd: cwdOption, source: sourceOption, onFile, ...parseOptions } = options;
  const cwd = cwdOption ?? process.cwd();
  let source: PolicySource;
  let rootRel: string;
  let display: (rel: string) => string;
  if (sourceOption) {
    source = sourceOption;
    rootRel = normalizeSourcePath(file, source.name);
    display = (rel) => rel;
  } else {
    const abs = resolve(cwd, file);
    const root = await defaultRoot(abs, cwd);
    source = createDiskPolicySource(root);
    rootRel = relative(root, abs).split(sep).join('/');
    display = (rel) => (rel === rootRel ? file : relative(cwd, join(root, ...rel.split('/'))) || rel);
  }

  const seen: string[] = [];
  const load = async (rel: string, depth: number, from?: { file: string; line: number; column: number }): Promise<PolicyAst> => {
    const shown = rel.startsWith(PACK) ? rel : display(rel);
    if (seen.includes(rel))
      throw new KeywardenError(ErrorCode.POLICY_EXTENDS, `The policy extends itself through ${shown}.`, { fault: 'config', hint: 'Remove the cycle in `extends:`.', ...(from ? { location: from } : {}) });
    if (depth > MAX_EXTENDS_DEPTH)
      throw new KeywardenError(ErrorCode.POLICY_EXTENDS, `The extends: chain is deeper than ${MAX_EXTENDS_DEPTH}.`, { fault: 'config', hint: 'Flatten the chain of org defaults.', ...(from ? { location: from } : {}) });
    seen.push(rel);
    let text: string | undefined;
    try {
      // A pack is read from the package, never from the repository (a file named `keywarden:x` there is not one).
      text = rel.startsWith(PACK) && from ? await readPack(rel.slice(PACK.length), from) : await source.read(rel);
    } catch (e) {
      if (!(e instanceof KeywardenError)) throw e;
      if (e.code === ErrorCode.POLICY_EXTENDS) throw e;
      if (from)
        throw new KeywardenError(ErrorCode.POLICY_EXTENDS, `\`extends:\` names ${shown}, which cannot be read: ${e.message}`, {
          fault: 'config',
          hint: e.hint ?? 'Paths in `extends:` are relative to the file that names them.',
          location: from,
          details: { ...e.details, code: e.code },
        });
      throw new KeywardenError(e.code, e.message, { fault: e.fault, ...(e.hint ? { hint: e.hint } : {}), location: { file: shown }, ...(e.details ? { details: e.details } : {}) });
    }
    if (text === undefined) {
      if (from)
        throw new KeywardenError(ErrorCode.POLICY_EXTENDS, `The extended policy ${shown} does not exist.`, { fault: 'config', hint: 'Paths in `extends:` are relative to the file that names them.', location: from });
      throw new KeywardenError(ErrorCode.PATH_NOT_FOUND, `The policy file ${shown} does not exist.`, { hint: `Create it, or pass the path (default ${DEFAULT_POLICY_FILE}).`, location: { file: shown } });
    }
    const r = validatePolicy(text, { ...parseOptions, file: shown });
    if (!r.ok) {
      // A file named by `extends:` that does not claim to be a policy may be anything (a key, a
      // password file): report where, never what.
      if (from && !r.versioned) throw new PolicyError([notAPolicy(shown, r.errors[0], from)]);
      throw new PolicyError(r.errors);
    }
    onFile?.(shown, text);
    let ast = r.ast;
    for (const ext of ast.extends) {
      const at = { file: ext.loc.file, line: ext.loc.line, column: ext.loc.column };
      const parent = await load(resolveExtends(ext.value, rel, source.name, at), depth + 1, at);
      ast = mergePolicies(parent, ast);
    }
    seen.pop();
    return ast;
  };
  return load(rootRel, 0);
}

/** The source-relative path an `extends:` entry names, or a `KW_POLICY_EXTENDS` error at the entry. */
function resolveExtends(value: string, fromRel: string, sourceName: string, at: { file: string; line: number; column: number }): string {
  const bad = (reason: string, message: string, hint: string): KeywardenError =>
    new KeywardenError(ErrorCode.POLICY_EXTENDS, message, { fault: 'config', hint, location: at, details: { reason } });
  if (value.startsWith(PACK)) return value;
  if (fromRel.startsWith(PACK)) throw bad('pack-relative', `The built-in pack ${fromRel} extends ${value}, which is not a pack.`, 'A pack extends other packs only.');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) throw bad('url', '`extends:` names a URL; only files of the repository can be extended.', 'Name a path relative to this policy file.');
  if (value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(value) || value.startsWith('\\'))
    throw bad('absolute', '`extends:` names an absolute path; only files of the repository can be extended.', 'Name a path relative to this policy file, e.g. `extends: [org-defaults.yml]`.');
  const joined = posix.normalize(posix.join(posix.dirname(fromRel), value));
  if (joined === '..' || joined.startsWith('../'))
    throw bad('escape', `\`extends:\` names a path that leaves ${sourceName} (\`..\`).`, 'Keep extended policies inside the repository.');
  return joined;
}

function notAPolicy(file: string, first: KeywardenError | undefined, from: { file: string; line: number; column: number }): KeywardenError {
  const reason = typeof first?.details?.reason === 'string' ? first.details.reason : 'yaml';
  const why =
    reason === 'too-large' || reason === 'too-many-nodes'
      ? 'it is too large'
      : reason === 'binary' || reason === 'not-text'
        ? 'it looks like a binary file'
        : reason.startsWith('yaml') || reason === 'too-deep' || reason === 'alias-limit'
          ? 'it is not valid YAML'
          : 'it has no `version: 1`';
  const line = first?.location?.line ?? 1;
  const column = first?.location?.column ?? 1;
  return new KeywardenError(ErrorCode.POLICY_EXTENDS, `${file} is not a Keywarden policy (${why}, at line ${line}, column ${column}); it is named in \`extends:\` at ${from.file}:${from.line}:${from.column}.`, {
    fault: 'config',
    hint: 'Point `extends:` at a policy file: YAML with `version: 1`.',
    location: { file, line, column },
    details: { reason: 'not-a-policy', extendedFrom: from },
  });
}

/** The folder a default disk source is rooted at (see `ReadPolicyOptions.source`). */
async function defaultRoot(abs: string, cwd: string): Promise<string> {
  for (let dir = dirname(abs); ; dir = dirname(dir)) {
    if (await lstat(join(dir, '.git')).then(
      () => true,
      () => false,
    ))
      return dir;
    if (dirname(dir) === dir) break;
  }
  const c = resolve(cwd);
  return abs.startsWith(c.endsWith(sep) ? c : c + sep) ? c : dirname(abs);
}

/** Every `.rego` file under `dir` (sorted, test files included only when asked). */
export async function readRegoModules(dir: string, options: { cwd?: string; tests?: boolean } = {}): Promise<RegoModule[]> {
  const cwd = options.cwd ?? process.cwd();
  const root = resolve(cwd, dir);
  const out: RegoModule[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p, depth + 1);
      else if (e.isFile() && e.name.endsWith('.rego') && (options.tests || !e.name.endsWith('_test.rego'))) out.push({ path: relative(cwd, p), text: await readFile(p, 'utf8') });
    }
  };
  await walk(root, 0);
  return out;
}
