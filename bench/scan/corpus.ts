/**
 * The benchmark corpus: real source text copied from the project's own `node_modules` (renamed
 * `pkgs-N/`, because Gitleaks' default config skips every `node_modules/` path), repeated until it
 * reaches the target size, with fake secrets planted at recorded places, committed as a git
 * checkout (so tools that honour `.gitignore` see the corpus itself, not the enclosing repo's
 * ignore rule for `bench/.work/`).
 *
 * Deterministic for a seed, the project's node_modules and the secret generators; reused while
 * its stamp matches.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createPrng } from './prng.js';
import { fingerprint, generatorsDigest, loadSecretKinds, type SecretKind } from './secrets.js';

/** Bump when the corpus layout or planting changes, so old corpora get rebuilt. */
const CORPUS_VERSION = 4;
const MAX_FILE_BYTES = 2_000_000;
/** Secrets go only into files up to this size, so a tool's own size limit does not decide recall. */
const MAX_HOST_BYTES = 1_000_000;
/** Share of secrets planted in files the benchmark creates (.env, YAML, Python, …) rather than in copied ones. */
const CREATED_SHARE = 0.2;
const PLANTS_PER_CREATED_FILE = 3;

/** Files that configure a scanner; copying them would change what a tool does. */
const SKIP_NAMES = new Set(['.gitignore', '.gitleaks.toml', '.gitleaksignore', '.secretlintignore', '.keywardenignore', '.keywarden.yml', '.git']);
const SKIP_NAME_RE = /^\.secretlintrc(\..*)?$/;
const HOST_EXTS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.jsx', '.tsx', '.json', '.md', '.markdown', '.yml', '.yaml', '.txt', '.sh', '.py', '.toml']);
/** Inline suppressions: a secret planted in a file that carries one could be hidden by it. */
const SUPPRESSION_RE = /gitleaks:allow|secretlint-disable|keywarden:allow|pragma: allowlist/i;

/**
 * Gitleaks v8.30.1's default global path allowlist (config/gitleaks.toml). Nothing is planted in a
 * path it skips, so its recall measures its detectors, not its defaults.
 */
const GITLEAKS_ALLOWLISTED_PATHS: readonly RegExp[] = [
  /gitleaks\.toml/,
  /\.(?:bmp|gif|jpe?g|png|svg|tiff?)$/i,
  /\.(?:eot|[ot]tf|woff2?)$/i,
  /\.(?:docx?|xlsx?|pdf|bin|socket|vsidx|v2|suo|wsuo|.dll|pdb|exe|gltf)$/i,
  /go\.(?:mod|sum|work(?:\.sum)?)$/,
  /(?:^|\/)vendor\/modules\.txt$/,
  /(?:^|\/)vendor\/(?:github\.com|golang\.org\/x|google\.golang\.org|gopkg\.in|istio\.io|k8s\.io|sigs\.k8s\.io)(?:\/.*)?$/,
  /(?:^|\/)gradlew(?:\.bat)?$/,
  /(?:^|\/)gradle\.lockfile$/,
  /(?:^|\/)mvnw(?:\.cmd)?$/,
  /(?:^|\/)node_modules(?:\/.*)?$/,
  /(?:^|\/)(?:deno\.lock|npm-shrinkwrap\.json|package-lock\.json|pnpm-lock\.yaml|yarn\.lock)$/,
  /(?:^|\/)bower_components(?:\/.*)?$/,
  /(?:^|\/)(?:angular|bootstrap|jquery(?:-?ui)?|plotly|swagger-?ui)[a-zA-Z0-9.-]*(?:\.min)?\.js(?:\.map)?$/,
  /(?:^|\/)javascript\.json$/,
  /(?:^|\/)(?:Pipfile|poetry)\.lock$/,
  /(?:^|\/)(?:v?env|virtualenv)\/lib(?:64)?(?:\/.*)?$/i,
  /(?:^|\/)(?:lib(?:64)?\/python[23](?:\.\d{1,2})+|python\/[23](?:\.\d{1,2})+\/lib(?:64)?)(?:\/.*)?$/i,
  /(?:^|\/)[a-z0-9_.]+-[0-9.]+\.dist-info(?:\/.+)?$/i,
  /(?:^|\/)vendor\/(?:bundle|ruby)(?:\/.*?)?$/,
  /\.gem$/,
  /verification-metadata\.xml/,
  /Database.refactorlog/,
  // Not in the config: Gitleaks identifies archives by name (mholt/archives), and its Brotli
  // matcher accepts any path that contains ".br", so `*.browser.js` and the like are skipped as
  // archives (gitleaks#1949). Planting there would measure that bug, not its detectors.
  /\.br/i,
];

