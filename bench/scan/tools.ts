/**
 * The three scanners under test, each as: the command that scans a folder into a JSON report, and
 * a parser that turns that report into the same finding shape (file relative to the scanned root,
 * 1-based lines, rule id, and the secret's fingerprint when the tool reports enough to know it).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ToolName } from './options.js';

export interface ToolFinding {
  file: string;
  startLine: number;
  endLine: number;
  ruleId: string;
  /** `sha256:<hex>` of the secret as the tool saw it, if known. */
  fingerprint?: string;
}

export interface Tool {
  name: ToolName;
  label: string;
  version: string;
  /** Exit codes that mean "the scan ran". */
  okExitCodes: number[];
  command(root: string, reportFile: string): { cmd: string; args: string[]; cwd: string; env: NodeJS.ProcessEnv };
  parse(reportFile: string, root: string): ToolFinding[];
}

/** The environment without variables that would change a tool's configuration. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('GITLEAKS_') || k.startsWith('KEYWARDEN_')) delete env[k];
  env['NO_COLOR'] = '1';
  return env;
}

function relTo(root: string, file: string): string {
  return path.relative(root, path.resolve(root, file)).split(path.sep).join('/');
}

function sha256(s: string): string {
  return `sha256:${createHash('sha256').update(s, 'utf8').digest('hex')}`;
}

export function keywardenTool(repoRoot: string, bin: string, extraArgs: string[]): Tool {
  let version = 'unknown';
  try {
    version = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // reported as unknown; the scan itself will say what is wrong
  }
  return {
    name: 'keywarden',
    label: 'Keywarden',
    version,
    okExitCodes: [0, 1],
    command: (root, reportFile) => ({
      cmd: process.execPath,
      args: [bin, 'scan', root, '--format', 'json', '--no-progress', '-o', reportFile, ...extraArgs],
      cwd: repoRoot,
      env: cleanEnv(),
    }),
    parse: (reportFile, root) => {
      const data = JSON.parse(readFileSync(reportFile, 'utf8')) as unknown;
      const list = Array.isArray(data) ? data : (data as { findings?: unknown[] }).findings;
      if (!Array.isArray(list)) throw new Error(`keywarden: ${reportFile} is not an array of findings`);
      return list.map((f: Record<string, unknown>) => ({
        file: relTo(root, String(f['file'])),
        startLine: Number(f['startLine']),
        endLine: Number(f['endLine'] ?? f['startLine']),
        ruleId: String(f['ruleId']),
        ...(typeof f['fingerprint'] === 'string' ? { fingerprint: f['fingerprint'] } : {}),
      }));
    },
  };
}

interface GoBuildInfo {
  version: string;
  re2: boolean;
}

function goBuildInfo(bin: string): GoBuildInfo | null {
  try {
    const info = execFileSync('go', ['version', '-m', bin], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const version = /\bmod\s+\S*gitleaks\S*\s+(v[\d.]+\S*)/.exec(info)?.[1];
    return version ? { version, re2: /-tags=\S*gore2regex/.test(info) } : null;
  } catch {
    return null;
  }
}

/**
 * The Gitleaks binary to measure. Gitleaks' release binaries are built with `-tags gore2regex`
 * (RE2 through wazero); a plain `go install` build uses Go's standard regexp and is about three
 * times slower on this corpus. So unless told which binary to run, the benchmark uses a
 * release-equivalent build: `.tools/bin/gitleaks` if it is one, else one it builds once (same
 * version, the release's tags and ldflags) under `<workDir>/tools/`. If that build fails
 * (offline), it measures the plain build and says so in the table.
 */
