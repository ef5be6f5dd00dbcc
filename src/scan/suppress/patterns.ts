/**
 * Peers' patterns compiled by the linear-time engine. Gitleaks writes Go RE2 syntax, which
 * `re2js` reads as it is; detect-secrets' Python patterns mostly are RE2 too, and the rest
 * (lookaround, backreferences) is refused. A pattern from a peer file is hostile input: its
 * length and compiled size are bounded, and matching is linear in the text (RE2 semantics).
 */
import type { RE2JS } from 're2js';
import { re2js } from '../linear-pattern.js';
import type { PeerOrigin, PeerWarning } from './types.js';

const MAX_PATTERN = 4096;
const MAX_PROGRAM = 20_000;
/** Text a peer pattern is matched against: a line longer than this is cut (patterns look at lines). */
export const MAX_PEER_TEXT = 64 * 1024;

/** Compiles a peer pattern, or says why not (never quoting the pattern: it may hold a secret-like value). */
export function compilePeerPattern(source: string): RE2JS | { problem: string } {
  if (source.length > MAX_PATTERN) return { problem: `longer than ${MAX_PATTERN} characters` };
  let re: RE2JS;
  try {
    re = re2js().compile(source);
  } catch {
    return { problem: 'not a valid RE2 pattern (lookaround and backreferences are not supported)' };
  }
  if (re.programSize() > MAX_PROGRAM) return { problem: 'too large once compiled' };
  return re;
}

/** Whether a compiled peer pattern occurs in `text` (searched, as Go's MatchString and Python's re.search do). */
export function peerPatternFound(re: RE2JS, text: string): boolean {
  return re.test(text.length > MAX_PEER_TEXT ? text.slice(0, MAX_PEER_TEXT) : text);
}

/**
 * ggshield's ignored path globs, as ggshield translates them: `*` is any part of one path segment,
 * `?` one character of it, `**\/` any number of folders, a trailing `**` everything below, a
 * leading `/` anchors at the root (else any folder), a trailing `/` matches everything under a
 * folder (else the whole name). `***` and a `**` not between slashes are invalid, as ggshield says.
 */
export function ggshieldGlob(pattern: string): RE2JS | { problem: string } {
  if (!pattern || pattern.length > MAX_PATTERN || /\*\*\*|\*\*[^/]|[^/]\*\*/.test(pattern)) return { problem: 'not a valid ggshield path pattern' };
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      out += pattern[i + 2] === '/' ? '(?:[^/]*/)*' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += /[.^$+{}()[\]\\|]/.test(c) ? `\\${c}` : c;
  }
  if (!pattern.endsWith('/')) out += '$';
  out = pattern.startsWith('/') ? `^${out.slice(1)}` : `(?:^|/)${out}`;
  return compilePeerPattern(out);
}

export function peerWarning(code: PeerWarning['code'], origin: Pick<PeerOrigin, 'file' | 'line'> & { column?: number }, message: string): PeerWarning {
  const where = origin.line ? `${origin.file}:${origin.line}${origin.column ? `:${origin.column}` : ''}` : origin.file;
  return { code, file: origin.file, ...(origin.line ? { line: origin.line, ...(origin.column ? { column: origin.column } : {}) } : {}), message: `${where}: ${message}` };
}
