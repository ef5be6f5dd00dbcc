/**
 * `scanText`: scan a string in this thread. Convenience over `scanBytes` for tests and SDK users;
 * without `detectors` or `ruleset` it uses the built-in catalogue, compiled on first use (nothing
 * happens when the module is imported).
 */
import { builtinDetectors } from './detectors/index.js';
import { createRuleset, scanBytes, type Ruleset } from './engine.js';
import type { Detector, Finding } from './types.js';

export interface ScanTextOptions {
  detectors?: readonly Detector[];
  ruleset?: Ruleset;
  file?: string;
  inlineAllow?: boolean;
}

let builtin: Ruleset | undefined;

/** The built-in catalogue's ruleset, compiled once. */
function builtinRuleset(): Ruleset {
  builtin ??= createRuleset(builtinDetectors);
  return builtin;
}

/**
 * @example
 * const findings = scanText(source, { file: 'config.js' });
 */
export function scanText(text: string, options: ScanTextOptions = {}): Finding[] {
  const ruleset = options.ruleset ?? (options.detectors ? createRuleset(options.detectors) : builtinRuleset());
  return scanBytes(Buffer.from(text, 'utf8'), ruleset, {
    file: options.file ?? '-',
    ...(options.inlineAllow === undefined ? {} : { inlineAllow: options.inlineAllow }),
  }).findings;
}
