/**
 * Applies peers' suppressions to a scan's findings, after Keywarden's own baseline.
 *
 * Rules that need only what a finding carries (path, line, commit, fingerprint) decide at once.
 * Rules that look at the secret or its line (detect-secrets' SHA-1, Gitleaks' regexes and
 * stopwords, ggshield occurrence hashes) need the raw text, which never leaves the scan worker:
 * it is read again here from the finding's source (the blob at its commit, the index entry, or
 * the work tree file, never through a symlink or outside the root), cut at the finding's range,
 * and used only if it hashes to the finding's fingerprint. It is held in memory for that one
 * check, one file at a time, and never kept, returned or logged. A finding whose text cannot be
 * found again (inside an archive, a decoded view, a changed file) is not suppressed by such a
 * rule: it stays reported, and a counted warning says so.
 */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { runGit } from '../../git/run-git.js';
import { readFileAt } from '../../scm/local-git.js';
import { lineStarts } from '../../util/line-column.js';
import { builtinDetectors } from '../detectors/index.js';
import { fingerprintSecret } from '../redact.js';
import { readEntryText } from '../sources/read-file.js';
import type { Finding, ScanWarning } from '../types.js';
import { createPeerMatcher, type PeerContent } from './match.js';
import { providerOf } from './rule-map.js';
import type { PeerOrigin, PeerSource, PeerSuppressions } from './types.js';

/** Where a finding's text is read again. */
export type PeerContentSource = { kind: 'tree' } | { kind: 'git' } | { kind: 'staged'; indexFile?: string } | { kind: 'none' };

export interface ApplyPeerOptions {
  /** The scan root (tree scans) or the repository (git scans). */
  root: string;
  source: PeerContentSource;
  /** Largest file read again (the scan's `maxFileSize`). */
  maxFileSize: number;
}

export interface ApplyPeerResult {
  kept: Finding[];
  /** Each suppressed finding with the rule that suppressed it (no secret in either). */
  suppressed: { finding: Finding; origin: PeerOrigin }[];
  suppressedBy: Partial<Record<PeerSource, number>>;
  warnings: ScanWarning[];
}

/** Distinct files read again for content rules; past this, findings are kept and counted. */
const MAX_CONTENT_FILES = 5000;

let providers: ReadonlySet<string> | undefined;

/**
 * @example
 * const r = await applyPeerSuppressions(findings, peer, { root: '.', source: { kind: 'tree' }, maxFileSize: 50 << 20 });
 * r.kept; r.suppressedBy; // { gitleaksignore: 2 }
 */
export async function applyPeerSuppressions(findings: readonly Finding[], peer: PeerSuppressions, options: ApplyPeerOptions): Promise<ApplyPeerResult> {
  const out: ApplyPeerResult = { kept: [], suppressed: [], suppressedBy: {}, warnings: [] };
  if (!peer.rules.length) {
    out.kept = [...findings];
    return out;
  }
  providers ??= new Set(builtinDetectors.map((d) => providerOf(d.id)));
  const matcher = createPeerMatcher(peer.rules, { providers });
  const verdict: (PeerOrigin | undefined)[] = new Array(findings.length);
  // Findings no cheap rule decides but a content rule might, grouped by where their text is.
  const byFile = new Map<string, number[]>();
  findings.forEach((f, i) => {
    verdict[i] = matcher.match(f);
    if (verdict[i] || !matcher.needsContent(f)) return;
    const key = `${f.commit ?? ''}\0${f.file}`;
    (byFile.get(key) ?? byFile.set(key, []).get(key)!).push(i);
  });
  let unchecked = 0;
  let reads = 0;
  const reader = createContentReader(options);
  for (const idx of byFile.values()) {
    const f0 = findings[idx[0]!]!;
    const text = reads++ < MAX_CONTENT_FILES && f0.member === undefined ? await reader(f0) : undefined;
    for (const i of idx) {
      const f = findings[i]!;
      const content = text === undefined || f.member !== undefined ? undefined : contentAt(text, f);
      if (content) verdict[i] = matcher.match(f, content);
      else unchecked++;
    }
  }
  findings.forEach((f, i) => {
    const by = verdict[i];
    if (!by) {
      out.kept.push(f);
      return;
    }
    out.suppressed.push({ finding: f, origin: by });
    out.suppressedBy[by.source] = (out.suppressedBy[by.source] ?? 0) + 1;
  });
  if (unchecked) {
    out.warnings.push({
      code: 'KW_PEER_IGNORE_UNCHECKED',
      message: `${unchecked} finding${unchecked === 1 ? '' : 's'} could not be checked against the secret-based rules of ${peer.files.join(', ') || 'the peer files'} (the text is inside an archive or a decoded view, changed since the scan, or in more than ${MAX_CONTENT_FILES} files); ${unchecked === 1 ? 'it is' : 'they are'} reported.`,
    });
  }
  return out;
}

/** The finding's secret and first line, if the text still holds it at its range. */
function contentAt(text: string, f: Finding): PeerContent | undefined {
  const starts = lineStarts(text);
  const lineEnd = (i: number): number => {
    const next = starts[i + 1];
    if (next === undefined) return text.length;
    return text[next - 2] === '\r' ? next - 2 : next - 1;
  };
  const a = starts[f.startLine - 1];
  const b = starts[f.endLine - 1];
  if (a === undefined || b === undefined) return undefined;
  const from = a + f.startColumn - 1;
  const to = b + f.endColumn - 1;
  if (to < from || from > lineEnd(f.startLine - 1) || to > text.length) return undefined;
  const secret = text.slice(from, to);
  if (fingerprintSecret(secret) !== f.fingerprint) return undefined;
  return { secret, line: text.slice(a, lineEnd(f.startLine - 1)) };
}

/** Reads a finding's file again from where the scan read it; undefined when that is not possible. */
function createContentReader(options: ApplyPeerOptions): (f: Finding) => Promise<string | undefined> {
  const { root, source, maxFileSize } = options;
  if (source.kind === 'none') return async () => undefined;
  if (source.kind === 'git') {
    return async (f) => {
      if (!f.commit) return undefined;
      const at = await readFileAt(root, f.commit, f.file, maxFileSize).catch(() => undefined);
      return at?.data.toString('utf8');
    };
  }
  if (source.kind === 'staged') {
    const index = source.indexFile ? { indexFile: source.indexFile } : {};
    return async (f) => {
      if (f.file.includes('\n')) return undefined;
      const r = await runGit(root, ['cat-file', 'blob', `:0:${f.file}`], { maxStdout: maxFileSize, ...index }).catch(() => undefined);
      return r && r.code === 0 ? r.stdout.toString('utf8') : undefined;
    };
  }
  let top: string | undefined;
  return async (f) => {
    try {
      top ??= realpathSync(statSync(root).isDirectory() ? root : path.dirname(root));
      const abs = path.resolve(top, f.file);
      const dir = realpathSync(path.dirname(abs));
      if (dir !== top && !dir.startsWith(`${top}${path.sep}`)) return undefined;
      // Opened as the scan opens a tree entry: never through a symlink, never a special file.
      return readEntryText(path.join(dir, path.basename(abs)), maxFileSize);
    } catch {
      return undefined;
    }
  };
}
