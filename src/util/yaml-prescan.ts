/**
 * A linear look at YAML text before a YAML library sees it: the library recurses per level and
 * slows down sharply on thousands of them, and expands aliases. Shared by the policy parser and the
 * configuration inspector. Pure.
 */

/**
 * A cheap, linear over-estimate of nesting and of alias use, before the YAML library sees the text.
 * Counts flow brackets outside quotes and comments, indentation and leading `- ` runs.
 */
export function prescanYaml(text: string, maxDepth: number, maxAliases: number): { line: number; column: number; reason: 'too-deep' | 'alias-limit' } | undefined {
  const flowLimit = maxDepth * 2;
  const blockLimit = maxDepth * 8;
  let line = 1;
  let lineStart = 0;
  let flow = 0;
  let quote: string | undefined;
  let atLineStart = true;
  let indent = 0;
  let dashes = 0;
  let aliases = 0;
  const deep = (i: number) => ({ line, column: i - lineStart + 1, reason: 'too-deep' as const });
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = i + 1;
      atLineStart = true;
      indent = 0;
      dashes = 0;
      // A single-quoted scalar rarely spans lines; an apostrophe in a plain scalar must not hide the rest.
      if (quote === "'") quote = undefined;
      continue;
    }
    if (atLineStart && quote === undefined) {
      if (c === 32) {
        if (++indent > blockLimit) return deep(i);
        continue;
      }
      if ((c === 45 || c === 63) && (text.charCodeAt(i + 1) === 32 || text.charCodeAt(i + 1) === 9)) {
        dashes++;
        indent += 2;
        i++;
        if (dashes > flowLimit || indent > blockLimit) return deep(i);
        continue;
      }
      atLineStart = false;
    }
    if (quote !== undefined) {
      if (c === 92 && quote === '"') i++;
      else if (c === quote.charCodeAt(0)) quote = undefined;
      continue;
    }
    if ((c === 34 || c === 39) && (i === lineStart || ' \t[{,:-'.includes(text[i - 1]!))) quote = text[i];
    else if (c === 35 && (i === 0 || text.charCodeAt(i - 1) === 32 || text.charCodeAt(i - 1) === 9)) {
      const nl = text.indexOf('\n', i);
      i = (nl < 0 ? text.length : nl) - 1;
    } else if (c === 91 || c === 123) {
      if (++flow > flowLimit) return deep(i);
    } else if ((c === 93 || c === 125) && flow > 0) flow--;
    else if (c === 42 && (i === 0 || ' \t[{,:'.includes(text[i - 1]!)) && i + 1 < text.length && !' \t\r\n,]}'.includes(text[i + 1]!)) {
      if (++aliases > maxAliases) return { line, column: i - lineStart + 1, reason: 'alias-limit' };
    }
  }
  return undefined;
}