export interface CorpusSpec {
  repoRoot: string;
  /** Folder for this corpus: holds `corpus/`, `manifest.json`, `stamp.json`. */
  dir: string;
  seed: string;
  sizeMB: number;
  secrets: number;
}

export interface PlantRecord {
  id: number;
  detectorId: string;
  type: string;
  /** Relative to the corpus root, forward slashes. */
  file: string;
  /** The secret's span: 1-based lines and columns (UTF-16 units), end column exclusive. */
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
  /** The whole planted snippet (the secret plus its context lines). */
  blockStartLine: number;
  blockEndLine: number;
  /** `sha256:` + hex of the secret, the same form as Keywarden's finding fingerprint. */
  fingerprint: string;
  /** Planted into a copied file or into a file the benchmark created. */
  host: 'copied' | 'created';
  ext: string;
}

export interface CorpusFile {
  file: string;
  bytes: number;
}

export interface Manifest {
  version: number;
  seed: string;
  sizeMB: number;
  secrets: number;
  root: string;
  bytes: number;
  files: CorpusFile[];
  copies: number;
  kinds: { detectorId: string; type: string }[];
  plants: PlantRecord[];
  createdAt: string;
}

interface SourceFile {
  /** Relative to node_modules, forward slashes. */
  rel: string;
  abs: string;
  bytes: number;
  ext: string;
  suppressed: boolean;
}

interface PlannedFile {
  /** Relative to the corpus root. */
  file: string;
  source?: SourceFile;
  /** For created files: which template. */
  template?: CreatedTemplate;
  plants: number[];
}

interface CreatedTemplate {
  dir: string;
  name: string;
  header: string[];
  filler: string[];
}

/** Files the benchmark writes itself, to plant secrets where people really leak them. */
const CREATED_TEMPLATES: readonly CreatedTemplate[] = [
  { dir: 'service', name: '.env', header: ['# local settings', 'NODE_ENV=production', 'PORT=8080'], filler: ['LOG_LEVEL=info', 'FEATURE_FLAGS=search,export', 'TZ=UTC', 'CACHE_TTL_SECONDS=300'] },
  { dir: 'deploy', name: 'config.yml', header: ['service:', '  name: billing', '  replicas: 3'], filler: ['  region: eu-west-1', '  timeout: 30s', '  retries: 5', '  log_format: json'] },
  { dir: 'worker', name: 'settings.py', header: ['import os', '', 'DEBUG = False', 'ALLOWED_HOSTS = ["*"]'], filler: ['TIME_ZONE = "UTC"', 'USE_I18N = True', 'CELERY_TASK_ALWAYS_EAGER = False', 'PAGE_SIZE = 50'] },
  { dir: 'api', name: 'appsettings.json', header: ['{', '  "Logging": { "LogLevel": { "Default": "Information" } },'], filler: ['  "AllowedHosts": "*",', '  "Retries": 3,', '  "Region": "westeurope",', '  "Features": ["search", "export"],'] },
  { dir: 'stack', name: 'docker-compose.yml', header: ['services:', '  web:', '    image: nginx:1.27', '    ports: ["80:80"]'], filler: ['    restart: unless-stopped', '    environment:', '      - TZ=UTC', '    depends_on: [db]'] },
  { dir: 'jvm', name: 'application.properties', header: ['spring.application.name=orders', 'server.port=8081'], filler: ['spring.jpa.open-in-view=false', 'logging.level.root=INFO', 'management.endpoints.web.exposure.include=health', 'spring.main.banner-mode=off'] },
  { dir: 'scripts', name: 'deploy.sh', header: ['#!/usr/bin/env bash', 'set -euo pipefail'], filler: ['echo "deploying"', 'cd "$(dirname "$0")"', 'make build', 'kubectl rollout status deploy/web'] },
  { dir: 'web', name: 'config.ts', header: ['// runtime configuration', 'export const config = {'], filler: ['  retries: 3,', '  region: "us-east-1",', '  pageSize: 25,', '  locale: "en-GB",'] },
];

