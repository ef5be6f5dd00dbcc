/**
 * Adding Keywarden to a hook manager's YAML (lefthook.yml, .pre-commit-config.yaml) and taking
 * it out again, keeping the team's file as it is: comments, order, quoting and layout.
 *
 * The `yaml` Document API says where things are (each node's source range) and what the file
 * means; the entry itself is spliced in as text, framed by the same marker comments as the shell
 * block, after the last line of the map or list it joins. The result is parsed again and must
 * mean exactly the old document plus the entry; when it does not (flow style, an odd layout) the
 * edit falls back to the Document API, which keeps comments but may normalise the layout. Taking
 * a framed entry out removes exactly its lines, so the file is restored byte for byte.
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isPair, isScalar, isSeq, parseDocument, stringify, type Document } from 'yaml';
import { ErrorCode, KeywardenError } from '../errors.js';
import type { HookName } from './names.js';
import { BLOCK_END, BLOCK_START, findBlock } from './shell-block.js';

export interface YamlEdit {
  text: string;
  action: 'added' | 'updated' | 'unchanged' | 'removed' | 'absent';
  /** The layout was rewritten by the Document API (comments kept). */
  normalized?: boolean;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function parse(text: string, file: string): Document {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    throw new KeywardenError(ErrorCode.HOOK_CONFIG_INVALID, `${file} is not valid YAML (${err.code}); it was left as it is.`, {
      fault: 'user',
      location: { file, ...(pos ? { line: pos.line, column: pos.col } : {}) },
    });
  }
  return doc;
}

const rangeEnd = (n: unknown): number => ((n as { range?: [number, number, number] } | null)?.range?.[1] ?? 0);

/** Where the content of a node ends: its last item's value, not the comments after it. */
function contentEnd(node: unknown): number {
  if ((isMap(node) || isSeq(node)) && !node.flow && node.items.length) {
    const last = node.items.at(-1);
    if (isPair(last)) return last.value !== null && last.value !== undefined ? contentEnd(last.value) : rangeEnd(last.key);
    return contentEnd(last);
  }
  return rangeEnd(node);
}

