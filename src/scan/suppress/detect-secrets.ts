/**
 * detect-secrets' `.secrets.baseline` (Yelp): `results` maps a file to the secrets found in it,
 * each with `hashed_secret` (hex SHA-1 of the secret as detect-secrets extracted it),
 * `line_number` and `type`. An entry audited `is_secret: true` is a real secret someone kept on
 * record, not a suppression; audited `false` and unaudited entries are accepted, as
 * detect-secrets accepts every baseline entry. A result is matched by file and hash (never by
 * line: detect-secrets moves line numbers itself), the hash computed from the finding's secret
 * in memory.
 *
 * The baseline's file, line and secret filters (`exclude.files` / `exclude.lines` in 0.x,
 * `filters_used` `should_exclude_file` / `should_exclude_line` / `should_exclude_secret` in 1.x)
 * are honoured too; a pattern the linear-time engine cannot run is dropped with a warning.
 */
import { jsonErrorOffset } from './json-position.js';
import { compilePeerPattern, peerPatternFound, peerWarning } from './patterns.js';
import type { ContentRule, HashRule, ParsedPeerFile, PathRule, PeerOrigin, PeerWarning } from './types.js';

const MAX_ENTRIES = 200_000;
const FILTER = 'detect_secrets.filters.regex.';

export function parseSecretsBaseline(text: string, file = '.secrets.baseline'): ParsedPeerFile {
  const warnings: PeerWarning[] = [];
  const out: ParsedPeerFile = { rules: [], warnings, notSuppressions: [] };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec(String((e as Error).message));
    const pos = m ? Number(m[1]) : jsonErrorOffset(text);
    const before = pos === undefined ? undefined : text.slice(0, pos);
    const at = before === undefined ? {} : { line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') };
    warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file, ...at }, 'not valid JSON; its results are not applied.'));
    return out;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, 'expected a JSON object with "results"; nothing is applied.'));
    return out;
  }
  const obj = data as Record<string, unknown>;
  const results = obj.results;
  if (results !== undefined && (typeof results !== 'object' || results === null || Array.isArray(results))) {
    warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, '"results" must be an object keyed by file; results are not applied.'));
  } else if (results) {
    let n = 0;
    for (const [name, list] of Object.entries(results as Record<string, unknown>)) {
      const path = name.replace(/\\/g, '/').replace(/^\.\//, '');
      if (!Array.isArray(list)) {
        warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, `results for one file are not a list; they are ignored.`));
        continue;
      }
      list.forEach((r, i) => {
        if (n++ >= MAX_ENTRIES) return;
        const e = typeof r === 'object' && r !== null ? (r as Record<string, unknown>) : {};
        const sha1 = typeof e.hashed_secret === 'string' ? e.hashed_secret.toLowerCase() : '';
        const type = typeof e.type === 'string' ? e.type.slice(0, 80) : 'unknown';
        const line = typeof e.line_number === 'number' ? e.line_number : undefined;
        const audited = e.is_secret === false;
        const source = audited ? 'detect-secrets' : 'detect-secrets-unaudited';
        const origin: PeerOrigin = { tool: 'detect-secrets', source, file, entry: `result ${path}${line ? `:${line}` : ''} (${type}) #${i + 1}` };
        if (!/^[0-9a-f]{40}$/.test(sha1)) {
          warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, `${origin.entry}: "hashed_secret" is not a SHA-1; the entry is ignored.`));
          return;
        }
        if (e.is_secret === true) {
          out.notSuppressions.push({ origin, why: 'audited as a real secret (is_secret: true): not a suppression' });
          return;
        }
        const rule: HashRule = { kind: 'hash', origin, file: path, sha1, peerType: type, audited };
        out.rules.push(rule);
      });
    }
  }
  // Filters: 0.x `exclude`, 1.x `filters_used`.
  const filters: { target: 'file' | 'line' | 'secret'; patterns: unknown; label: string }[] = [];
  const exclude = obj.exclude;
  if (typeof exclude === 'object' && exclude !== null) {
    const ex = exclude as Record<string, unknown>;
    filters.push({ target: 'file', patterns: ex.files, label: 'exclude.files' }, { target: 'line', patterns: ex.lines, label: 'exclude.lines' });
  }
  if (Array.isArray(obj.filters_used)) {
    for (const f of obj.filters_used) {
      const p = typeof f === 'object' && f !== null ? (f as Record<string, unknown>) : {};
      const which = typeof p.path === 'string' && p.path.startsWith(FILTER) ? p.path.slice(FILTER.length) : '';
      const target = which === 'should_exclude_file' ? 'file' : which === 'should_exclude_line' ? 'line' : which === 'should_exclude_secret' ? 'secret' : undefined;
      if (target) filters.push({ target, patterns: p.pattern, label: which });
    }
  }
  for (const f of filters) {
    const list = typeof f.patterns === 'string' ? [f.patterns] : Array.isArray(f.patterns) ? f.patterns.filter((x): x is string => typeof x === 'string') : [];
    list.forEach((src, i) => {
      const origin: PeerOrigin = { tool: 'detect-secrets', source: 'detect-secrets', file, entry: `${f.label} #${i + 1}` };
      const re = compilePeerPattern(src);
      if ('problem' in re) {
        warnings.push(peerWarning('KW_PEER_IGNORE_UNSUPPORTED', { file }, `${origin.entry}: the pattern is ${re.problem}; it is not applied.`));
        return;
      }
      if (f.target === 'file') out.rules.push({ kind: 'path', origin, test: (p) => peerPatternFound(re, p) } satisfies PathRule);
      else out.rules.push({ kind: 'content', origin, target: f.target, pattern: re } satisfies ContentRule);
    });
  }
  return out;
}

/**
 * The strings detect-secrets may have hashed for the secret a Keywarden finding holds: the
 * secret itself, without quotes, the header its private-key plugin matches, and the password of
 * a URL's user info (its basic-auth plugin).
 */
export function detectSecretsCandidates(secret: string): string[] {
  const out = new Set<string>([secret]);
  const q = secret[0];
  if (secret.length >= 2 && (q === '"' || q === "'" || q === '`') && secret.endsWith(q)) out.add(secret.slice(1, -1));
  const pem = /BEGIN (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY(?: BLOCK)?/.exec(secret.slice(0, 200));
  if (pem) out.add(pem[0]);
  if (secret.startsWith('PuTTY-User-Key-File-2')) out.add('PuTTY-User-Key-File-2');
  const auth = /:\/\/[^{}\s:@/]{0,256}:([^{}\s@]{1,512})@/.exec(secret.slice(0, 2048));
  if (auth) out.add(auth[1]!);
  return [...out];
}
