/**
 * After a rotation that made a new key (AWS asymmetric keys cannot rotate in place), the code's
 * references to the old key id, ARN or alias point at the new one.
 *
 * Whole tokens only: an occurrence counts when the characters around it cannot continue an id
 * (letters, digits, `_`, `-`; after it also `/`), so `alias/app` is never rewritten inside
 * `alias/app-data` or `alias/app/v2`, nor `1234abcd-…` inside `1234abcd-…-x`. A `/` or `:` before
 * it is a boundary: the old key id inside that key's ARN (`…:key/1234abcd-…`) is rewritten, as the
 * new key lives in the same account and region. All replacements happen in one pass, longest
 * match first at each place, and replaced text is never matched again.
 */
import { ErrorCode, KeywardenError } from '../errors.js';

const ID_CHAR = /[A-Za-z0-9_-]/;
const ID_CHAR_AFTER = /[A-Za-z0-9_/-]/;

/**
 * @example
 * updateReferences("keyId: 'alias/app', data: 'alias/app-data'", [{ from: 'alias/app', to: 'alias/app-v2' }])
 * // { text: "keyId: 'alias/app-v2', data: 'alias/app-data'", count: 1 }
 */
export function updateReferences(text: string, replacements: Array<{ from: string; to: string }>): { text: string; count: number } {
  const list = replacements.filter((r) => r.from !== r.to);
  if (list.some((r) => r.from === '')) {
    throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A reference to replace must not be empty.', { fault: 'internal' });
  }
  const matches: Array<{ start: number; end: number; to: string }> = [];
  for (const r of list) {
    const checkBefore = ID_CHAR.test(r.from[0]!);
    const checkAfter = ID_CHAR_AFTER.test(r.from[r.from.length - 1]!);
    for (let i = text.indexOf(r.from); i !== -1; i = text.indexOf(r.from, i + 1)) {
      const end = i + r.from.length;
      if (checkBefore && i > 0 && ID_CHAR.test(text[i - 1]!)) continue;
      if (checkAfter && end < text.length && ID_CHAR_AFTER.test(text[end]!)) continue;
      matches.push({ start: i, end, to: r.to });
    }
  }
  matches.sort((a, b) => a.start - b.start || b.end - a.end);
  const parts: string[] = [];
  let pos = 0;
  let count = 0;
  for (const m of matches) {
    if (m.start < pos) continue;
    parts.push(text.slice(pos, m.start), m.to);
    pos = m.end;
    count++;
  }
  if (count === 0) return { text, count: 0 };
  parts.push(text.slice(pos));
  return { text: parts.join(''), count };
}
