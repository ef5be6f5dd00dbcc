/**
 * Reading a policy from disk: the YAML file, the `extends:` chain (paths relative to each file,
 * cycles and depth refused), and the custom `.rego` modules of the repo's `policies/` folder.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { ErrorCode, KeywardenError } from '../../errors.js';
import type { PolicyAst } from '../dsl/ast.js';
import { mergePolicies } from '../dsl/merge.js';
import { parsePolicy, type ParsePolicyOptions } from '../dsl/parse.js';
import type { RegoModule } from './build.js';

import { DEFAULT_POLICY_FILE } from '../default-file.js';

export { DEFAULT_POLICY_FILE };
const MAX_EXTENDS_DEPTH = 8;

export interface ReadPolicyOptions extends Omit<ParsePolicyOptions, 'file'> {
  /** Paths in messages are shown relative to this folder. Default: the current directory. */
  cwd?: string;
}

export async function readPolicyText(file: string, cwd: string): Promise<string> {
  const abs = resolve(cwd, file);
  const st = await stat(abs).catch(() => undefined);
  if (!st) throw new KeywardenError(ErrorCode.PATH_NOT_FOUND, `The policy file ${file} does not exist.`, { hint: `Create it, or pass the path (default ${DEFAULT_POLICY_FILE}).`, location: { file } });
  if (!st.isFile()) throw new KeywardenError(ErrorCode.FILE_UNREADABLE, `${file} is not a file.`, { hint: 'Pass the YAML policy file.', location: { file } });
  if (st.size > 1024 * 1024)
    throw new KeywardenError(ErrorCode.POLICY_TOO_LARGE, `The policy file ${file} is ${st.size} bytes.`, { fault: 'config', hint: 'A key policy is a few kilobytes.', location: { file, line: 1, column: 1 } });
  return readFile(abs, 'utf8');
}

/** Read, validate and resolve `extends:` into one AST. Throws `PolicyError` with every problem. */
export async function readPolicy(file: string, options: ReadPolicyOptions = {}): Promise<PolicyAst> {
  const cwd = options.cwd ?? process.cwd();
  const seen: string[] = [];
  const load = async (f: string, depth: number, from?: { file: string; line: number; column: number }): Promise<PolicyAst> => {
    const abs = resolve(cwd, f);
    if (seen.includes(abs))
      throw new KeywardenError(ErrorCode.POLICY_EXTENDS, `The policy extends itself through ${f}.`, { fault: 'config', hint: 'Remove the cycle in `extends:`.', ...(from ? { location: from } : {}) });
    if (depth > MAX_EXTENDS_DEPTH)
      throw new KeywardenError(ErrorCode.POLICY_EXTENDS, `The extends: chain is deeper than ${MAX_EXTENDS_DEPTH}.`, { fault: 'config', hint: 'Flatten the chain of org defaults.', ...(from ? { location: from } : {}) });
    seen.push(abs);
    let text: string;
    try {
      text = await readPolicyText(f, cwd);
    } catch (e) {
      if (from && e instanceof KeywardenError && e.code === ErrorCode.PATH_NOT_FOUND)
        throw new KeywardenError(ErrorCode.POLICY_EXTENDS, `The extended policy ${f} does not exist.`, { fault: 'config', hint: 'Paths in `extends:` are relative to the file that names them.', location: from });
      throw e;
    }
    const { cwd: _c, ...parseOptions } = options;
    let ast = parsePolicy(text, { ...parseOptions, file: f });
    for (const ext of ast.extends) {
      const parentFile = relative(cwd, resolve(dirname(abs), ext.value)) || ext.value;
      const parent = await load(parentFile, depth + 1, { file: ext.loc.file, line: ext.loc.line, column: ext.loc.column });
      ast = mergePolicies(parent, ast);
    }
    seen.pop();
    return ast;
  };
  return load(file, 0);
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
