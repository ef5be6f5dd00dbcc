/**
 * Terraform variable files (`*.tfvars`, `*.auto.tfvars`). Their values must be literals, and
 * Terraform's own way to take a variable from the environment is `TF_VAR_<name>`: so the
 * top-level assignment holding the secret is removed (all its lines, for a map or a heredoc) and
 * the note says to set `TF_VAR_<name>`. A safe value (`replaceWith: value`) is written in place,
 * escaped for an HCL quoted string.
 */
import { unsupported, type TextEdit } from './sites.js';
import { tfVarNote } from './patch-json.js';
import type { FormatPatch, PatchContext } from './patch-text.js';
import type { SiteOutcome } from './types.js';

interface Assignment {
  name: string;
  /** Start of the assignment's first line. */
  start: number;
  /** Just after the newline that ends it (or the end of the text). */
  end: number;
}

const ATTRIBUTE = /[A-Za-z_][A-Za-z0-9_-]*[ \t]*=(?!=)/y;
const HEREDOC = /<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n/y;

/** The top-level `name = value` assignments of an HCL file: strings, heredocs, comments and brackets skipped. */
function topLevelAssignments(text: string): Assignment[] {
  const out: Assignment[] = [];
  const n = text.length;
  let depth = 0;
  let lineStart = 0;
  let atLineStart = true;
  let current: Assignment | undefined;
  let i = 0;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      if (current && depth <= 0) {
        current.end = i + 1;
        out.push(current);
        current = undefined;
      }
      i++;
      lineStart = i;
      atLineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (atLineStart && depth <= 0 && !current) {
      ATTRIBUTE.lastIndex = i;
      const m = ATTRIBUTE.exec(text);
      if (m) {
        current = { name: m[0].replace(/[ \t]*=$/, ''), start: lineStart, end: n };
        depth = 0;
        i += m[0].length;
        atLineStart = false;
        continue;
      }
    }
    atLineStart = false;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      i = j < n && text[j] === '"' ? j + 1 : j;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? n : nl;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close === -1 ? n : close + 2;
    } else if (c === '<' && text[i + 1] === '<') {
      HEREDOC.lastIndex = i;
      const m = HEREDOC.exec(text);
      if (!m) {
        i += 2;
        continue;
      }
      // The body runs to the line that holds only the marker.
      const marker = m[1]!;
      let j = i + m[0].length;
      for (;;) {
        const nl = text.indexOf('\n', j);
        const line = text.slice(j, nl === -1 ? n : nl);
        if (line.trim() === marker || nl === -1) {
          i = nl === -1 ? n : nl;
          break;
        }
        j = nl + 1;
      }
    } else {
      if (c === '{' || c === '[' || c === '(') depth++;
      else if (c === '}' || c === ']' || c === ')') depth--;
      i++;
    }
  }
  if (current) out.push(current);
  return out;
}

function escapeHclString(value: string): string {
  // `${` and `%{` start templates in HCL strings; `$${` and `%%{` are their literal forms.
  return JSON.stringify(value).slice(1, -1).replace(/([$%])\{/g, (_, c: string) => `${c}${c}{`);
}

export function patchTfvars(ctx: PatchContext): FormatPatch {
  const assignments = topLevelAssignments(ctx.text);
  const edits: TextEdit[] = [];
  const outcomes = new Map<number, SiteOutcome>();
  const notes: string[] = [];
  const removed = new Map<Assignment, TextEdit>();
  for (const s of ctx.sites) {
    const a = assignments.find((x) => x.start <= s.start && s.end <= x.end);
    if (s.replaceWith.kind === 'value') {
      if (a && removed.has(a)) outcomes.set(s.index, unsupported(s.site, 'The assignment holding this site was removed for another site.'));
      else edits.push({ start: s.start, end: s.end, text: escapeHclString(s.replaceWith.value), sites: [s.index] });
      continue;
    }
    if (!a) {
      outcomes.set(s.index, unsupported(s.site, 'The secret is not inside a top-level variable assignment.'));
      continue;
    }
    const had = removed.get(a);
    if (had) {
      had.sites.push(s.index);
      continue;
    }
    const inside = edits.filter((e) => a.start <= e.start && e.end <= a.end);
    for (const e of inside) {
      for (const k of e.sites) outcomes.set(k, unsupported(ctx.sites.find((x) => x.index === k)!.site, 'The assignment was removed for another site.'));
      edits.splice(edits.indexOf(e), 1);
    }
    const edit: TextEdit = { start: a.start, end: a.end, text: '', sites: [s.index], env: [{ name: `TF_VAR_${a.name}`, fingerprint: s.site.fingerprint }] };
    removed.set(a, edit);
    edits.push(edit);
    notes.push(tfVarNote(a.name));
  }
  return { edits, outcomes, notes };
}
