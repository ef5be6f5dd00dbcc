/**
 * The text method: the secret's range becomes `${NAME}` (or the safe value), nothing else moves.
 * For files no parser here knows (properties, INI, TOML, Dockerfile, shell, …) and as the fallback
 * for scripts that do not parse. `${NAME}` is the reference most of these formats (or their
 * loaders) resolve from the environment: shell, Dockerfile, docker compose, Spring properties;
 * elsewhere it is a placeholder that the application must resolve, and the note says so.
 */
import { lineIndexOf } from '../util/line-column.js';
import { envNameForSite, hasConventionalName, isGenericName, type EnvNamer } from './env-name.js';
import type { TextEdit, VerifiedSite } from './sites.js';
import type { SiteOutcome } from './types.js';

export interface PatchContext {
  text: string;
  /** Verified, sorted, non-overlapping. */
  sites: VerifiedSite[];
  starts: number[];
  namer: EnvNamer;
}

export interface FormatPatch {
  edits: TextEdit[];
  /** Sites this patcher could not patch (by input index). Every other site is in an edit. */
  outcomes: Map<number, SiteOutcome>;
  notes: string[];
}

export interface TextPatchOptions {
  /** `.env.example` and its kin: a secret that is the whole value is emptied, the line keeps its name. */
  template?: boolean;
}

const KEY_BEFORE = [
  // KEY=, export KEY=, ENV KEY=, key: , "key" = ", spring.datasource.password=
  /^\s*(?:export\s+|env\s+|arg\s+|set\s+|setx\s+|readonly\s+|local\s+|const\s+|let\s+|var\s+|declare\s+(?:-[a-zA-Z]+\s+)*)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?::=|=|:)\s*["']?$/i,
  // Dockerfile: ENV KEY value
  /^\s*env\s+([A-Za-z_][A-Za-z0-9_]*)\s+["']?$/i,
];
const WHOLE_AFTER = /^["']?\s*,?\s*(?:(?:#|\/\/|;).*)?\r?$/;

/** The key of a `key = value` line when the secret is that whole value, else undefined. */
function keyOfWholeValue(before: string, after: string): string | undefined {
  if (!WHOLE_AFTER.test(after)) return undefined;
  for (const re of KEY_BEFORE) {
    const m = re.exec(before);
    if (m) return m[1];
  }
  return undefined;
}

export function lineAround(text: string, starts: readonly number[], start: number, end: number): { before: string; after: string } {
  const lineStart = starts[lineIndexOf(starts, start)]!;
  const nl = text.indexOf('\n', end);
  return { before: text.slice(lineStart, start), after: text.slice(end, nl === -1 ? text.length : nl) };
}

export function patchText(ctx: PatchContext, options: TextPatchOptions = {}): FormatPatch {
  const edits: TextEdit[] = [];
  let placeholders = false;
  for (const s of ctx.sites) {
    const { before, after } = lineAround(ctx.text, ctx.starts, s.start, s.end);
    const key = s.secret.includes('\n') ? undefined : keyOfWholeValue(before, after);
    if (s.replaceWith.kind === 'value') {
      edits.push({ start: s.start, end: s.end, text: s.replaceWith.value, sites: [s.index] });
    } else if (options.template && key !== undefined) {
      edits.push({ start: s.start, end: s.end, text: '', sites: [s.index] });
    } else {
      const name = ctx.namer.nameFor(s.site.fingerprint, key !== undefined && !(isGenericName(key) && hasConventionalName(s.site)) ? key : envNameForSite(s.site));
      edits.push({ start: s.start, end: s.end, text: `\${${name}}`, sites: [s.index], env: [{ name, fingerprint: s.site.fingerprint }] });
      placeholders = true;
    }
  }
  const notes: string[] = [];
  if (placeholders) {
    notes.push(
      'The secret became `${NAME}`: shells, Dockerfiles, docker compose and Spring read it from the environment; ' +
        'any other reader of this file must resolve the placeholder itself.',
    );
  }
  if (options.template && edits.some((e) => e.text === '')) notes.push('A template lists names, not values: the value was emptied.');
  return { edits, outcomes: new Map(), notes };
}