/** The offset just past the line that holds `offset - 1`. */
function lineEndAt(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const i = text.indexOf('\n', offset);
  return i === -1 ? text.length : i + 1;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** The column of the `-` that starts a block sequence item. */
function dashColumn(text: string, itemStart: number): number | undefined {
  let i = itemStart - 1;
  while (i >= 0 && text[i] === ' ') i--;
  return i >= 0 && text[i] === '-' ? columnOf(text, i) : undefined;
}

function framed(snippet: string, indent: number, tag: string): string {
  const sp = ' '.repeat(indent);
  const body = snippet
    .split('\n')
    .filter((l, i, all) => l !== '' || i < all.length - 1)
    .map((l) => (l ? sp + l : l));
  return [`${sp}${BLOCK_START} ${tag}`, ...body, `${sp}${BLOCK_END} ${tag}`, ''].join('\n');
}

function splice(text: string, at: number, insert: string): string {
  const pad = at === text.length && text.length > 0 && !text.endsWith('\n') ? '\n' : '';
  return text.slice(0, at) + pad + insert + text.slice(at);
}

const toYaml = (v: unknown): string => stringify(v, { lineWidth: 0 });

/** The spliced text when it means exactly `expected`; undefined otherwise. */
function verified(text: string, expected: Document, file: string): string | undefined {
  try {
    const doc = parse(text, file);
    return isDeepStrictEqual(doc.toJS(), expected.toJS()) ? text : undefined;
  } catch {
    return undefined;
  }
}

interface Spot {
  /** Where the framed entry goes, and at which indentation. */
  at: number;
  indent: number;
  snippet: string;
}

/**
 * The shared install flow. `find` reads the entry out of a document (undefined: none); `spot`
 * says where a framed entry goes; `apply` adds the entry through the Document API.
 */
function addEntry(
  text: string,
  file: string,
  tag: string,
  value: Json,
  find: (doc: Document) => unknown,
  spot: (doc: Document, text: string) => Spot | undefined,
  apply: (doc: Document) => void,
  del: (doc: Document) => void,
  force: boolean,
): YamlEdit {
  const doc = parse(text, file);
  const block = findBlock(text, file, tag);
  const current = find(doc);
  if (current !== undefined && isDeepStrictEqual(current, value)) return { text, action: 'unchanged' };
  if (current !== undefined && !force) {
    throw new KeywardenError(ErrorCode.HOOK_BLOCK_EDITED, `${file} already runs a "keywarden" entry that differs from the one this install writes (edited by hand, or another Keywarden).`, {
      fault: 'user',
      hint: 'Run again with --force to replace it, or uninstall first.',
      details: { file },
    });
  }
  // Re-installing: take the old entry out first, then add the new one as if fresh.
  let baseText = text;
  let baseDoc = doc;
  if (block) {
    baseText = text.slice(0, block.start) + text.slice(block.end);
    baseDoc = parse(baseText, file);
  } else if (current !== undefined) {
    const d = doc.clone();
    del(d);
    baseText = d.toString({ lineWidth: 0 });
    baseDoc = parse(baseText, file);
  }
  const action = current !== undefined ? 'updated' : 'added';
  const expected = baseDoc.clone();
  apply(expected);
  const s = spot(baseDoc, baseText);
  const out = s ? verified(splice(baseText, s.at, framed(s.snippet, s.indent, tag)), expected, file) : undefined;
  if (out !== undefined) return { text: out, action };
  return { text: expected.toString({ lineWidth: 0 }), action, normalized: true };
}

function removeEntry(text: string, file: string, tag: string, find: (doc: Document) => unknown, remove: (doc: Document) => boolean): YamlEdit {
  const doc = parse(text, file);
  const block = findBlock(text, file, tag);
  if (block) {
    const out = text.slice(0, block.start) + text.slice(block.end);
    parse(out, file);
    return { text: out, action: 'removed' };
  }
  if (find(doc) === undefined) return { text, action: 'absent' };
  // Installed through the Document API (no markers): delete the entry the same way.
  if (!remove(doc)) return { text, action: 'absent' };
  return { text: doc.toString({ lineWidth: 0 }), action: 'removed', normalized: true };
}

// ---- lefthook ----------------------------------------------------------------------------------

function lefthookEntry(hook: HookName, command: string): Json {
  return hook === 'pre-push' ? { run: `${command} hook run pre-push`, use_stdin: true } : { run: `${command} hook run pre-commit` };
}

const lefthookFind = (hook: HookName) => (doc: Document): unknown => {
  const v = doc.getIn([hook, 'commands', 'keywarden']);
  return v === undefined ? undefined : JSON.parse(JSON.stringify(isScalar(v) ? v.value : (v as { toJSON?: () => unknown })?.toJSON?.() ?? v));
};

/**
 * Adds a `keywarden` command under `<hook>.commands` in a lefthook configuration.
 *
 * @example
 * addLefthookCommand('pre-commit:\n  commands:\n    lint:\n      run: npm run lint\n', 'lefthook.yml', 'pre-commit', "keywarden")
 */
export function addLefthookCommand(text: string, file: string, hook: HookName, command: string, options: { force?: boolean } = {}): YamlEdit {
  const value = lefthookEntry(hook, command);
  const spot = (doc: Document, t: string): Spot | undefined => {
    const root = doc.contents;
    const whole = { [hook]: { commands: { keywarden: value } } };
    if (root === null || (isScalar(root) && root.value === null)) return { at: t.length, indent: 0, snippet: toYaml(whole) };
    if (!isMap(root) || root.flow || root.items.length === 0) return undefined;
    const keyCol = (m: typeof root): number => columnOf(t, (m.items[0]!.key as { range: [number, number, number] }).range[0]);
    if (!root.has(hook)) return { at: lineEndAt(t, contentEnd(root)), indent: keyCol(root), snippet: toYaml(whole) };
    const h = root.get(hook, true);
    if (!isMap(h) || h.flow || h.items.length === 0) return undefined;
    if (!h.has('commands')) return { at: lineEndAt(t, contentEnd(h)), indent: keyCol(h), snippet: toYaml({ commands: { keywarden: value } }) };
    const c = h.get('commands', true);
    if (!isMap(c) || c.flow || c.items.length === 0) return undefined;
    return { at: lineEndAt(t, contentEnd(c)), indent: keyCol(c), snippet: toYaml({ keywarden: value }) };
  };
  const apply = (doc: Document): void => {
    doc.setIn([hook, 'commands', 'keywarden'], doc.createNode(value));
  };
  const del = (doc: Document): void => void doc.deleteIn([hook, 'commands', 'keywarden']);
  return addEntry(text, file, hook, value, lefthookFind(hook), spot, apply, del, Boolean(options.force));
}

export function removeLefthookCommand(text: string, file: string, hook: HookName): YamlEdit {
  const find = lefthookFind(hook);
  return removeEntry(text, file, hook, find, (doc) => {
    const v = find(doc) as { run?: unknown } | undefined;
    // Only an entry that runs Keywarden's hook (one this command wrote) is removed.
    if (typeof v?.run !== 'string' || !v.run.includes(`hook run ${hook}`)) return false;
    return doc.deleteIn([hook, 'commands', 'keywarden']);
  });
}

// ---- pre-commit framework ----------------------------------------------------------------------

function preCommitEntry(hook: HookName, command: string): Json {
  return {
    repo: 'local',
    hooks: [
      {
        id: 'keywarden',
        name: `keywarden (leaked secrets, ${hook})`,
        entry: `${command} hook run ${hook}`,
        language: 'system',
        pass_filenames: false,
        always_run: true,
        stages: [hook],
      },
    ],
  };
}

/** The index in `repos` of Keywarden's local repo entry for `hook`. */
function preCommitIndex(doc: Document, hook: HookName): number {
  const repos = doc.get('repos');
  if (!isSeq(repos)) return -1;
  return repos.items.findIndex((item) => {
    const js = (item as { toJSON?: () => unknown })?.toJSON?.() as { repo?: unknown; hooks?: unknown } | undefined;
    if (js?.repo !== 'local' || !Array.isArray(js.hooks) || js.hooks.length !== 1) return false;
    const h = js.hooks[0] as { id?: unknown; stages?: unknown };
    return h.id === 'keywarden' && Array.isArray(h.stages) && h.stages.includes(hook);
  });
}

const preCommitFind = (hook: HookName) => (doc: Document): unknown => {
  const i = preCommitIndex(doc, hook);
  if (i === -1) return undefined;
  return JSON.parse(JSON.stringify((doc.get('repos') as { items: { toJSON: () => unknown }[] }).items[i]!.toJSON()));
};

/** Adds a `repo: local` entry running Keywarden to `.pre-commit-config.yaml`. */
export function addPreCommitHook(text: string, file: string, hook: HookName, command: string, options: { force?: boolean } = {}): YamlEdit {
  const value = preCommitEntry(hook, command);
  const spot = (doc: Document, t: string): Spot | undefined => {
    const root = doc.contents;
    const whole = { repos: [value] };
    if (root === null || (isScalar(root) && root.value === null)) return { at: t.length, indent: 0, snippet: toYaml(whole) };
    if (!isMap(root) || root.flow || root.items.length === 0) return undefined;
    const rootCol = columnOf(t, (root.items[0]!.key as { range: [number, number, number] }).range[0]);
    if (!root.has('repos')) return { at: lineEndAt(t, contentEnd(root)), indent: rootCol, snippet: toYaml(whole) };
    const repos = root.get('repos', true);
    if (!isSeq(repos) || repos.flow || repos.items.length === 0) return undefined;
    const col = dashColumn(t, (repos.items[0] as { range: [number, number, number] }).range[0]);
    if (col === undefined) return undefined;
    return { at: lineEndAt(t, contentEnd(repos)), indent: col, snippet: toYaml([value]) };
  };
  const apply = (doc: Document): void => {
    if (doc.has('repos')) doc.addIn(['repos'], doc.createNode(value));
    else doc.set('repos', doc.createNode([value]));
  };
  const del = (doc: Document): void => void doc.deleteIn(['repos', preCommitIndex(doc, hook)]);
  return addEntry(text, file, hook, value, preCommitFind(hook), spot, apply, del, Boolean(options.force));
}

export function removePreCommitHook(text: string, file: string, hook: HookName): YamlEdit {
  return removeEntry(text, file, hook, preCommitFind(hook), (doc) => {
    const i = preCommitIndex(doc, hook);
    const js = preCommitFind(hook)(doc) as { hooks: { entry?: unknown }[] } | undefined;
    if (i === -1 || typeof js?.hooks[0]?.entry !== 'string' || !js.hooks[0].entry.includes(`hook run ${hook}`)) return false;
    return doc.deleteIn(['repos', i]);
  });
}
