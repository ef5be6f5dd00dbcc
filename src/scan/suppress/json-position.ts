/**
 * Where a JSON text first goes wrong, for a message with a line and column: `JSON.parse` says
 * "at position N" for some errors and only quotes the text for others (which a message must not
 * repeat: it may hold a secret). One forward pass, no recursion (nesting costs one stack entry),
 * linear in the text.
 */
type State = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'after';

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** The 0-based offset of the first error, or undefined when the text is valid JSON. */
export function jsonErrorOffset(text: string): number | undefined {
  const n = text.length;
  const stack: string[] = [];
  let i = 0;
  let s: State = 'value';
  for (;;) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
    if (i >= n) return s === 'after' && stack.length === 0 ? undefined : n;
    const c = text[i]!;
    if (s === 'value' || s === 'value-or-close') {
      if (s === 'value-or-close' && c === ']') {
        stack.pop();
        i++;
        s = 'after';
      } else if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        s = c === '{' ? 'key-or-close' : 'value-or-close';
      } else {
        const end = scalarEnd(text, i);
        if (end < 0) return i;
        i = end;
        s = 'after';
      }
    } else if (s === 'key' || s === 'key-or-close') {
      if (s === 'key-or-close' && c === '}') {
        stack.pop();
        i++;
        s = 'after';
      } else {
        const end = c === '"' ? stringEnd(text, i) : -1;
        if (end < 0) return i;
        i = end;
        s = 'colon';
      }
    } else if (s === 'colon') {
      if (c !== ':') return i;
      i++;
      s = 'value';
    } else {
      const top = stack[stack.length - 1];
      if (top === undefined) return i;
      if (c === ',') s = top === '{' ? 'key' : 'value';
      else if ((c === '}' && top === '{') || (c === ']' && top === '[')) stack.pop();
      else return i;
      i++;
    }
  }
}

function scalarEnd(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  for (const word of ['true', 'false', 'null']) if (text.startsWith(word, i)) return i + word.length;
  NUMBER.lastIndex = i;
  const m = NUMBER.exec(text);
  return m && m[0].length ? i + m[0].length : -1;
}

function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c === 0x5c) j++;
    else if (c < 0x20) return -1;
  }
  return -1;
}
