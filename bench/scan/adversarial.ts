/**
 * Adversarial inputs: the shapes that once made Keywarden's scan super-linear — one long line
 * dense with keywords, a long line with no newline at all, a big file of keyword lines, a line of
 * near-miss tokens, private-key headers that never end. Each ends with one planted secret that
 * every tool should still report.
 *
 * Keywarden (tree mode and `--stdin`) and Gitleaks scan the same file in the same run. The engine
 * is also timed in process on the first quarter and on the whole of each input: with the tools'
 * start-up out of the way, time that grows 4× for 4× the bytes is linear (16× would be quadratic).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { measure, type Measurement } from './measure.js';
import { createPrng, type Prng } from './prng.js';
import { fingerprint, loadSecretKinds } from './secrets.js';
import type { Tool, ToolFinding } from './tools.js';

export interface AdversarialInput {
  name: string;
  /** What it is, for the docs table. */
  title: string;
  /** Target size in bytes before the planted secret. */
  bytes: number;
  /** One line (the secret goes at its end) or many (the secret is the last line). */
  singleLine: boolean;
  make(rng: Prng, bytes: number): Buffer;
}

export type AdversarialMode = 'keywarden' | 'keywarden-stdin' | 'gitleaks';

export interface AdversarialRun {
  mode: AdversarialMode;
  label: string;
  m: Measurement;
  mbPerSecond: number;
  findings: number;
  /** Whether the planted secret was reported (by fingerprint, or on its line when the tool gives no secret). */
  foundPlanted: boolean;
}

export interface AdversarialResult {
  name: string;
  title: string;
  bytes: number;
  lines: number;
  runs: AdversarialRun[];
  /** The engine alone (no start-up, no I/O): seconds on the first quarter and on the whole. */
  engine: { quarterSeconds: number; fullSeconds: number; mbPerSecond: number; found: boolean; timedOut: boolean };
}

const MB = 1_000_000;

/** Keywords of many detectors, with the operators and prefixes that make their regexes work. */
const KEYWORD_UNIT =
  'password= AKIA ghp_ -----BEGIN token secret api_key= eyJ sk_live_ xoxb- glpat- AIza hvs. npm_ ' +
  'secret_key: private_key ://user: PuTTY-User-Key-File-2: mongodb+srv:// dapi sig= q~ SG. ';

function repeatTo(unit: string, bytes: number): Buffer {
  const u = Buffer.from(unit, 'latin1');
  const out = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += u.length) u.copy(out, i, 0, Math.min(u.length, bytes - i));
  return out;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rand = (rng: Prng, n: number, alphabet = ALNUM): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
};

/** Tokens one character short of (or one character off) a real shape: every regex gets far, none matches. */
const NEAR_MISSES: readonly ((rng: Prng) => string)[] = [
  (r) => `ghp_${rand(r, 35)}`,
  (r) => `AKIA${rand(r, 15, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
  (r) => `xoxb-${rand(r, 10, '0123456789')}-${rand(r, 10, ALNUM)}`,
  (r) => `sk_live_${rand(r, 12)}`,
  (r) => `glpat-${rand(r, 12)}`,
  (r) => `eyJ${rand(r, 11)}.eyJ${rand(r, 8)}.`,
  (r) => `AIza${rand(r, 34)}`,
  (r) => `password=${rand(r, 5)}`,
  (r) => `npm_${rand(r, 35)}`,
  (r) => `hvs.${rand(r, 12)}`,
  (r) => `postgres://user:@${rand(r, 6)}`,
  (r) => `-----BEGIN RSA PRIVATE KEY-----${rand(r, 20)}`,
  (r) => `token:"${rand(r, 4)}"`,
  (r) => `AccountKey=${rand(r, 40)}`,
];

/** Lines of code and config that each carry a keyword but rarely a secret. */
const KEYWORD_LINES: readonly ((rng: Prng) => string)[] = [
  (r) => `const token = getToken(${r.int(1000)});`,
  (r) => `password = "${rand(r, 4)}"`,
  () => '# secret: read from the vault at start-up',
  (r) => `api_key: \${API_KEY_${r.int(100)}}`,
  (r) => `headers.Authorization = \`Bearer \${session.token}\`; // ${rand(r, 8)}`,
  (r) => `  "private_key_id": "${rand(r, 8, '0123456789abcdef')}",`,
  (r) => `url = "https://${rand(r, 6)}.example.com/api?token=" + t`,
  (r) => `AKIA${rand(r, 8)} is not a key, nor is ghp_${rand(r, 10)}`,
  (r) => `if (user.password.length < ${r.int(20)}) throw new Error('short password');`,
  (r) => `-----BEGIN CERTIFICATE----- ${rand(r, 40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}`,
  (r) => `export function ${rand(r, 6, 'abcdefghij')}(x) { return x * ${r.int(100)}; }`,
];

