/** Command-line options of `npm run bench:scan`. */
import { parseArgs } from 'node:util';
import * as path from 'node:path';

export type ToolName = 'keywarden' | 'gitleaks' | 'secretlint';
export const TOOL_NAMES: readonly ToolName[] = ['keywarden', 'gitleaks', 'secretlint'];

export interface BenchOptions {
  quick: boolean;
  seed: string;
  /** Target corpus size in MB (10^6 bytes) of copied source text, before planting. */
  sizeMB: number;
  secrets: number;
  /** Timed runs per tool for Keywarden and Gitleaks; the median is reported. */
  runs: number;
  tools: ToolName[];
  /** `auto`: pilot on a 2% sample, then the whole corpus if the projection is under the budget, else a 10% sample. */
  secretlintSample: 'auto' | number;
  /** Seconds secretlint may take on the whole corpus before `auto` falls back to a sample. */
  secretlintBudget: number;
  rebuild: boolean;
  workDir: string;
  /** Write the `### Scan` section of docs/benchmarks.md. */
  docs: boolean;
  /** Extra arguments for `keywarden scan`. */
  keywardenArgs: string[];
  /** The Keywarden launcher to run (default bin/keywarden.js), to compare another build. */
  keywardenBin: string;
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
  --tools <list>          comma-separated subset of keywarden,gitleaks,secretlint
  --no-secretlint         same as --tools keywarden,gitleaks
  --secretlint-sample <f> auto (default) or a fraction in (0,1] of the corpus files for secretlint
  --secretlint-budget <s> seconds secretlint may take on the whole corpus in auto mode (default 600; quick 60)
  --keywarden-arg <a>     extra argument for keywarden scan (repeatable)
  --keywarden-bin <file>  Keywarden launcher to run (default bin/keywarden.js, which needs npm run build)
  --rebuild               rebuild the corpus even if its stamp matches
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
      'secretlint-sample': { type: 'string', default: 'auto' },
      'secretlint-budget': { type: 'string' },
      'keywarden-arg': { type: 'string', multiple: true, default: [] },
      'keywarden-bin': { type: 'string' },
      rebuild: { type: 'boolean', default: false },
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
  if (values['no-secretlint']) tools = tools.filter((t) => t !== 'secretlint');
  const sampleRaw = values['secretlint-sample'] ?? 'auto';
  let secretlintSample: 'auto' | number = 'auto';
  if (sampleRaw !== 'auto') {
    const f = Number(sampleRaw);
    if (!(f > 0 && f <= 1)) throw new Error(`--secretlint-sample must be "auto" or a fraction in (0, 1], got "${sampleRaw}"`);
    secretlintSample = f;
  }
  return {
    quick,
    seed: values.seed ?? '1',
    sizeMB: num('size', values.size, quick ? 20 : 220, 1),
    secrets: Math.floor(num('secrets', values.secrets, quick ? 200 : 1200, 1)),
    runs: Math.floor(num('runs', values.runs, quick ? 1 : 3, 1)),
    tools,
    secretlintSample,
    secretlintBudget: num('secretlint-budget', values['secretlint-budget'], quick ? 60 : 600, 1),
    rebuild: values.rebuild ?? false,
    workDir: path.resolve(repoRoot, values.work ?? 'bench/.work'),
    docs: values['no-docs'] ? false : (values.docs ?? !quick),
    keywardenArgs: values['keywarden-arg'] ?? [],
    keywardenBin: path.resolve(repoRoot, values['keywarden-bin'] ?? 'bin/keywarden.js'),
    repoRoot,
  };
}
