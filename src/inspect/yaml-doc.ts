/**
 * YAML (and JSON, which the same parser reads) for the CloudFormation and Kubernetes extractors:
 * documents with positions, CloudFormation's short-form intrinsic tags (`!Ref`, `!Sub`, …) declared
 * so they parse cleanly, and a walker that follows aliases under a budget.
 *
 * Hostile input is expected: a linear pre-scan refuses absurd nesting and alias floods before the
 * YAML library sees the text; aliases are resolved through an anchor table built once (not by
 * searching the document per alias) and every expansion counts against a node budget, so an alias
 * bomb costs bounded work; walks are depth-capped. Problems never quote the file: a Secret's
 * values must not reach a message.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node as YamlNode, type Pair, type Tags, type YAMLMap } from 'yaml';
import { ProblemCode, type Position, type Problem } from './facts.js';
import { parseJsonNodes } from './json-nodes.js';
import { prescanYaml } from '../util/yaml-prescan.js';

/** CloudFormation's short-form intrinsic functions (`!Ref Name`, `!Sub [...]`, `!If [...]`). */
export const CFN_INTRINSICS = [
  'Ref',
  'Sub',
  'GetAtt',
  'Join',
  'If',
  'Select',
  'Split',
  'FindInMap',
  'ImportValue',
  'Base64',
  'Equals',
  'Not',
  'And',
  'Or',
  'Condition',
  'GetAZs',
  'Cidr',
  'Transform',
  'Length',
  'ToJsonString',
] as const;

/** Each tag in scalar, sequence and mapping form, kept as the node it tags (the walker reads `node.tag`). */
const CFN_TAG_LIST: Tags = CFN_INTRINSICS.flatMap((name) => [
  { tag: `!${name}`, resolve: (s: string) => s },
  { tag: `!${name}`, collection: 'seq' as const, resolve: (n: unknown) => n },
  { tag: `!${name}`, collection: 'map' as const, resolve: (n: unknown) => n },
]) as Tags;
// As a function, not the array: the YAML library then builds each document's tag list with one
// concat instead of one per tag (same list, same order).
const CFN_TAGS = (tags: Tags): Tags => tags.concat(CFN_TAG_LIST);

export interface YamlLimits {
  /** Deepest nesting of mappings and sequences. Default 64. */
  maxDepth?: number;
  /** Most aliases in a file. Default 200. */
  maxAliases?: number;
  /** Most nodes visited (aliases expanded) per file. Default 500,000. */
  maxNodes?: number;
}

/** What the extractors read of a parsed document. */
export interface YamlDoc {
  contents: YamlNode | null;
}

export interface LoadedYaml {
  docs: YamlDoc[];
  /** 1-based position of an offset. */
  pos(offset: number): Position;
  walker: YamlWalker;
}

/**
 * Parse every document of a YAML or JSON file. Returns undefined (and pushes a Problem) when the
 * file cannot be read; a document with errors is left out, with a Problem.
 */
export function loadYaml(file: string, text: string, json: boolean, problems: Problem[], limits: YamlLimits = {}): LoadedYaml | undefined {
  const maxDepth = limits.maxDepth ?? 64;
  const maxAliases = limits.maxAliases ?? 200;
  const pre = prescanYaml(text, maxDepth, maxAliases);
  if (pre) {
    problems.push({
      file,
      line: pre.line,
      column: pre.column,
      code: pre.reason === 'too-deep' ? ProblemCode.YAML_TOO_DEEP : ProblemCode.YAML_ALIASES,
      message: pre.reason === 'too-deep' ? `The file nests more than ${maxDepth} levels deep; it was not read.` : `The file uses more than ${maxAliases} aliases (a YAML alias bomb?); it was not read.`,
    });
    return undefined;
  }
  const lineCounter = new LineCounter();
  const pos = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  // Strict JSON (most CloudFormation JSON) skips the YAML parser: the same nodes, built directly.
  // Line starts as the YAML parser records them: 0, and after every line feed.
  const contents = json ? parseJsonNodes(text, maxDepth) : undefined;
  if (contents) {
    lineCounter.addNewLine(0);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineCounter.addNewLine(i + 1);
    const docs: YamlDoc[] = [{ contents }];
    // JSON has no anchors.
    return { docs, pos, walker: new YamlWalker(docs, limits.maxNodes ?? 500_000, maxDepth, false) };
  }
  let all: Document.Parsed[];
  try {
    const parsed = parseAllDocuments(text, { lineCounter, customTags: CFN_TAGS, uniqueKeys: false, prettyErrors: false, keepSourceTokens: false });
    all = Array.isArray(parsed) ? parsed : [];
  } catch (e) {
    problems.push({ file, line: 1, column: 1, code: e instanceof RangeError ? ProblemCode.YAML_TOO_DEEP : json ? ProblemCode.JSON_SYNTAX : ProblemCode.YAML_SYNTAX, message: 'The file could not be parsed.' });
    return undefined;
  }
  const docs: Document.Parsed[] = [];
  const unrendered = text.includes('{{');
  for (const doc of all) {
    const err = doc.errors[0];
    if (!err) {
      docs.push(doc);
      continue;
    }
    const p = pos(err.pos[0]);
    if (unrendered)
      problems.push({ file, ...p, code: ProblemCode.YAML_UNRENDERED, message: 'The file holds template syntax ({{ … }}) and is not valid YAML; render it (helm template) to check it.' });
    else problems.push({ file, ...p, code: json ? ProblemCode.JSON_SYNTAX : ProblemCode.YAML_SYNTAX, message: `${json ? 'JSON' : 'YAML'} syntax error (${err.code}); this document was not read.` });
  }
  // An anchor is written `&name`: a text without `&` has none to index.
  return { docs, pos, walker: new YamlWalker(docs, limits.maxNodes ?? 500_000, maxDepth, text.includes('&')) };
}

