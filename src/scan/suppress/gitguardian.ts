/**
 * ggshield's `.gitguardian.yaml` (or `.yml`). Version 2: `secret.ignored_matches` (each with a
 * `match` — the SHA-256 ggshield prints for an occurrence, or the secret itself — and a `name`),
 * `secret.ignored_paths` (ggshield globs), `secret.ignored_detectors`. Version 1 (no `version: 2`):
 * top-level `matches-ignore` (entries or bare hashes), `paths-ignore`, `banlisted-detectors`.
 * Keys are read with `-` or `_`, as ggshield reads them.
 *
 * Security property: a `match` that is the secret itself is turned into its SHA-256 here and the
 * text is dropped; no message quotes a `match`. `ignored_detectors` name GitGuardian's detectors,
 * which do not map onto Keywarden's one to one: they are not applied, with a warning.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { ggshieldGlob, peerPatternFound, peerWarning } from './patterns.js';
import type { MatchRule, ParsedPeerFile, PathRule, PeerWarning } from './types.js';

type Map = Record<string, unknown>;

export function parseGitGuardianConfig(text: string, file = '.gitguardian.yaml'): ParsedPeerFile {
  const warnings: PeerWarning[] = [];
  const out: ParsedPeerFile = { rules: [], warnings, notSuppressions: [] };
  // Loaded here, not at import: every scan imports this module, few repositories have the file.
  const { parseDocument } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: true });
  if (doc.errors.length) {
    // YAML errors quote the text around them: only the position is kept.
    const pos = doc.errors[0]!.linePos?.[0];
    const at = pos?.line ? { line: pos.line, ...(pos.col ? { column: pos.col } : {}) } : {};
    warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file, ...at }, 'not valid YAML; its ignores are not applied.'));
    return out;
  }
  let data: unknown;
  try {
    data = normalizeKeys(doc.toJS({ maxAliasCount: 100 }));
  } catch {
    warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, 'its YAML cannot be read (too many aliases?); its ignores are not applied.'));
    return out;
  }
  if (data === null || data === undefined) return out;
  if (typeof data !== 'object' || Array.isArray(data)) {
    warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, 'expected a mapping at the top; nothing is applied.'));
    return out;
  }
  const top = data as Map;
  const v2 = top.version === 2;
  const secret = v2 && typeof top.secret === 'object' && top.secret !== null ? (top.secret as Map) : {};
  const matches = v2 ? secret.ignored_matches : top.matches_ignore;
  const paths = v2 ? secret.ignored_paths : top.paths_ignore;
  const detectors = v2 ? secret.ignored_detectors : top.banlisted_detectors;
  const mk = (key: string): string => (v2 ? `secret.${key}` : key.replace(/_/g, '-'));

  if (matches !== undefined && !Array.isArray(matches)) warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, `${mk(v2 ? 'ignored_matches' : 'matches_ignore')} is not a list; it is ignored.`));
  (Array.isArray(matches) ? matches : []).forEach((m, i) => {
    const entry = typeof m === 'string' ? { match: m } : typeof m === 'object' && m !== null ? (m as Map) : {};
    const value = entry.match;
    const name = typeof entry.name === 'string' && entry.name ? entry.name.slice(0, 100) : undefined;
    const label = `${mk(v2 ? 'ignored_matches' : 'matches_ignore')} #${i + 1}${name ? ` (${name})` : ''}`;
    if (typeof value !== 'string' || !value) {
      warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, `${label} has no "match"; it is ignored.`));
      return;
    }
    const sha256 = new Set([createHash('sha256').update(value, 'utf8').digest('hex')]);
    const occurrence = /^[0-9a-fA-F]{64}$/.test(value);
    if (occurrence) sha256.add(value.toLowerCase());
    const fingerprint = `sha256:${occurrence ? value.toLowerCase() : [...sha256][0]!}`;
    out.rules.push({ kind: 'match', origin: { tool: 'gitguardian', source: 'gitguardian', file, entry: label }, sha256, occurrence, fingerprint } satisfies MatchRule);
  });

  if (paths !== undefined && !Array.isArray(paths)) warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, `${mk(v2 ? 'ignored_paths' : 'paths_ignore')} is not a list; it is ignored.`));
  (Array.isArray(paths) ? paths : []).forEach((p, i) => {
    const glob = typeof p === 'string' ? p : typeof p === 'object' && p !== null && typeof (p as Map).path === 'string' ? ((p as Map).path as string) : undefined;
    const label = `${mk(v2 ? 'ignored_paths' : 'paths_ignore')} #${i + 1}`;
    const re = glob === undefined ? { problem: 'not a string' } : ggshieldGlob(glob);
    if ('problem' in re) {
      warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, `${label} is ${re.problem}; it is ignored.`));
      return;
    }
    out.rules.push({ kind: 'path', origin: { tool: 'gitguardian', source: 'gitguardian', file, entry: `${label} ${glob!.slice(0, 200)}` }, test: (f) => peerPatternFound(re, f) } satisfies PathRule);
  });

  if (Array.isArray(detectors) && detectors.length) {
    warnings.push(
      peerWarning('KW_PEER_IGNORE_UNSUPPORTED', { file }, `${mk(v2 ? 'ignored_detectors' : 'banlisted_detectors')} names GitGuardian detectors, which do not map one to one onto Keywarden's; they are not applied. Use the policy's secrets.detectors (or --exclude-detectors) instead.`),
    );
  }
  return out;
}

/** ggshield reads `ignored-paths` and `ignored_paths` alike. */
function normalizeKeys(v: unknown, depth = 0): unknown {
  if (depth > 32) return undefined;
  if (Array.isArray(v)) return v.map((x) => normalizeKeys(x, depth + 1));
  if (typeof v === 'object' && v !== null && !(v instanceof Date)) {
    const out: Map = {};
    for (const [k, x] of Object.entries(v)) out[k.replace(/-/g, '_')] = normalizeKeys(x, depth + 1);
    return out;
  }
  return v;
}
