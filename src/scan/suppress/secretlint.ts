/**
 * secretlint's `.secretlintignore`: gitignore-style patterns of paths secretlint does not lint,
 * relative to the folder it sits in, read with the `ignore` package (as the tree walker reads
 * `.gitignore`). The list is one rule, since a later `!pattern` re-includes what an earlier line
 * ignored; the line reported is the last pattern that matches the path.
 */
import ignore from 'ignore';
import { peerWarning } from './patterns.js';
import type { ParsedPeerFile, PathRule } from './types.js';

type Ignore = ReturnType<typeof ignore>;

export function parseSecretlintIgnore(text: string, file = '.secretlintignore'): ParsedPeerFile {
  const out: ParsedPeerFile = { rules: [], warnings: [], notSuppressions: [] };
  const all = ignore();
  const singles: { line: number; pattern: string; one: Ignore }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!line.trim() || line.startsWith('#')) return;
    try {
      const one = ignore().add(line);
      all.add(line);
      singles.push({ line: i + 1, pattern: line, one });
    } catch {
      out.warnings.push(peerWarning('KW_PEER_IGNORE_INVALID', { file, line: i + 1 }, 'not a valid gitignore pattern; the line is ignored.'));
    }
  });
  if (!singles.length) return out;
  const rule: PathRule = {
    kind: 'path',
    origin: { tool: 'secretlint', source: 'secretlintignore', file, entry: 'ignored paths' },
    test: (p) => ignores(all, p),
    which: (p) => {
      for (let i = singles.length - 1; i >= 0; i--) {
        const s = singles[i]!;
        if (!s.pattern.startsWith('!') && ignores(s.one, p)) return { line: s.line, entry: `pattern ${s.pattern.slice(0, 200)}` };
      }
      return undefined;
    },
  };
  out.rules.push(rule);
  return out;
}

function ignores(ig: Ignore, p: string): boolean {
  try {
    return ig.ignores(p);
  } catch {
    return false; // an absolute or `..` path: never ignored
  }
}
