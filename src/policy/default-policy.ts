/**
 * The built-in default policy (`policies/default.yml`, shipped with the package): what a
 * repository without a policy file is held to. Read from the package, never from the repository.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PolicyAst } from './dsl/ast.js';
import { parsePolicy } from './dsl/parse.js';

// src/policy/ and dist/policy/ both sit two levels below the package root.
const FILE = fileURLToPath(new URL('../../policies/default.yml', import.meta.url));

let cached: PolicyAst | undefined;

export function defaultPolicy(): PolicyAst {
  cached ??= parsePolicy(readFileSync(FILE, 'utf8'), { file: 'keywarden:default' });
  return cached;
}
