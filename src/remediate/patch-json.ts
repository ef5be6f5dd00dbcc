/**
 * JSON (and JSONC): the part of the string value that is the secret becomes `${NAME}`, or the
 * safe value JSON-escaped. Everything else stays byte-identical. JSON cannot read the
 * environment, so `${NAME}` is a placeholder the application (or its config loader) must resolve;
 * the note says so. A file that parsed before must parse after, or nothing is changed.
 *
 * Terraform's `*.tfvars.json`: values must be literals, so the top-level member holding the
 * secret is removed and the note says to set `TF_VAR_<name>` (Terraform reads it).
 */
import { envNameForSite, isGenericName, joinEnvName, toEnvName } from './env-name.js';
import { applyEdits, endsInEscape, unsupported, type TextEdit } from './sites.js';
import type { FormatPatch, PatchContext } from './patch-text.js';
import type { SiteOutcome } from './types.js';

interface Token {
  type: 'string' | 'punct' | 'other';
  start: number;
  end: number;
}

interface Scan {
  tokens: Token[];
  comments: Array<[number, number]>;
}

/** A tolerant tokenizer: strings (with escapes), punctuation, comments, and runs of anything else. */
function scanJson(text: string): Scan {
  const tokens: Token[] = [];
  const comments: Array<[number, number]> = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      i++;
    } else if (c === 0x22) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) j += 2;
        else if (d === 0x22) {
          j++;
          break;
        } else if (d === 0x0a) break;
        else j++;
      }
      tokens.push({ type: 'string', start: i, end: Math.min(j, n) });
      i = Math.min(j, n);
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2f) {
      const nl = text.indexOf('\n', i);
      const end = nl === -1 ? n : nl;
      comments.push([i, end]);
      i = end;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      const close = text.indexOf('*/', i + 2);
      const end = close === -1 ? n : close + 2;
      comments.push([i, end]);
      i = end;
    } else if ('{}[]:,'.includes(text[i]!)) {
      tokens.push({ type: 'punct', start: i, end: i + 1 });
      i++;
    } else {
      let j = i + 1;
      while (j < n && !' \t\r\n"{}[]:,/'.includes(text[j]!)) j++;
      tokens.push({ type: 'other', start: i, end: j });
      i = j;
    }
  }
  return { tokens, comments };
}

/** Parses as JSON, or as JSON with comments and trailing commas (tsconfig, VS Code settings). */
function jsonParses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    // try JSONC below
  }
  const { tokens, comments } = scanJson(text);
  if (comments.length === 0 && !hasTrailingComma(text, tokens)) return false;
  const edits: TextEdit[] = comments.map(([start, end]) => ({ start, end, text: ' ', sites: [] }));
  tokens.forEach((t, k) => {
    const next = tokens[k + 1];
    if (isPunct(text, t, ',') && next && (isPunct(text, next, '}') || isPunct(text, next, ']'))) {
      edits.push({ start: t.start, end: t.end, text: ' ', sites: [] });
    }
  });
  try {
    JSON.parse(applyEdits(text, edits).text);
    return true;
  } catch {
    return false;
  }
}

function hasTrailingComma(text: string, tokens: readonly Token[]): boolean {
  return tokens.some((t, k) => isPunct(text, t, ',') && tokens[k + 1] !== undefined && '}]'.includes(text[tokens[k + 1]!.start]!));
}

function isPunct(text: string, t: Token, ch: string): boolean {
  return t.type === 'punct' && text[t.start] === ch;
}

function decodeKey(text: string, t: Token): string {
  const raw = text.slice(t.start, t.end);
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'string' ? v : raw.slice(1, -1);
  } catch {
    return raw.slice(1, -1);
  }
}

