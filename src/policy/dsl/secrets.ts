/**
 * The policy's `secrets:` block as the scanner reads it: which detectors to run, which paths to
 * skip, and the leak rules. Data only; custom detectors are patterns, never code.
 */
import type { CustomDetectorSpec } from '../../scan/types.js';
import type { LeakRule, PolicyAst } from './ast.js';

export interface SecretsConfig {
  /** Named detector sets (`recommended`; `none` turns the built-in set off). */
  presets: string[];
  /** Custom detectors, shaped like `CustomDetectorSpec` from src/scan/types.ts. */
  custom: CustomDetectorSpec[];
  /** Globs of paths the scanner must skip (OPA `glob.match` semantics, `*` crosses `/`). */
  ignorePaths: string[];
  onLeak: LeakRule[];
}

/**
 * @example
 * const { presets, custom, ignorePaths } = getSecretsConfig(await readPolicy('.github/keywarden.yml'));
 */
export function getSecretsConfig(ast: PolicyAst): SecretsConfig {
  const presets: string[] = [];
  const custom: CustomDetectorSpec[] = [];
  for (const d of ast.secrets.detectors) {
    if (d.kind === 'preset') presets.push(d.name);
    else {
      const { kind: _kind, loc: _loc, ...spec } = d;
      custom.push(spec);
    }
  }
  return { presets: presets.length > 0 || custom.length > 0 ? presets : ['recommended'], custom, ignorePaths: [...ast.secrets.ignorePaths], onLeak: ast.secrets.onLeak };
}
