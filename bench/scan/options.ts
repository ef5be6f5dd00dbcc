/** Command-line options of `npm run bench:scan`. */
import { parseArgs } from 'node:util';
import * as path from 'node:path';

/**
 * `secretlint` is the CLI as shipped; `secretlint-noprof` is the same CLI with its always-on
 * profiler made a no-op (what upstream's fix for secretlint#1633 does), so the comparison also
 * holds against a secretlint without that O(files²) overhead.
 */
export type ToolName = 'keywarden' | 'gitleaks' | 'secretlint' | 'secretlint-noprof';
export const TOOL_NAMES: readonly ToolName[] = ['keywarden', 'gitleaks', 'secretlint', 'secretlint-noprof'];

export interface BenchOptions {
  quick: boolean;
  seed: string;
  /** Target corpus size in MB (10^6 bytes) of copied source text, before planting. */
  sizeMB: number;
  secrets: number;
  /** Timed runs per tool for Keywarden and Gitleaks; the median is reported. */
  runs: number;
  tools: ToolName[];
  /** Share of the corpus files that secretlint as shipped scans (its time grows with files², so never all of a big corpus). */
  secretlintSample: number;
  /**
   * Seconds secretlint with the profiler off may take on the whole corpus: a pilot on 2% of the
   * files projects its time, and over budget it scans a 10% sample instead.
   */
  secretlintBudget: number;
  rebuild: boolean;
  /** Build (or check) the corpus and stop. */
  buildOnly: boolean;
  workDir: string;
  /** Write the `### Scan` section of docs/benchmarks.md. */
  docs: boolean;
  /** Extra arguments for `keywarden scan`. */
  keywardenArgs: string[];
  /** The Keywarden launcher to run (default bin/keywarden.js), to compare another build. */
  keywardenBin: string;
  /** Also scan the adversarial inputs (adversarial.ts): default on, off with --quick. */
  adversarial: boolean;
  /** Scan only the adversarial inputs (and write only their part of the docs). */
  adversarialOnly: boolean;
  /** Seconds after which one tool's run on one adversarial input is stopped. */
  adversarialTimeout: number;
  /** A Gitleaks binary to run instead of the release-equivalent build (see tools.ts). */
  gitleaksBin: string | undefined;
  repoRoot: string;
}

export const USAGE = `Usage: npm run bench:scan -- [options]

Builds (or reuses) a corpus of real source text with planted fake secrets under bench/.work/,
then times Keywarden, Gitleaks and secretlint on it side by side and scores their findings.

Options:
  --quick                 20 MB corpus, 200 secrets, one timed run per tool, no docs update
  --seed <s>              corpus seed (default 1)
  --size <MB>             corpus size in MB of copied text (default 220; quick 20)
  --secrets <n>           planted secrets (default 1200; quick 200)
  --runs <n>              timed runs of Keywarden and Gitleaks, median reported (default 3; quick 1)
  --tools <list>          comma-separated subset of keywarden,gitleaks,secretlint,secretlint-noprof
                          (secretlint-noprof: secretlint with its always-on profiler disabled)
  --no-secretlint         same as --tools keywarden,gitleaks
  --secretlint-sample <f> share of the files secretlint as shipped scans (default 0.1)
  --secretlint-budget <s> seconds secretlint-noprof may take on the whole corpus before it
                          falls back to a 10% sample (default 600; quick 60)
  --keywarden-arg <a>     extra argument for keywarden scan (repeatable)
  --keywarden-bin <file>  Keywarden launcher to run (default bin/keywarden.js, which needs npm run build)
  --gitleaks-bin <file>   Gitleaks binary to run (default: a release-equivalent build, see bench/scan/tools.ts)
  --adversarial / --no-adversarial
                          also time the adversarial inputs of bench/scan/adversarial.ts (one long
                          line of keywords, 8 MB with no newline, 50 MB of keyword lines, near-miss
                          tokens, endless PEM headers; default on, off with --quick; quick runs use ¼ sizes)
  --adversarial-only      only the adversarial inputs; writes only their table in the docs
  --adversarial-timeout <s> stop one tool's run on one adversarial input after this (default 300)
  --rebuild               rebuild the corpus even if its stamp matches
  --build-only            build (or reuse) the corpus, print where it is, and stop
  --work <dir>            work folder (default bench/.work)
  --docs / --no-docs      write the ### Scan section of docs/benchmarks.md (default: on, off with --quick)
  -h, --help              this text
`;

export function parseOptions(argv: string[], repoRoot: string): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      size: { type: 'string' },
      secrets: { type: 'string' },
      runs: { type: 'string' },
      tools: { type: 'string' },
      'no-secretlint': { type: 'boolean', default: false },
      'secretlint-sample': { type: 'string', default: '0.1' },
      'secretlint-budget': { type: 'string' },
      'keywarden-arg': { type: 'string', multiple: true, default: [] },
      'keywarden-bin': { type: 'string' },
      'gitleaks-bin': { type: 'string' },
      adversarial: { type: 'boolean' },
      'no-adversarial': { type: 'boolean', default: false },
      'adversarial-only': { type: 'boolean', default: false },
      'adversarial-timeout': { type: 'string' },
      rebuild: { type: 'boolean', default: false },
      'build-only': { type: 'boolean', default: false },
      work: { type: 'string' },
      docs: { type: 'boolean' },
      'no-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  const num = (name: string, raw: string | undefined, dflt: number, min: number): number => {
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got "${raw}"`);
    return n;
  };
  let tools: ToolName[] = [...TOOL_NAMES];
  if (values.tools !== undefined) {
    tools = values.tools.split(',').map((t) => t.trim()).filter(Boolean) as ToolName[];
    for (const t of tools) if (!TOOL_NAMES.includes(t)) throw new Error(`--tools: unknown tool "${t}" (known: ${TOOL_NAMES.join(', ')})`);
  }
  if (values['no-secretlint']) tools = tools.filter((t) => !t.startsWith('secretlint'));
  const sampleRaw = values['secretlint-sample'] ?? '0.1';
  const secretlintSample = Number(sampleRaw);
  if (!(secretlintSample > 0 && secretlintSample <= 1)) throw new Error(`--secretlint-sample must be a fraction in (0, 1], got "${sampleRaw}"`);
  return {
    quick,
    seed: values.seed ?? '1',
    sizeMB: num('size', values.size, quick ? 20 : 220, 1),
    secrets: Math.floor(num('secrets', values.secrets, quick ? 200 : 1200, 1)),
    runs: Math.floor(num('runs', values.runs, quick ? 1 : 3, 1)),
    tools,
    secretlintSample,
    secretlintBudget: num('secretlint-budget', values['secretlint-budget'], quick ? 60 : 600, 1),
    adversarial: values['no-adversarial'] ? false : (values.adversarial ?? (values['adversarial-only'] || !quick)),
    adversarialOnly: values['adversarial-only'] ?? false,
    adversarialTimeout: num('adversarial-timeout', values['adversarial-timeout'], 300, 1),
    rebuild: values.rebuild ?? false,
    buildOnly: values['build-only'] ?? false,
    workDir: path.resolve(repoRoot, values.work ?? 'bench/.work'),
    docs: values['no-docs'] ? false : (values.docs ?? !quick),
    keywardenArgs: values['keywarden-arg'] ?? [],
    keywardenBin: path.resolve(repoRoot, values['keywarden-bin'] ?? 'bin/keywarden.js'),
    gitleaksBin: values['gitleaks-bin'] === undefined ? undefined : path.resolve(repoRoot, values['gitleaks-bin']),
    repoRoot,
  };
}