/** The string token holding `[start, end)` strictly inside its quotes, with the key it is the value of. */
function stringAt(text: string, tokens: readonly Token[], start: number, end: number): { token: Token; index: number; key: string | undefined } | undefined {
  let lo = 0;
  let hi = tokens.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = tokens[mid]!;
    if (t.end <= start) lo = mid + 1;
    else if (t.start > start) hi = mid - 1;
    else {
      if (t.type !== 'string' || !(t.start < start && end < t.end && text[t.end - 1] === '"')) return undefined;
      const colon = tokens[mid - 1];
      const keyToken = tokens[mid - 2];
      const key = colon && keyToken && isPunct(text, colon, ':') && keyToken.type === 'string' ? decodeKey(text, keyToken) : undefined;
      return { token: t, index: mid, key };
    }
  }
  return undefined;
}

/** For each string token, the key of the object or array that holds it. */
function parentKeys(text: string, tokens: readonly Token[]): Map<number, string | undefined> {
  const out = new Map<number, string | undefined>();
  const stack: Array<string | undefined> = [];
  tokens.forEach((t, k) => {
    if (t.type === 'string') {
      out.set(k, stack[stack.length - 1]);
    } else if (t.type === 'punct') {
      const ch = text[t.start];
      if (ch === '{' || ch === '[') {
        const colon = tokens[k - 1];
        const key = tokens[k - 2];
        stack.push(colon && key && isPunct(text, colon, ':') && key.type === 'string' ? decodeKey(text, key) : undefined);
      } else if (ch === '}' || ch === ']') stack.pop();
    }
  });
  return out;
}

export function patchJson(ctx: PatchContext): FormatPatch {
  const { text } = ctx;
  const { tokens } = scanJson(text);
  const parents = parentKeys(text, tokens);
  const edits: TextEdit[] = [];
  const outcomes = new Map<number, SiteOutcome>();
  let placeholders = false;
  for (const s of ctx.sites) {
    const at = stringAt(text, tokens, s.start, s.end);
    if (!at) {
      outcomes.set(s.index, unsupported(s.site, 'The secret is not inside a JSON string.'));
      continue;
    }
    if (endsInEscape(text.slice(at.token.start + 1, s.start)) || endsInEscape(s.secret)) {
      outcomes.set(s.index, unsupported(s.site, 'The range starts or ends inside an escape sequence.'));
      continue;
    }
    if (s.replaceWith.kind === 'value') {
      edits.push({ start: s.start, end: s.end, text: JSON.stringify(s.replaceWith.value).slice(1, -1), sites: [s.index] });
      continue;
    }
    const whole = s.start === at.token.start + 1 && s.end === at.token.end - 1;
    const own = whole && at.key !== undefined ? (isGenericName(at.key) ? joinEnvName(parents.get(at.index), at.key) : toEnvName(at.key)) : undefined;
    const preferred = own ?? envNameForSite(s.site);
    const name = ctx.namer.nameFor(s.site.fingerprint, preferred);
    edits.push({ start: s.start, end: s.end, text: `\${${name}}`, sites: [s.index], env: [{ name, fingerprint: s.site.fingerprint }] });
    placeholders = true;
  }
  const notes = placeholders
    ? ['JSON cannot read the environment: `${NAME}` is a placeholder that the application (or its config loader) must replace with the variable.']
    : [];
  return checked(text, { edits, outcomes, notes }, ctx);
}

/** A file that parsed before must parse after; else every site is unsupported and nothing changes. */
function checked(text: string, patch: FormatPatch, ctx: PatchContext): FormatPatch {
  if (patch.edits.length === 0 || !jsonParses(text)) return patch;
  if (jsonParses(applyEdits(text, patch.edits).text)) return patch;
  const outcomes = new Map(patch.outcomes);
  for (const s of ctx.sites) outcomes.set(s.index, unsupported(s.site, 'The edit would leave the JSON unparseable; patch it by hand.'));
  return { edits: [], outcomes, notes: [] };
}

interface Member {
  name: string;
  /** Where removing the member starts and ends (its comma and line included). */
  removeStart: number;
  removeEnd: number;
  /** The member's own span: key to the end of its value. */
  start: number;
  end: number;
}

