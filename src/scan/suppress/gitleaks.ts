/**
 * Gitleaks' suppressions: `.gitleaksignore` (one fingerprint a line, `#` comments) and the
 * allowlists of `.gitleaks.toml`.
 *
 * Fingerprints are `file:rule-id:line` (matched in every mode) or `commit:file:rule-id:line`
 * (matched only against a finding of that commit, as Gitleaks does; Gitleaks 8.26+ writes the
 * commit abbreviated). They are parsed from the right, so a path may hold colons, and
 * backslashes in paths read as slashes, as Gitleaks reads them.
 *
 * Allowlists: `[allowlist]` (older) and `[[allowlists]]` apply to every finding;
 * `[[rules.allowlists]]`, `[rules.allowlist]` and `targetRules` only to findings whose rule maps
 * to that Gitleaks rule (`rule-map.ts`). `condition` OR (default) allows a finding when any check
 * holds, AND when every non-empty one does; `regexTarget` is `secret` (default), `match` or
 * `line`; `stopwords` are looked for in the secret, case-insensitively. An allowlist with a
 * pattern that cannot be compiled is dropped whole (dropping one check of an AND list would widen
 * it), with a warning.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { compilePeerPattern, peerWarning } from './patterns.js';
import type { AllowlistRule, LocationRule, ParsedPeerFile, PeerOrigin, PeerWarning } from './types.js';

const MAX_ENTRIES = 200_000;

/** Parses a `.gitleaksignore`. */
export function parseGitleaksIgnore(text: string, file = '.gitleaksignore'): ParsedPeerFile {
  const rules: LocationRule[] = [];
  const warnings: PeerWarning[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length && rules.length < MAX_ENTRIES; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith('#')) continue;
    const line = raw.replace(/\\/g, '/');
    const at = { file, line: i + 1 };
    const lineSep = line.lastIndexOf(':');
    const ruleSep = lineSep > 0 ? line.lastIndexOf(':', lineSep - 1) : -1;
    const lineNo = Number(line.slice(lineSep + 1));
    if (ruleSep <= 0 || !/^\d{1,9}$/.test(line.slice(lineSep + 1)) || lineNo < 1) {
      warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', at, 'not a Gitleaks fingerprint (commit:file:rule-id:line or file:rule-id:line); the line is ignored.'));
      continue;
    }
    const peerRule = line.slice(ruleSep + 1, lineSep);
    let head = line.slice(0, ruleSep);
    // `commit:path`: a leading 7–40 hex digits before a colon is a commit (a path rarely is).
    const m = /^([0-9a-fA-F]{7,40}):(.+)$/.exec(head);
    const commit = m ? m[1]!.toLowerCase() : undefined;
    if (m) head = m[2]!;
    head = head.replace(/^\.\//, '');
    if (!head || !peerRule) {
      warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', at, 'the fingerprint has an empty path or rule id; the line is ignored.'));
      continue;
    }
    const entry = `fingerprint ${commit ? `${commit.slice(0, 12)}:` : ''}${head}:${peerRule}:${lineNo}`;
    rules.push({ kind: 'location', origin: { tool: 'gitleaks', source: 'gitleaksignore', file, line: i + 1, entry }, file: head, line: lineNo, ...(commit ? { commit } : {}), peerRule });
  }
  return { rules, warnings, notSuppressions: [] };
}

type Table = Record<string, unknown>;