const PEM_HEADERS = ['RSA PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'PGP PRIVATE KEY BLOCK', 'ENCRYPTED PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY'];

function joinTo(rng: Prng, bytes: number, parts: readonly ((rng: Prng) => string)[], sep: string): Buffer {
  const chunks: string[] = [];
  let size = 0;
  while (size < bytes) {
    const s = rng.pick(parts)(rng) + sep;
    chunks.push(s);
    size += s.length;
  }
  return Buffer.from(chunks.join(''), 'latin1').subarray(0, bytes);
}

export function adversarialInputs(scale: number): AdversarialInput[] {
  const mb = (n: number): number => Math.round(n * scale * MB);
  return [
    {
      name: 'keyword-line',
      title: 'one line of repeated keywords of many detectors',
      bytes: mb(8),
      singleLine: true,
      make: (_, n) => repeatTo(KEYWORD_UNIT, n),
    },
    { name: 'no-newline', title: '`a` repeated, no newline', bytes: mb(8), singleLine: true, make: (_, n) => Buffer.alloc(n, 'a') },
    {
      name: 'keyword-lines',
      title: 'lines of code and config, each with a keyword',
      bytes: mb(50),
      singleLine: false,
      make: (rng, n) => joinTo(rng, n, KEYWORD_LINES, '\n'),
    },
    {
      name: 'near-miss-line',
      title: 'one line of near-miss tokens (one character short or off)',
      bytes: mb(8),
      singleLine: true,
      make: (rng, n) => joinTo(rng, n, NEAR_MISSES, ' '),
    },
    {
      name: 'pem-headers',
      title: 'private-key BEGIN lines and base64, never an END',
      bytes: mb(8),
      singleLine: false,
      make: (rng, n) => joinTo(rng, n, [(r) => `-----BEGIN ${r.pick(PEM_HEADERS)}-----\n${rand(r, 64, `${ALNUM}+/`)}`], '\n'),
    },
  ];
}

export interface AdversarialOptions {
  repoRoot: string;
  workDir: string;
  seed: string;
  /** 1 for the sizes above; the quick run uses ¼. */
  scale: number;
  keywardenBin: string;
  gitleaks: Tool | undefined;
  keywardenTool: (extraArgs: string[]) => Tool;
  timeoutSeconds: number;
  log: (s: string) => void;
}

export async function runAdversarial(o: AdversarialOptions): Promise<AdversarialResult[]> {
  const kinds = await loadSecretKinds(o.repoRoot, `${o.seed}-adversarial`);
  const pat = kinds.find((k) => k.detectorId === 'github-pat-classic');
  if (!pat) throw new Error('the secret generators have no github-pat-classic kind to plant');
  // Files up to 50 MB pass Keywarden's default limit only in MiB; say it outright.
  const keywarden = o.keywardenTool(['--max-file-size', '100MB']);
  const results: AdversarialResult[] = [];
  for (const input of adversarialInputs(o.scale)) {
    const rng = createPrng(o.seed, 'adversarial', input.name);
    const secret = pat.generate().secret;
    const body = input.make(rng, input.bytes);
    const tail = Buffer.from(input.singleLine ? ` ${secret}` : `\nGITHUB_TOKEN=${secret}\n`, 'latin1');
    const bytes = Buffer.concat([body, tail]);
    const lines = countLines(bytes);
    const plantedLine = lines; // the secret is on the last line either way
    const dir = path.join(o.workDir, 'adversarial', input.name);
    const outDir = path.join(o.workDir, 'adversarial', 'out');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    mkdirSync(outDir, { recursive: true });
    const file = path.join(dir, 'input.txt');
    writeFileSync(file, bytes);
    // Its own git repository: bench/.work/ is git-ignored by the enclosing one.
    execFileSync('git', ['init', '-q', dir], { stdio: 'ignore' });
    const want = fingerprint(secret);
    const found = (fs: ToolFinding[]): boolean =>
      fs.some((f) => (f.fingerprint !== undefined ? f.fingerprint === want : f.startLine <= plantedLine && plantedLine <= f.endLine));

    const engine = timeEngine(o, file, Math.floor(body.length / 4), tail.length, want);
    o.log(
      `adversarial ${input.name} (${(bytes.length / MB).toFixed(1)} MB): engine ` +
        (engine.timedOut ? `stopped after ${o.timeoutSeconds} s` : `${engine.quarterSeconds.toFixed(3)} s on ¼, ${engine.fullSeconds.toFixed(3)} s on all`),
    );

    const runs: AdversarialRun[] = [];
    const modes: { mode: AdversarialMode; tool: Tool; stdin: boolean }[] = [
      { mode: 'keywarden', tool: keywarden, stdin: false },
      { mode: 'keywarden-stdin', tool: keywarden, stdin: true },
      ...(o.gitleaks ? [{ mode: 'gitleaks' as const, tool: o.gitleaks, stdin: false }] : []),
    ];
    for (const { mode, tool, stdin } of modes) {
      const base = path.join(outDir, `${input.name}-${mode}`);
      const report = `${base}.report`;
      rmSync(report, { force: true });
      const c = stdin
        ? {
            cmd: process.execPath,
            args: [o.keywardenBin, 'scan', '--stdin', '--stdin-name', 'input.txt', '--max-file-size', '100MB', '--format', 'json', '--no-progress', '-o', report],
            cwd: o.repoRoot,
            env: tool.command(dir, report).env,
          }
        : tool.command(dir, report);
      const m = await measure({
        ...c,
        stdoutFile: `${base}.stdout`,
        stderrFile: `${base}.stderr`,
        timeoutSeconds: o.timeoutSeconds,
        ...(stdin ? { stdinFile: file } : {}),
      });
      let findings: ToolFinding[] = [];
      if (!m.timedOut) {
        if (!tool.okExitCodes.includes(m.exitCode)) {
          throw new Error(`${tool.label} failed on ${input.name} (exit ${m.exitCode}): ${readFileSync(`${base}.stderr`, 'utf8').slice(0, 1000)}`);
        }
        findings = tool.parse(report, dir);
      }
      const run: AdversarialRun = {
        mode,
        label: stdin ? `${tool.label} --stdin` : tool.label,
        m,
        mbPerSecond: bytes.length / MB / m.wallSeconds,
        findings: findings.length,
        foundPlanted: found(findings),
      };
      o.log(
        `  ${run.label}: ${m.timedOut ? `stopped after ${o.timeoutSeconds} s` : `${m.wallSeconds.toFixed(2)} s, ${run.mbPerSecond.toFixed(1)} MB/s`}, ` +
          `${m.peakRssMB.toFixed(0)} MB RSS, ${run.findings} findings, planted secret ${run.foundPlanted ? 'found' : 'MISSED'}`,
      );
      runs.push(run);
    }
    results.push({
      name: input.name,
      title: input.title,
      bytes: bytes.length,
      lines,
      runs,
      engine: { ...engine, mbPerSecond: engine.timedOut ? bytes.length / MB / o.timeoutSeconds : bytes.length / MB / engine.fullSeconds },
    });
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/**
 * Times `scanBytes` of the build under test (the launcher's dist/, so that --keywarden-bin compares
 * builds) in a child process, which the timeout can stop.
 */
function timeEngine(o: AdversarialOptions, file: string, quarter: number, tail: number, want: string): Omit<AdversarialResult['engine'], 'mbPerSecond'> {
  const dist = path.resolve(path.dirname(o.keywardenBin), '../dist/scan');
  const script = path.join(o.repoRoot, 'bench/scan/engine-time.mjs');
  try {
    const out = execFileSync(process.execPath, [script, dist, file, String(quarter), String(tail), want], {
      encoding: 'utf8',
      timeout: o.timeoutSeconds * 1000,
      killSignal: 'SIGKILL',
      maxBuffer: 1 << 20,
    });
    const r = JSON.parse(out) as { quarterSeconds: number; fullSeconds: number; found: boolean };
    return { ...r, timedOut: false };
  } catch (e) {
    if ((e as { signal?: string }).signal === 'SIGKILL') return { quarterSeconds: Number.NaN, fullSeconds: Number.NaN, found: false, timedOut: true };
    throw e;
  }
}

function countLines(b: Buffer): number {
  let n = 1;
  for (let i = b.indexOf(10); i !== -1 && i < b.length - 1; i = b.indexOf(10, i + 1)) n++;
  return n;
}