/**
 * Node access with aliases followed through an anchor table and every visit counted. Once the
 * budget is spent, `spent` is true and lookups return undefined.
 */
export class YamlWalker {
  private readonly anchors = new Map<string, YamlNode[]>();
  private left: number;
  spent = false;

  constructor(
    docs: readonly YamlDoc[],
    maxNodes: number,
    readonly maxDepth: number,
    /** False when the text cannot hold an anchor (no `&` in it): the pass below is skipped. */
    mayHaveAnchors = true,
  ) {
    this.left = maxNodes;
    if (mayHaveAnchors) this.indexAnchors(docs);
  }

  /** One pass over every node: anchors by name, in document order. */
  private indexAnchors(docs: readonly YamlDoc[]): void {
    for (const doc of docs) {
      const stack: unknown[] = [doc.contents];
      while (stack.length > 0) {
        const n = stack.pop();
        if (n === null || typeof n !== 'object') continue;
        if (isPair(n)) {
          stack.push(n.value, n.key);
          continue;
        }
        const node = n as YamlNode;
        if (!isAlias(node) && node.anchor) {
          const list = this.anchors.get(node.anchor) ?? [];
          list.push(node);
          this.anchors.set(node.anchor, list);
        }
        if (isMap(node) || isSeq(node)) for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]);
      }
    }
    for (const list of this.anchors.values()) list.sort((a, b) => (a.range?.[0] ?? 0) - (b.range?.[0] ?? 0));
  }

  /** Count one visit; false once the budget is spent. */
  take(): boolean {
    if (--this.left < 0) this.spent = true;
    return !this.spent;
  }

  /** The node itself, or what an alias points at (the latest anchor of that name before it). */
  deref(n: unknown): YamlNode | undefined {
    if (n === null || n === undefined || typeof n !== 'object') return undefined;
    if (!this.take()) return undefined;
    if (!isAlias(n)) return n as YamlNode;
    const list = this.anchors.get(n.source);
    const at = n.range?.[0] ?? 0;
    let target: YamlNode | undefined;
    for (const c of list ?? []) if ((c.range?.[0] ?? 0) < at) target = c;
    // An alias of an alias cannot happen (anchors sit on nodes), so one step suffices.
    return target && !isAlias(target) ? target : undefined;
  }

  /** The pair for `key` in a mapping (the last one, as YAML's default merge would keep). */
  pair(map: YamlNode | undefined, key: string): Pair<YamlNode, YamlNode | null> | undefined {
    if (!map || !isMap(map)) return undefined;
    let found: Pair<YamlNode, YamlNode | null> | undefined;
    for (const p of (map as YAMLMap<YamlNode, YamlNode | null>).items) {
      if (!this.take()) return undefined;
      const k = this.deref(p.key);
      if (k && isScalar(k) && String(k.value) === key) found = p;
    }
    return found;
  }

  get(map: YamlNode | undefined, key: string): YamlNode | undefined {
    return this.deref(this.pair(map, key)?.value);
  }

  /** A scalar's value as a string (numbers and booleans too). */
  text(n: YamlNode | undefined): string | undefined {
    if (!n || !isScalar(n) || n.value === null || typeof n.value === 'object') return undefined;
    return String(n.value);
  }

  /** Keys of a mapping, as strings, each once. */
  keys(map: YamlNode | undefined): string[] {
    if (!map || !isMap(map)) return [];
    const out = new Set<string>();
    for (const p of map.items) {
      if (!this.take()) break;
      const k = this.deref(p.key);
      if (k && isScalar(k) && k.value !== null && typeof k.value !== 'object') out.add(String(k.value));
    }
    return [...out].sort();
  }

  /** Items of a sequence, aliases followed. */
  items(seq: YamlNode | undefined): YamlNode[] {
    if (!seq || !isSeq(seq)) return [];
    const out: YamlNode[] = [];
    for (const it of seq.items) {
      const n = this.deref(it);
      if (n) out.push(n);
      if (this.spent) break;
    }
    return out;
  }
}