/** Parses a `.gitleaks.toml` for its allowlists (its rules are Gitleaks' business, not ours). */
export function parseGitleaksConfig(text: string, file = '.gitleaks.toml'): ParsedPeerFile {
  const warnings: PeerWarning[] = [];
  let data: Table;
  try {
    data = lowerKeys(parseToml(text)) as Table;
  } catch (e) {
    // TomlError messages quote the file: only its position is kept.
    const at = e instanceof TomlError && e.line ? { line: e.line, ...(e.column ? { column: e.column } : {}) } : {};
    warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file, ...at }, 'not valid TOML; its allowlists are not applied.'));
    return { rules: [], warnings, notSuppressions: [] };
  }
  const rules: AllowlistRule[] = [];
  const add = (value: unknown, label: string, peerRules?: string[]): void => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, `${label} is not a table; it is ignored.`));
      return;
    }
    const r = allowlistOf(value as Table, { tool: 'gitleaks', source: 'gitleaks-allowlist', file, entry: label }, warnings, peerRules);
    if (r) rules.push(r);
  };
  const globalOld = data.allowlist;
  const globals = asArray(data.allowlists);
  if (globalOld !== undefined && globals.length) {
    warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, '[allowlist] cannot be used alongside [[allowlists]] (Gitleaks refuses the file); neither is applied.'));
  } else {
    if (globalOld !== undefined) add(globalOld, '[allowlist]');
    globals.forEach((a, i) => {
      const targets = typeof a === 'object' && a !== null ? stringList((a as Table).targetrules) : [];
      add(a, `[[allowlists]] #${i + 1}`, targets.length ? targets : undefined);
    });
  }
  asArray(data.rules).forEach((r, i) => {
    if (typeof r !== 'object' || r === null) return;
    const rule = r as Table;
    const id = typeof rule.id === 'string' ? rule.id : undefined;
    const own = [...(rule.allowlist !== undefined ? [rule.allowlist] : []), ...asArray(rule.allowlists)];
    if (!own.length) return;
    if (!id) {
      warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file }, `[[rules]] #${i + 1} has allowlists but no id; they are ignored.`));
      return;
    }
    own.forEach((a, j) => add(a, `[[rules]] ${id} allowlist #${j + 1}`, [id]));
  });
  const extend = data.extend;
  if (typeof extend === 'object' && extend !== null && (typeof (extend as Table).path === 'string' || typeof (extend as Table).url === 'string')) {
    warnings.push(peerWarning('KW_PEER_IGNORE_UNSUPPORTED', { file }, '[extend] path/url is not followed: only the allowlists in this file are applied.'));
  }
  return { rules, warnings, notSuppressions: [] };
}

function allowlistOf(t: Table, origin: PeerOrigin, warnings: PeerWarning[], peerRules?: string[]): AllowlistRule | undefined {
  const bad = (why: string): undefined => {
    warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', origin, `${origin.entry}: ${why}; this allowlist is not applied.`));
    return undefined;
  };
  const cond = typeof t.condition === 'string' ? t.condition.toUpperCase() : '';
  if (!['', 'OR', '||', 'AND', '&&'].includes(cond)) return bad(`unknown condition (expected AND or OR)`);
  const target = typeof t.regextarget === 'string' && t.regextarget ? t.regextarget : 'secret';
  if (target !== 'secret' && target !== 'match' && target !== 'line') return bad('unknown regexTarget (expected secret, match or line)');
  const compileAll = (key: string): ReturnType<typeof compilePeerPattern>[] => stringList(t[key]).map(compilePeerPattern);
  const paths = compileAll('paths');
  const regexes = compileAll('regexes');
  const broken = [...paths, ...regexes].find((p): p is { problem: string } => 'problem' in p);
  if (broken) return bad(`a pattern is ${broken.problem}`);
  const commits = stringList(t.commits).map((c) => c.trim().toLowerCase()).filter(Boolean);
  const stopwords = stringList(t.stopwords).map((s) => s.toLowerCase()).filter(Boolean);
  if (!commits.length && !paths.length && !regexes.length && !stopwords.length) return bad('it has no commits, paths, regexes or stopwords');
  const label = [commits.length && 'commits', paths.length && 'paths', regexes.length && 'regexes', stopwords.length && 'stopwords'].filter(Boolean).join(', ');
  return {
    kind: 'allowlist',
    origin: { ...origin, entry: `${origin.entry} (${label})` },
    condition: cond === 'AND' || cond === '&&' ? 'and' : 'or',
    commits,
    paths: paths as AllowlistRule['paths'],
    regexTarget: target,
    regexes: regexes as AllowlistRule['regexes'],
    stopwords,
    ...(peerRules ? { peerRules } : {}),
  };
}

/** Viper, which Gitleaks reads its config with, ignores the case of keys. */
function lowerKeys(v: unknown, depth = 0): unknown {
  if (depth > 32) return undefined;
  if (Array.isArray(v)) return v.map((x) => lowerKeys(x, depth + 1));
  if (typeof v === 'object' && v !== null && !(v instanceof Date)) {
    const out: Table = {};
    for (const [k, x] of Object.entries(v)) out[k.toLowerCase()] = lowerKeys(x, depth + 1);
    return out;
  }
  return v;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
