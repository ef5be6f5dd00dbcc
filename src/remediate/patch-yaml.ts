/**
 * YAML: the scalar holding the secret is found with the `yaml` package's ranges, and edited by
 * text range: the secret part becomes `${NAME}` (or the safe value, escaped for the scalar's
 * style). A plain scalar inside a flow collection (`[a, b]`, `{k: v}`) cannot hold `{`, so there
 * the whole scalar is rewritten double-quoted. The result is parsed again: no new error, and every
 * edited scalar must read back with its replacement; otherwise nothing changes.
 *
 * Aliases are never expanded (no `toJS`), so an alias bomb costs only its text.
 */
import { isCollection, isPair, isScalar, parseAllDocuments, visit, type Document, type Scalar } from 'yaml';
import { envNameForSite, isGenericName, toEnvName } from './env-name.js';
import { applyEdits, unsupported, type TextEdit } from './sites.js';
import type { FormatPatch, PatchContext } from './patch-text.js';
import type { SiteOutcome } from './types.js';

interface ScalarAt {
  node: Scalar;
  start: number;
  valueEnd: number;
  /** The key of the pair whose value holds this scalar. */
  key: string | undefined;
  inFlow: boolean;
}

function parse(text: string): Document.Parsed[] {
  return Array.from(parseAllDocuments(text)) as Document.Parsed[];
}

function errorCount(docs: readonly Document.Parsed[]): number {
  return docs.reduce((n, d) => n + d.errors.length, 0);
}

function scalarsOf(docs: readonly Document.Parsed[]): ScalarAt[] {
  const out: ScalarAt[] = [];
  for (const doc of docs) {
    visit(doc, {
      Scalar(_key, node, path) {
        if (!node.range) return;
        // The key names the scalar only when the scalar is that pair's value (not an item of a list under it).
        const keys: string[] = [];
        let inFlow = false;
        for (let i = path.length - 1; i >= 0; i--) {
          const p = path[i];
          if (isCollection(p) && p.flow) inFlow = true;
          if (keys.length < 2 && isPair(p) && p.key !== node) keys.push(isScalar(p.key) ? String(p.key.value) : '');
        }
        const parent = path[path.length - 1];
        const own = isPair(parent) && parent.value === node ? keys[0] || undefined : undefined;
        const key = own !== undefined && isGenericName(own) && keys[1] ? `${keys[1]}_${own}` : own;
        out.push({ node, start: node.range[0], valueEnd: node.range[1], key, inFlow });
      },
    });
  }
  return out;
}

/** The inner range of a scalar (without quotes). */
function innerOf(text: string, s: ScalarAt): [number, number] {
  if (s.node.type === 'QUOTE_DOUBLE' || s.node.type === 'QUOTE_SINGLE') return [s.start + 1, s.valueEnd - 1];
  return [s.start, s.valueEnd];
}

/** A block scalar (`|`, `>`) whose content is exactly the range, indentation and final newlines aside. */
function isWholeBlock(text: string, at: ScalarAt, start: number, end: number): boolean {
  if (at.node.type !== 'BLOCK_LITERAL' && at.node.type !== 'BLOCK_FOLDED') return false;
  return /^[|>][^\n]*\n[ \t]*$/.test(text.slice(at.start, start)) && /^\s*$/.test(text.slice(end, at.valueEnd));
}

function escapeFor(type: Scalar['type'], value: string): string {
  if (type === 'QUOTE_DOUBLE') return JSON.stringify(value).slice(1, -1);
  if (type === 'QUOTE_SINGLE') return value.replace(/'/g, "''");
  return value;
}

export function patchYaml(ctx: PatchContext): FormatPatch {
  const { text } = ctx;
  const docs = parse(text);
  const before = errorCount(docs);
  const scalars = scalarsOf(docs).sort((a, b) => a.start - b.start);
  const outcomes = new Map<number, SiteOutcome>();
  const notes: string[] = [];
  /** Plain scalars in flow context, rewritten whole: one edit per scalar. */
  type Part = { s: PatchContext['sites'][number]; text: string; env: TextEdit['env'] };
  const requoted = new Map<Scalar, { at: ScalarAt; parts: Part[] }>();
  const edits: TextEdit[] = [];
  const expected: string[] = [];
  let placeholders = false;
  for (const s of ctx.sites) {
    let at: ScalarAt | undefined;
    for (const c of scalars) {
      if (c.start > s.start) break;
      const [a, b] = innerOf(text, c);
      if (a <= s.start && s.end <= b && (!at || c.start >= at.start)) at = c;
    }
    let replacement: string;
    let env: TextEdit['env'];
    if (s.replaceWith.kind === 'value') {
      replacement = s.replaceWith.value;
    } else {
      const [a, b] = at ? innerOf(text, at) : [-1, -1];
      const whole = at !== undefined && ((a === s.start && b === s.end) || isWholeBlock(text, at, s.start, s.end));
      const preferred = (whole && at?.key !== undefined ? toEnvName(at.key) : undefined) ?? envNameForSite(s.site);
      const name = ctx.namer.nameFor(s.site.fingerprint, preferred);
      replacement = `\${${name}}`;
      env = [{ name, fingerprint: s.site.fingerprint }];
      placeholders = true;
    }
    if (at) expected.push(replacement);
    const unsafePlain = s.replaceWith.kind === 'value' && !/^[\w./:@+=-]*$/.test(s.replaceWith.value);
    if (at && at.node.type === 'PLAIN' && (at.inFlow || unsafePlain)) {
      const entry = requoted.get(at.node) ?? { at, parts: [] };
      entry.parts.push({ s, text: replacement, env });
      requoted.set(at.node, entry);
      continue;
    }
    const type = at ? at.node.type : 'PLAIN';
    edits.push({ start: s.start, end: s.end, text: escapeFor(type, replacement), sites: [s.index], ...(env ? { env } : {}) });
  }
  for (const { at, parts } of requoted.values()) {
    const source = text.slice(at.start, at.valueEnd);
    if (source.includes('\n')) {
      for (const p of parts) {
        outcomes.set(p.s.index, unsupported(p.s.site, 'A multi-line plain scalar that must be quoted; patch it by hand.'));
        expected.splice(expected.indexOf(p.text), 1);
      }
      continue;
    }
    let value = '';
    let pos = at.start;
    for (const p of parts) {
      value += text.slice(pos, p.s.start) + p.text;
      pos = p.s.end;
    }
    value += text.slice(pos, at.valueEnd);
    const env = parts.flatMap((p) => p.env ?? []);
    edits.push({ start: at.start, end: at.valueEnd, text: JSON.stringify(value), sites: parts.map((p) => p.s.index), ...(env.length ? { env } : {}) });
  }
  const kept = edits;
  if (kept.length > 0) {
    let after: Document.Parsed[] | undefined;
    try {
      after = parse(applyEdits(text, kept).text);
    } catch {
      after = undefined;
    }
    const values = after ? scalarsOf(after).map((x) => String(x.node.value)) : [];
    const ok = after !== undefined && errorCount(after) <= before && expected.every((r) => values.some((v) => v.includes(r)));
    if (!ok) {
      for (const s of ctx.sites) outcomes.set(s.index, unsupported(s.site, 'The edit would change how this YAML parses; patch it by hand.'));
      return { edits: [], outcomes, notes: [] };
    }
  }
  if (placeholders) {
    notes.push(
      'The secret became `${NAME}`: docker compose and many config loaders resolve it from the environment; ' +
        'any other reader of this file must replace the placeholder itself.',
    );
  }
  return { edits: kept, outcomes, notes };
}