export function corpusRoot(spec: CorpusSpec): string {
  return path.join(spec.dir, 'corpus');
}

/** Builds the corpus unless an identical one is already there. Returns its manifest. */
export async function ensureCorpus(spec: CorpusSpec, options: { rebuild: boolean; log: (s: string) => void }): Promise<Manifest> {
  const nodeModules = path.join(spec.repoRoot, 'node_modules');
  if (!existsSync(nodeModules)) throw new Error('node_modules is missing: run `npm ci` (or scripts/setup-tools) first.');
  const sources = listSources(nodeModules);
  const sourceDigest = createHash('sha256')
    .update(sources.map((s) => `${s.rel}\t${s.bytes}`).join('\n'))
    .digest('hex');
  const stamp = {
    version: CORPUS_VERSION,
    seed: spec.seed,
    sizeMB: spec.sizeMB,
    secrets: spec.secrets,
    sourceDigest,
    generators: generatorsDigest(spec.repoRoot),
  };
  const stampFile = path.join(spec.dir, 'stamp.json');
  const manifestFile = path.join(spec.dir, 'manifest.json');
  if (!options.rebuild && existsSync(stampFile) && existsSync(manifestFile)) {
    try {
      const old = JSON.parse(readFileSync(stampFile, 'utf8')) as unknown;
      if (JSON.stringify(old) === JSON.stringify(stamp)) {
        options.log(`corpus: reusing ${path.relative(spec.repoRoot, corpusRoot(spec))} (stamp matches)`);
        return JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
      }
    } catch {
      // a broken stamp means rebuild
    }
  }
  const started = Date.now();
  rmSync(spec.dir, { recursive: true, force: true });
  mkdirSync(corpusRoot(spec), { recursive: true });
  const kinds = await loadSecretKinds(spec.repoRoot, spec.seed);
  if (kinds.length === 0) throw new Error('the secret generators define no kinds');
  options.log(`corpus: ${sources.length} text files (${mb(sum(sources.map((s) => s.bytes)))} MB) in node_modules; ${kinds.length} secret kinds`);
  const manifest = buildCorpus(spec, sources, kinds);
  commitCorpus(corpusRoot(spec));
  writeFileSync(manifestFile, JSON.stringify(manifest));
  writeFileSync(stampFile, JSON.stringify(stamp, null, 2));
  options.log(
    `corpus: built ${manifest.files.length} files, ${mb(manifest.bytes)} MB, ${manifest.copies} copies, ${manifest.plants.length} secrets of ${kinds.length} kinds in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return manifest;
}

function buildCorpus(spec: CorpusSpec, sources: SourceFile[], kinds: SecretKind[]): Manifest {
  const root = corpusRoot(spec);
  const target = spec.sizeMB * 1_000_000;

  // 1. Which copied files: whole shuffled copies of the source list until the target is reached.
  const files: PlannedFile[] = [];
  let total = 0;
  let copies = 0;
  while (total < target) {
    copies++;
    if (copies > 1000) throw new Error('node_modules holds too little text to reach the corpus size');
    for (const s of createPrng(spec.seed, 'copy', copies).shuffle(sources)) {
      if (total >= target) break;
      files.push({ file: `pkgs-${copies}/${s.rel.replace(/(^|\/)node_modules(?=\/|$)/g, '$1pkgs')}`, source: s, plants: [] });
      total += s.bytes;
    }
  }
  files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const hosts = files.filter((f) => isHost(f));
  if (hosts.length === 0) throw new Error('no copied file can host a planted secret');

  // 2. Which secret goes where: kinds round-robin, so every kind gets its share.
  const nCreated = Math.round(spec.secrets * CREATED_SHARE);
  const order = createPrng(spec.seed, 'plant-order').shuffle(Array.from({ length: spec.secrets }, (_, i) => i));
  const hostRng = createPrng(spec.seed, 'hosts');
  const created: PlannedFile[] = [];
  order.forEach((plantId, n) => {
    if (n < nCreated) {
      const idx = Math.floor(n / PLANTS_PER_CREATED_FILE);
      let f = created[idx];
      if (!f) {
        const template = CREATED_TEMPLATES[idx % CREATED_TEMPLATES.length]!;
        f = { file: `apps/${template.dir}-${String(idx + 1).padStart(3, '0')}/${template.name}`, template, plants: [] };
        created[idx] = f;
      }
      f.plants.push(plantId);
    } else {
      hostRng.pick(hosts).plants.push(plantId);
    }
  });
  for (const f of [...files, ...created]) f.plants.sort((a, b) => a - b);

  // 3. The secrets themselves, in plant-id order (the generators share one RNG).
  const secrets = Array.from({ length: spec.secrets }, (_, i) => {
    const kind = kinds[i % kinds.length]!;
    return { kind, ...kind.generate() };
  });

  // 4. Write every file, inserting the snippets, and record where each secret landed.
  const plants: PlantRecord[] = new Array<PlantRecord>(spec.secrets);
  const out: CorpusFile[] = [];
  for (const f of [...files, ...created]) {
    const lines = f.source ? splitLines(readFileSync(f.source.abs, 'utf8')) : createdHeader(f.template!);
    const inserts = f.source ? placeInCopied(spec.seed, f, lines.count) : placeInCreated(spec.seed, f, lines);
    const result = insert(lines, inserts.map((ins) => ({ at: ins.at, snippet: secrets[ins.plantId]!.line, plantId: ins.plantId })));
    if (f.template) result.text += `${f.template.filler[0] ?? ''}\n${f.template.name.endsWith('.json') ? '  "Version": 1\n}\n' : f.template.name.endsWith('.ts') ? '};\n' : ''}`;
    const abs = path.join(root, f.file);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, result.text);
    out.push({ file: f.file, bytes: Buffer.byteLength(result.text) });
    for (const placed of result.placed) {
      const s = secrets[placed.plantId]!;
      const span = locate(s.line, s.secret, placed.line);
      plants[placed.plantId] = {
        id: placed.plantId,
        detectorId: s.kind.detectorId,
        type: s.kind.type,
        file: f.file,
        ...span,
        blockStartLine: placed.line,
        blockEndLine: placed.line + lineCount(s.line) - 1,
        fingerprint: fingerprint(s.secret),
        host: f.source ? 'copied' : 'created',
        ext: extOf(f.file),
      };
    }
  }
  out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (let i = 0; i < plants.length; i++) if (!plants[i]) throw new Error(`internal: secret ${i} was not planted`);
  return {
    version: CORPUS_VERSION,
    seed: spec.seed,
    sizeMB: spec.sizeMB,
    secrets: spec.secrets,
    root,
    bytes: sum(out.map((f) => f.bytes)),
    files: out,
    copies,
    kinds: kinds.map((k) => ({ detectorId: k.detectorId, type: k.type })),
    plants,
    createdAt: new Date().toISOString(),
  };
}

function isHost(f: PlannedFile): boolean {
  const s = f.source;
  return (
    s !== undefined &&
    s.bytes <= MAX_HOST_BYTES &&
    HOST_EXTS.has(s.ext) &&
    !s.suppressed &&
    !GITLEAKS_ALLOWLISTED_PATHS.some((re) => re.test(f.file))
  );
}

interface Lines {
  lines: string[];
  /** Lines before the final newline (a trailing newline does not start a line). */
  count: number;
}

function splitLines(text: string): Lines {
  const lines = text.split('\n');
  return { lines, count: text.endsWith('\n') ? lines.length - 1 : lines.length };
}

function createdHeader(t: CreatedTemplate): Lines {
  return { lines: [...t.header, ''], count: t.header.length };
}

/** Distinct insertion points (before original line `at`, 0-based; `count` appends) for a copied file. */
function placeInCopied(seed: string, f: PlannedFile, count: number): { at: number; plantId: number }[] {
  const used = new Set<number>();
  return f.plants.map((plantId) => {
    const rng = createPrng(seed, 'position', plantId);
    let at = rng.int(count + 1);
    for (let tries = 0; used.has(at) && tries < 50; tries++) at = rng.int(count + 1);
    while (used.has(at)) at = (at + 1) % (count + 1);
    used.add(at);
    return { at, plantId };
  });
}

/** Created files get their secrets one after the other, each after a filler line. */
function placeInCreated(seed: string, f: PlannedFile, lines: Lines): { at: number; plantId: number }[] {
  const t = f.template!;
  const rng = createPrng(seed, 'created', f.file);
  // Grow the file: before each secret, one or two filler lines; inserts then all go at the end
  // of the line list in order, each after its filler.
  const at: { at: number; plantId: number }[] = [];
  for (const plantId of f.plants) {
    const n = 1 + rng.int(2);
    for (let i = 0; i < n; i++) lines.lines.splice(lines.count++, 0, rng.pick(t.filler));
    at.push({ at: lines.count, plantId });
  }
  return at;
}

/**
 * Inserts snippets before the given original lines. Returns the text and the 1-based line where
 * each snippet starts in the result.
 */
function insert(lines: Lines, inserts: { at: number; snippet: string; plantId: number }[]): { text: string; placed: { plantId: number; line: number }[] } {
  const byAt = [...inserts].sort((a, b) => a.at - b.at || a.plantId - b.plantId);
  const parts: string[] = [];
  const placed: { plantId: number; line: number }[] = [];
  let lineNo = 1;
  let next = 0;
  for (let i = 0; i <= lines.lines.length; i++) {
    while (next < byAt.length && byAt[next]!.at === i) {
      const ins = byAt[next++]!;
      placed.push({ plantId: ins.plantId, line: lineNo });
      parts.push(ins.snippet);
      lineNo += lineCount(ins.snippet);
    }
    if (i < lines.lines.length) {
      parts.push(lines.lines[i]!);
      lineNo++;
    }
  }
  if (next !== byAt.length) throw new Error('internal: an insertion point is past the end of the file');
  // When the original text had no final newline, the last original line is also the last part.
  return { text: parts.join('\n'), placed };
}

/** Where `secret` sits, given that `snippet` starts at 1-based line `firstLine`. */
function locate(snippet: string, secret: string, firstLine: number): Pick<PlantRecord, 'startLine' | 'startColumn' | 'endLine' | 'endColumn'> {
  const idx = snippet.indexOf(secret);
  const pos = (offset: number): { line: number; column: number } => {
    const before = snippet.slice(0, offset);
    const nl = before.lastIndexOf('\n');
    return { line: firstLine + lineCount(before) - 1, column: offset - (nl + 1) + 1 };
  };
  const start = pos(idx);
  const end = pos(idx + secret.length);
  return { startLine: start.line, startColumn: start.column, endLine: end.line, endColumn: end.column };
}

function lineCount(s: string): number {
  let n = 1;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Regular text files under node_modules, sorted, without symlinks, binaries or scanner configs. */
function listSources(nodeModules: string): SourceFile[] {
  const out: SourceFile[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const walk = (dir: string, rel: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (SKIP_NAMES.has(e.name) || SKIP_NAME_RE.test(e.name)) continue;
      if (rel === '' && e.name === '.bin') continue;
      const abs = path.join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(abs, r);
      else if (e.isFile()) {
        const bytes = statSync(abs).size;
        if (bytes === 0 || bytes > MAX_FILE_BYTES) continue;
        const buf = readFileSync(abs);
        if (buf.includes(0)) continue;
        let text: string;
        try {
          text = decoder.decode(buf);
        } catch {
          continue; // not UTF-8: not source text
        }
        out.push({ rel: r, abs, bytes, ext: extOf(e.name), suppressed: SUPPRESSION_RE.test(text) });
      }
    }
  };
  walk(nodeModules, '');
  return out;
}

/** Makes the corpus a git checkout with one commit, as a scanned repository would be. */
function commitCorpus(root: string): void {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
    GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z',
    GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z',
  };
  const git = (...args: string[]): void => {
    execFileSync('git', ['-C', root, '-c', 'core.excludesFile=/dev/null', '-c', 'commit.gpgsign=false', '-c', 'core.autocrlf=false', ...args], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
      maxBuffer: 1 << 26,
    });
  };
  git('init', '-q', '-b', 'main');
  git('add', '-A', '-f');
  git('commit', '-q', '--no-verify', '-m', 'benchmark corpus');
}

function extOf(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  if (base.startsWith('.') && base.indexOf('.', 1) === -1) return base; // .env, .npmrc
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '(none)';
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export function mb(bytes: number): string {
  return (bytes / 1_000_000).toFixed(1);
}