export function resolveGitleaks(repoRoot: string, workDir: string, explicit: string | undefined, log: (s: string) => void): { bin: string; version: string; build: string } {
  const describe = (bin: string): { bin: string; version: string; build: string } => {
    const info = goBuildInfo(bin);
    if (!info) return { bin, version: execFileSync(bin, ['version'], { encoding: 'utf8' }).trim(), build: 'unknown build' };
    return { bin, version: info.version, build: info.re2 ? 'release build, RE2' : 'go install build, Go regexp' };
  };
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`--gitleaks-bin: ${explicit} does not exist`);
    return describe(explicit);
  }
  const base = path.join(repoRoot, '.tools/bin/gitleaks');
  if (!existsSync(base)) throw new Error('.tools/bin/gitleaks is missing: run scripts/setup-tools --only gitleaks');
  const info = goBuildInfo(base);
  if (!info || info.re2) return describe(base);
  const dir = path.join(workDir, 'tools', `gitleaks-${info.version}-re2`);
  const bin = path.join(dir, 'gitleaks');
  if (!existsSync(bin)) {
    log(`building Gitleaks ${info.version} as its releases are (-tags gore2regex) into ${path.relative(repoRoot, dir)}`);
    try {
      execFileSync(
        'go',
        ['install', '-tags', 'gore2regex', '-ldflags', `-s -w -X=github.com/zricethezav/gitleaks/v8/version.Version=${info.version}`, `github.com/zricethezav/gitleaks/v8@${info.version}`],
        { env: { ...process.env, GOBIN: dir }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch {
      log('  that build failed (offline?): measuring .tools/bin/gitleaks, built with Go\'s slower standard regexp');
      return describe(base);
    }
  }
  return describe(bin);
}

export function gitleaksTool(repoRoot: string, gitleaks: { bin: string; version: string; build: string }): Tool {
  const { bin } = gitleaks;
  const version = `${gitleaks.version} (${gitleaks.build})`;
  return {
    name: 'gitleaks',
    label: 'Gitleaks',
    version,
    okExitCodes: [0],
    command: (root, reportFile) => ({
      cmd: bin,
      args: ['dir', root, '--report-format', 'json', '--report-path', reportFile, '--no-banner', '--exit-code', '0', '--log-level', 'error'],
      cwd: repoRoot,
      env: cleanEnv(),
    }),
    parse: (reportFile, root) => {
      const data = JSON.parse(readFileSync(reportFile, 'utf8')) as Record<string, unknown>[] | null;
      return (data ?? []).map((f) => ({
        file: relTo(root, String(f['File'])),
        startLine: Number(f['StartLine']),
        endLine: Number(f['EndLine'] ?? f['StartLine']),
        ruleId: String(f['RuleID']),
        ...(typeof f['Secret'] === 'string' ? { fingerprint: sha256(f['Secret']) } : {}),
      }));
    },
  };
}

export function secretlintTool(repoRoot: string, options: { profilerOff: boolean }): Tool {
  const pkg = path.join(repoRoot, 'node_modules/secretlint/package.json');
  if (!existsSync(pkg)) throw new Error('node_modules/secretlint is missing: run npm ci');
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  const bin = path.join(repoRoot, 'node_modules/secretlint/bin/secretlint.js');
  const rc = path.join(repoRoot, 'bench/scan/.secretlintrc.json');
  const preload = options.profilerOff ? ['--import', path.join(repoRoot, 'bench/scan/secretlint-profiler-off.mjs')] : [];
  return {
    name: options.profilerOff ? 'secretlint-noprof' : 'secretlint',
    label: options.profilerOff ? 'secretlint, profiler off' : 'secretlint',
    version: `v${version}`,
    // With --output secretlint exits 0 even when it found something.
    okExitCodes: [0, 1],
    command: (root, reportFile) => ({
      cmd: process.execPath,
      // `unix`, not `json`: the json formatter embeds every scanned file's full text in its
      // report, which would charge secretlint for writing a copy of the corpus.
      // Run from the scanned root: secretlint (globby) refuses paths outside its working directory.
      args: [...preload, bin, '**/*', '--secretlintrc', rc, '--format', 'unix', '--output', reportFile, '--no-color', '--no-terminalLink'],
      cwd: root,
      env: cleanEnv(),
    }),
    parse: (reportFile, root) => {
      // path:line:column: [MESSAGE_ID] message [Error/preset > rule]
      const re = /^(.+?):(\d+):(\d+): .*\[(?:Error|Warning|Info)\/([^\]]*)\]$/;
      const out: ToolFinding[] = [];
      for (const line of readFileSync(reportFile, 'utf8').split('\n')) {
        const m = re.exec(line);
        if (!m) continue;
        const rule = m[4]!.split(' > ').pop()!.replace('@secretlint/secretlint-rule-', '');
        out.push({ file: relTo(root, m[1]!), startLine: Number(m[2]), endLine: Number(m[2]), ruleId: rule });
      }
      return out;
    },
  };
}
