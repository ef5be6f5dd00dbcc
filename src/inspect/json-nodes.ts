/**
 * Strict JSON → the YAML library's nodes (`YAMLMap`, `YAMLSeq`, `Pair`, `Scalar`, each with the
 * `range` the YAML parser would give it), without the YAML parser.
 *
 * CloudFormation JSON (CDK synth output) is most of a repository's templates, and the YAML
 * library reads it slowly when cold (a `keywarden check` reads each file once). Every strict JSON
 * text is YAML 1.2, and for it this builds the tree the YAML parser builds with the core schema:
 * the same values (strings, numbers, booleans, null; duplicate keys kept in order), and the same
 * start offsets. Anything else (comments, trailing commas, a second document, a lone value that
 * is not a collection, bad escapes, control characters in strings) returns undefined, and the
 * caller parses the text as YAML, so such a file reads exactly as before.
 *
 * Iterative, so hostile nesting cannot overflow the stack; `maxDepth` refuses deeper input (the
 * YAML path then reports it). Pure: text in, nodes out.
 */
import { Pair, Scalar, YAMLMap, YAMLSeq, type Node as YamlNode } from 'yaml';

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;

interface Frame {
  node: YAMLMap<YamlNode, YamlNode | null> | YAMLSeq<YamlNode | null>;
  /** A mapping's key awaiting its value. */
  key: Scalar<string> | undefined;
}

/**
 * The top-level mapping or sequence of a strict JSON text, or undefined when the text is not
 * strict JSON with a collection at the top (the caller then parses it as YAML).
 *
 * @example
 * const top = parseJsonNodes('{"Resources": {}}', 64); // a YAMLMap with one Pair, range [0, …]
 */
export function parseJsonNodes(text: string, maxDepth: number): YamlNode | undefined {
  const n = text.length;
  // A leading BOM is not content; the YAML parser counts it in offsets too.
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const stack: Frame[] = [];
  let root: YamlNode | undefined;

  const ws = (): void => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
    }
  };
  /** A string token at `i` (on `"`): its decoded value, `i` moved past it; undefined when invalid. */
  const string = (): string | undefined => {
    const start = i;
    let escaped = false;
    for (let j = i + 1; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c === 0x22) {
        i = j + 1;
        if (!escaped) return text.slice(start + 1, j);
        try {
          return JSON.parse(text.slice(start, j + 1)) as string;
        } catch {
          return undefined;
        }
      }
      if (c < 0x20) return undefined;
      if (c === 0x5c) {
        escaped = true;
        j++;
      }
    }
    return undefined;
  };
  const scalar = <T>(value: T, start: number): Scalar<T> => {
    const s = new Scalar(value);
    s.range = [start, i, i];
    return s;
  };
  /** Adds a finished value to the open collection (or makes it the root); false when out of place. */
  const add = (node: YamlNode): boolean => {
    const top = stack[stack.length - 1];
    if (!top) {
      if (root !== undefined) return false;
      root = node;
      return true;
    }
    if (top.node instanceof YAMLSeq) top.node.items.push(node);
    else {
      if (!top.key) return false;
      top.node.items.push(new Pair(top.key, node));
      top.key = undefined;
    }
    return true;
  };
  /** After a value inside a collection: `,` (and what may follow it) or the closing bracket. */
  const afterValue = (): 'next' | 'close' | undefined => {
    ws();
    const c = text.charCodeAt(i);
    if (c === 0x2c) {
      i++;
      return 'next';
    }
    return c === 0x7d || c === 0x5d ? 'close' : undefined;
  };

  ws();
  if (text.charCodeAt(i) !== 0x7b && text.charCodeAt(i) !== 0x5b) return undefined;
  for (;;) {
    ws();
    if (i >= n) return undefined;
    const top = stack[stack.length - 1];
    const c = text.charCodeAt(i);
    // In a mapping awaiting a key: a string, then `:`.
    if (top && top.node instanceof YAMLMap && !top.key) {
      if (c === 0x7d && top.node.items.length === 0) {
        // `{}`: closed below, as any collection.
      } else {
        if (c !== 0x22) return undefined;
        const start = i;
        const k = string();
        if (k === undefined) return undefined;
        top.key = scalar(k, start);
        ws();
        if (text.charCodeAt(i) !== 0x3a) return undefined;
        i++;
        continue;
      }
    }
    if (c === 0x7d || c === 0x5d) {
      // Closing: only an empty collection closes here; others close after a value (below).
      if (!top || (c === 0x7d) !== top.node instanceof YAMLMap || top.node.items.length > 0 || top.key) return undefined;
      i++;
      if (!closeTop()) return undefined;
    } else if (c === 0x7b || c === 0x5b) {
      if (stack.length >= maxDepth) return undefined;
      const node = c === 0x7b ? new YAMLMap<YamlNode, YamlNode | null>() : new YAMLSeq<YamlNode | null>();
      node.range = [i, i, i];
      i++;
      stack.push({ node, key: undefined });
      continue;
    } else {
      const start = i;
      let node: YamlNode;
      if (c === 0x22) {
        const s = string();
        if (s === undefined) return undefined;
        node = scalar(s, start);
      } else if (text.startsWith('true', i)) {
        i += 4;
        node = scalar(true, start);
      } else if (text.startsWith('false', i)) {
        i += 5;
        node = scalar(false, start);
      } else if (text.startsWith('null', i)) {
        i += 4;
        node = scalar(null, start);
      } else {
        NUMBER.lastIndex = i;
        const m = NUMBER.exec(text);
        if (!m) return undefined;
        i += m[0].length;
        node = scalar(Number(m[0]), start);
      }
      if (!add(node)) return undefined;
    }
    // After a value: `,` continues the open collection; `]` / `}` close it (and maybe more).
    for (;;) {
      if (stack.length === 0) {
        ws();
        return i === n ? root : undefined;
      }
      const next = afterValue();
      if (next === undefined) return undefined;
      if (next === 'next') {
        // A `,` must be followed by a value (or a key): no trailing commas.
        ws();
        const d = text.charCodeAt(i);
        if (d === 0x7d || d === 0x5d) return undefined;
        break;
      }
      const t = stack[stack.length - 1]!;
      if ((text.charCodeAt(i) === 0x7d) !== t.node instanceof YAMLMap) return undefined;
      i++;
      if (!closeTop()) return undefined;
    }
  }

  function closeTop(): boolean {
    const f = stack.pop()!;
    f.node.range = [f.node.range![0], i, i];
    return add(f.node);
  }
}
