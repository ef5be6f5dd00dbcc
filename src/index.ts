/**
 * The Keywarden SDK: everything other programs import. Re-exports only.
 *
 * @example
 * import { scan } from 'keywarden';
 * const { findings } = await scan({ path: '.', git: { range: 'origin/main..HEAD' } });
 * for (const f of findings) console.log(f.file, f.startLine, f.ruleId, f.redacted);
 */
import { createRuleset, setDefaultRuleset } from './scan/engine.js';
import { builtinDetectors } from './scan/detectors/index.js';

setDefaultRuleset(createRuleset(builtinDetectors));

export { ErrorCode, KeywardenError, UnsupportedError, isKeywardenError, type Fault } from './errors.js';
export { scan, type ScanOptions, type ScanProgress } from './scan/scan.js';
export { scanText, scanBytes, createRuleset, type Ruleset, type ScanTextOptions } from './scan/engine.js';
export { builtinDetectors } from './scan/detectors/index.js';
export { selectDetectors, compileCustomDetector, type DetectorSelection } from './scan/select-detectors.js';
export { parseBaseline, applyBaseline, createBaseline, formatBaseline, type Baseline, type BaselineEntry } from './scan/baseline.js';
export { formatSarif } from './scan/format/sarif.js';
export { fingerprintSecret, redactSecret, maskSecrets } from './scan/redact.js';
export type * from './scan/types.js';