/** The members of the top-level object, with the range that removes each cleanly. */
function topLevelMembers(text: string, tokens: readonly Token[]): Member[] {
  type Raw = { name: string; keyIndex: number; lastIndex: number; commaIndex: number | undefined };
  const members: Raw[] = [];
  let cur: Raw | undefined;
  let depth = 0;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.type === 'punct') {
      const ch = text[t.start]!;
      if (depth === 1 && (ch === ',' || ch === '}' || ch === ']')) {
        if (cur) {
          if (ch === ',') cur.commaIndex = k;
          members.push(cur);
          cur = undefined;
        }
        if (ch !== ',') depth--;
        continue;
      }
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') depth--;
    }
    if (depth === 1 && !cur && t.type === 'string' && tokens[k + 1] && isPunct(text, tokens[k + 1]!, ':')) {
      cur = { name: decodeKey(text, t), keyIndex: k, lastIndex: k, commaIndex: undefined };
    } else if (cur) {
      cur.lastIndex = k;
    }
  }
  if (cur) members.push(cur);
  return members.map((m, i) => {
    const start = tokens[m.keyIndex]!.start;
    const end = tokens[m.lastIndex]!.end;
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    const ownLine = /^[ \t]*$/.test(text.slice(lineStart, start));
    if (m.commaIndex !== undefined) {
      let removeEnd = tokens[m.commaIndex]!.end;
      const rest = /^[ \t]*\r?\n/.exec(text.slice(removeEnd, removeEnd + 256));
      if (ownLine && rest) removeEnd += rest[0].length;
      return { name: m.name, start, end, removeStart: ownLine && rest ? lineStart : start, removeEnd };
    }
    const prev = members[i - 1];
    if (prev?.commaIndex !== undefined) return { name: m.name, start, end, removeStart: tokens[prev.commaIndex]!.start, removeEnd: end };
    return { name: m.name, start, end, removeStart: ownLine ? lineStart : start, removeEnd: end };
  });
}

export function patchTfvarsJson(ctx: PatchContext): FormatPatch {
  const { text } = ctx;
  const { tokens } = scanJson(text);
  const members = topLevelMembers(text, tokens);
  const edits: TextEdit[] = [];
  const outcomes = new Map<number, SiteOutcome>();
  const notes: string[] = [];
  const byMember = new Map<Member, TextEdit>();
  const valueSites: PatchContext['sites'] = [];
  for (const s of ctx.sites) {
    if (s.replaceWith.kind === 'value') {
      valueSites.push(s);
      continue;
    }
    const m = members.find((x) => x.start <= s.start && s.end <= x.end);
    if (!m) {
      outcomes.set(s.index, unsupported(s.site, 'The secret is not inside a top-level variable of this file.'));
      continue;
    }
    const had = byMember.get(m);
    if (had) {
      had.sites.push(s.index);
      continue;
    }
    const name = `TF_VAR_${m.name}`;
    const edit: TextEdit = { start: m.removeStart, end: m.removeEnd, text: '', sites: [s.index], env: [{ name, fingerprint: s.site.fingerprint }] };
    byMember.set(m, edit);
    edits.push(edit);
    notes.push(tfVarNote(m.name));
  }
  if (valueSites.length > 0) {
    const rest = patchJson({ ...ctx, sites: valueSites });
    const free = rest.edits.filter((e) => !edits.some((r) => e.start < r.end && r.start < e.end));
    edits.push(...free);
    for (const [k, v] of rest.outcomes) outcomes.set(k, v);
  }
  return checked(text, { edits, outcomes, notes }, ctx);
}

export function tfVarNote(variable: string): string {
  return (
    `Terraform variable values must be literals, so the assignment of \`${variable}\` was removed: set TF_VAR_${variable} ` +
    `in the environment where Terraform runs (Terraform reads TF_VAR_<name>). If the variable has a default, ` +
    'Terraform uses it while TF_VAR_' + variable + ' is unset.'
  );
}
