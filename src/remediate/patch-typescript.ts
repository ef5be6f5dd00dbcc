/**
 * TypeScript and JavaScript: the secret's literal is found in the syntax tree (ts-morph, an
 * in-memory project, parse only) and only that literal's text is replaced.
 *
 * What the secret becomes: the expression
 *
 *     (process.env['NAME'] ?? (() => { throw new Error('Missing environment variable NAME'); })())
 *
 * Why this form: it is one expression, so nothing outside the literal changes (no helper to
 * insert, no import, no name that could collide across script files); its type is `string` (the
 * arrow function returns `never`), so code that passed the literal where a `string` is required
 * still type-checks under `strict`; it is valid JavaScript too; and an unset variable fails
 * loudly where the value is first used, never as a silent empty secret (`?? ''` would do that,
 * and `!` or `as string` would let `undefined` through). The bracket form survives
 * `noPropertyAccessFromIndexSignature`. The parentheses keep it one operand wherever the literal
 * was (`'…' + x`, `a || '…'`). It needs `@types/node` for `process`; browser bundles that inline
 * `import.meta.env` need a hand edit, which the note says.
 *
 * Cases: the literal is exactly the secret → the literal becomes the expression (`{…}` in a JSX
 * attribute; `'…' as const` loses its `as const`). The secret is part of a string → the string
 * becomes a template literal with `${…}` in place of the secret only. Part of a template literal
 * (head, middle or tail) → `${…}` is inserted in place. In a comment → the redacted preview.
 * Constant contexts (literal types, import specifiers, enum members, property names, ambient
 * declarations) cannot hold an expression: those sites are `unsupported`.
 *
 * Edits are computed on one parse and applied as text-range replacements of the literals in one
 * pass (what `replaceWithText` on each literal does, without re-parsing the file after each
 * edit); the result is parsed again and must have no syntax error. A file that does not parse
 * (or is too deep or too large for the parser) goes to the text method with a note.
 */
import { Project, ts } from 'ts-morph';
import { ErrorCode } from '../errors.js';
import { envNameForSite, isGenericClass, isGenericName, joinEnvName, toEnvName } from './env-name.js';
import { extensionOf } from './file-kind.js';
import { applyEdits, endsInEscape, unsupported, type TextEdit, type VerifiedSite } from './sites.js';
import type { FormatPatch, PatchContext } from './patch-text.js';
import type { SiteOutcome } from './types.js';

/** Past this size the file is patched by the text method: the parser's memory grows with it. */
const MAX_PARSE_CHARS = 16 * 1024 * 1024;

export type ScriptPatch = (FormatPatch & { parsed: true }) | { parsed: false; reason: string };

type Literal = ts.StringLiteral | ts.NoSubstitutionTemplateLiteral | ts.TemplateHead | ts.TemplateMiddle | ts.TemplateTail | ts.JsxText;

/** The expression that reads the variable; see the header comment for why this form. */
export function envExpression(name: string, quote: string, wrap = true): string {
  const e = `process.env[${quote}${name}${quote}] ?? (() => { throw new Error(${quote}Missing environment variable ${name}${quote}); })()`;
  return wrap ? `(${e})` : e;
}

const COMPILER_OPTIONS: ts.CompilerOptions = { allowJs: true, noLib: true, noResolve: true, types: [], jsx: ts.JsxEmit.Preserve };

function parseScript(text: string, ext: string): { sf: ts.SourceFile; errors: number } | { error: string } {
  if (text.length > MAX_PARSE_CHARS) return { error: 'the file is too large to parse' };
  try {
    const project = new Project({ useInMemoryFileSystem: true, skipAddingFilesFromTsConfig: true, compilerOptions: COMPILER_OPTIONS });
    const file = project.createSourceFile(`/input${ext}`, text);
    const errors = project.getProgram().getSyntacticDiagnostics(file).length;
    return { sf: file.compilerNode, errors };
  } catch (e) {
    // The parser recurses: deeply nested code overflows the stack. Anything else is ours to see.
    if (e instanceof RangeError) return { error: 'the code is nested too deeply to parse' };
    throw e;
  }
}

/**
 * Syntax errors of the patched text, by an incremental re-parse of the tree the edits were
 * computed on (what an editor does on each keystroke: only the edited region is parsed again),
 * in a program whose host knows this one file and nothing else. The old tree is spent after this.
 */
function errorsAfter(sf: ts.SourceFile, newText: string, edits: readonly TextEdit[]): number | undefined {
  const start = Math.min(...edits.map((e) => e.start));
  const end = Math.max(...edits.map((e) => e.end));
  const change = { span: { start, length: end - start }, newLength: end - start + newText.length - sf.text.length };
  try {
    const updated = ts.updateSourceFile(sf, newText, change, false);
    const host: ts.CompilerHost = {
      getSourceFile: (name) => (name === updated.fileName ? updated : undefined),
      getDefaultLibFileName: () => '/lib.d.ts',
      writeFile: () => {},
      getCurrentDirectory: () => '/',
      getCanonicalFileName: (name) => name,
      useCaseSensitiveFileNames: () => true,
      getNewLine: () => '\n',
      fileExists: (name) => name === updated.fileName,
      readFile: () => undefined,
    };
    const program = ts.createProgram({ rootNames: [updated.fileName], options: COMPILER_OPTIONS, host });
    return program.getSyntacticDiagnostics(updated).length;
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

type Located = { kind: 'literal'; node: Literal } | { kind: 'comment' } | { kind: 'other' };

/** The deepest node whose text holds `[start, end)`, by an iterative descent (no recursion on hostile depth). */
function locate(sf: ts.SourceFile, start: number, end: number): Located {
  let node: ts.Node = sf;
  for (;;) {
    const child: ts.Node | undefined = ts.forEachChild(node, (c) => (c.pos <= start && end <= c.end ? c : undefined));
    if (!child) break;
    node = child;
  }
  const tokenStart = node.getStart(sf);
  if (end <= tokenStart) return { kind: 'comment' };
  if (start < tokenStart) return { kind: 'other' };
  if (isLiteral(node)) return { kind: 'literal', node };
  // A comment between two children of a node with no child around it.
  const inner = sf.text.slice(tokenStart, node.end);
  const rel = start - tokenStart;
  if (node.kind !== ts.SyntaxKind.SourceFile && inCommentOf(inner, rel)) return { kind: 'comment' };
  return { kind: 'other' };
}

function isLiteral(n: ts.Node): n is Literal {
  return ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n) || ts.isJsxText(n);
}

/** Whether offset `rel` of a node's text sits in a comment (scans the node's tokens). */
function inCommentOf(text: string, rel: number): boolean {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) {
    const a = scanner.getTokenStart();
    const b = scanner.getTokenEnd();
    if (a > rel) return false;
    if (rel < b) return t === ts.SyntaxKind.SingleLineCommentTrivia || t === ts.SyntaxKind.MultiLineCommentTrivia;
  }
  return false;
}

/** Why an expression cannot stand where this literal is, or undefined when it can. */
function constantContext(node: Literal, sf: ts.SourceFile): string | undefined {
  if (sf.isDeclarationFile || isAmbient(node)) return 'an ambient declaration';
  const p = node.parent;
  if (ts.isLiteralTypeNode(p) || ts.isTemplateLiteralTypeNode(p) || ts.isTemplateLiteralTypeSpan(p)) return 'a type';
  if (ts.isImportDeclaration(p) || ts.isExportDeclaration(p) || ts.isExternalModuleReference(p) || ts.isModuleDeclaration(p)) return 'a module name';
  if (ts.isImportAttribute(p)) return 'an import attribute';
  if (ts.isEnumMember(p)) return 'an enum member';
  if ('name' in p && (p as { name?: ts.Node }).name === node) return 'a property name';
  if (ts.isTaggedTemplateExpression(p) && p.template === node) return undefined;
  return undefined;
}

function isAmbient(node: ts.Node): boolean {
  for (let p: ts.Node | undefined = node; p; p = p.parent) {
    if (ts.canHaveModifiers(p) && ts.getModifiers(p)?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)) return true;
  }
  return false;
}

/** The name the code gives the value: variable, property, parameter, class field, assignment target, JSX attribute. */
function contextName(node: Literal): string | undefined {
  let cur: ts.Node = node;
  if (ts.isTemplateHead(cur)) cur = cur.parent;
  else if (ts.isTemplateMiddle(cur) || ts.isTemplateTail(cur)) cur = cur.parent.parent;
  for (;;) {
    const p: ts.Node = cur.parent;
    if (ts.isParenthesizedExpression(p) || ts.isAsExpression(p) || ts.isSatisfiesExpression(p) || ts.isTypeAssertionExpression(p) || ts.isNonNullExpression(p)) {
      cur = p;
    } else if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      cur = p;
    } else break;
  }
  const p = cur.parent;
  if ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isBindingElement(p)) && p.initializer === cur) {
    if (ts.isBindingElement(p) && p.propertyName && !ts.isComputedPropertyName(p.propertyName)) return ts.isIdentifier(p.name) ? p.name.text : p.propertyName.getText();
    return ts.isIdentifier(p.name) ? p.name.text : undefined;
  }
  if (ts.isPropertyAssignment(p) && p.initializer === cur) {
    const own = propertyName(p.name);
    if (own === undefined) return undefined;
    const container = p.parent.parent;
    if (ts.isNewExpression(container) && container.arguments?.includes(p.parent)) {
      const cls = lastName(container.expression);
      return cls !== undefined && !isGenericClass(cls) ? joinEnvName(cls, own) : toEnvName(own);
    }
    if (isGenericName(own)) return joinEnvName(objectName(p.parent), own);
    return toEnvName(own);
  }
  if (ts.isPropertyDeclaration(p) && p.initializer === cur) {
    const own = propertyName(p.name);
    if (own === undefined) return undefined;
    const cls = ts.isClassLike(p.parent) && p.parent.name ? p.parent.name.text : undefined;
    return isGenericName(own) ? joinEnvName(cls, own) : toEnvName(own);
  }
  if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken && p.right === cur) {
    const left = lastName(p.left);
    return left === undefined ? undefined : toEnvName(left);
  }
  if (ts.isJsxAttribute(node.parent)) return toEnvName(node.parent.name.getText());
  return undefined;
}

function propertyName(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) return name.text.replace(/^#/, '');
  if (ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return undefined;
}

function lastName(e: ts.Node): string | undefined {
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  if (ts.isElementAccessExpression(e) && ts.isStringLiteral(e.argumentExpression)) return e.argumentExpression.text;
  return undefined;
}

/** The name an object literal is known by: its variable, its property, its class's `new`. */
function objectName(o: ts.ObjectLiteralExpression): string | undefined {
  const p = o.parent;
  if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (ts.isPropertyAssignment(p)) return propertyName(p.name);
  if (ts.isNewExpression(p)) {
    const cls = lastName(p.expression);
    return cls !== undefined && !isGenericClass(cls) ? cls : undefined;
  }
  return undefined;
}

/** A string literal's source text as template-literal source: same value, `` ` `` and `${` escaped. */
function stringSourceToTemplate(src: string, jsx: boolean): string {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      // JSX attribute strings have no escapes: a backslash is itself.
      if (jsx) out += '\\\\';
      else {
        out += c + (src[i + 1] ?? '');
        i++;
      }
    } else if (c === '`') out += '\\`';
    else if (c === '$' && src[i + 1] === '{') out += '\\$';
    else out += c;
  }
  return out;
}

function escapeForTemplate(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${');
}

function quoteString(value: string, quote: string): string {
  const body = JSON.stringify(value).slice(1, -1);
  return quote === "'" ? `'${body.replace(/\\"/g, '"').replace(/'/g, "\\'")}'` : `"${body}"`;
}

function escapeForQuote(value: string, quote: string): string {
  return quoteString(value, quote).slice(1, -1);
}

/** Inner range (inside quotes, backticks or `}`…`${`) of a literal. */
function innerRange(node: Literal, sf: ts.SourceFile): [number, number] {
  const start = node.getStart(sf);
  if (ts.isJsxText(node)) return [start, node.end];
  if (ts.isTemplateHead(node) || ts.isTemplateMiddle(node)) return [start + 1, node.end - 2];
  return [start + 1, node.end - 1];
}

interface LiteralSite {
  s: VerifiedSite;
  name?: string;
}

export function patchScript(ctx: PatchContext, path: string): ScriptPatch {
  const ext = scriptExtension(path);
  const parsed = parseScript(ctx.text, ext);
  if ('error' in parsed) return { parsed: false, reason: parsed.error };
  if (parsed.errors > 0) return { parsed: false, reason: `the file has ${parsed.errors} syntax error${parsed.errors === 1 ? '' : 's'}` };
  const { sf } = parsed;
  const quote = preferredQuote(ctx.text);
  const outcomes = new Map<number, SiteOutcome>();
  const edits: TextEdit[] = [];
  const byLiteral = new Map<Literal, LiteralSite[]>();
  let comments = 0;
  for (const s of ctx.sites) {
    const at = locate(sf, s.start, s.end);
    if (at.kind === 'comment') {
      edits.push({ start: s.start, end: s.end, text: safePreview(s.site.redacted), sites: [s.index] });
      comments++;
    } else if (at.kind === 'other') {
      outcomes.set(s.index, unsupported(s.site, 'The secret is not inside a string, a template literal or a comment.'));
    } else {
      const list = byLiteral.get(at.node) ?? [];
      list.push({ s });
      byLiteral.set(at.node, list);
    }
  }
  let envSites = 0;
  for (const [node, sites] of byLiteral) {
    const r = rewriteLiteral(node, sites, sf, ctx, quote);
    if ('refused' in r) {
      for (const { s } of sites) outcomes.set(s.index, unsupported(s.site, r.refused));
    } else {
      edits.push(r.edit);
      envSites += r.edit.env?.length ?? 0;
    }
  }
  if (edits.length > 0) {
    const after = errorsAfter(sf, applyEdits(ctx.text, edits).text, edits);
    if (after === undefined || after > 0) {
      for (const s of ctx.sites) outcomes.set(s.index, unsupported(s.site, 'The edit would not parse; patch this file by hand.'));
      return { parsed: true, edits: [], outcomes, notes: [] };
    }
  }
  const notes: string[] = [];
  if (envSites > 0) {
    notes.push(
      "The code now reads the secret with process.env['NAME'] and throws `Missing environment variable NAME` where it is used " +
        'while the variable is unset. Code bundled for a browser has no process.env: use the bundler\'s own mechanism there.',
    );
  }
  if (comments > 0) notes.push('A secret in a comment was replaced by its redacted preview.');
  return { parsed: true, edits, outcomes, notes };
}

function scriptExtension(path: string): string {
  const ext = extensionOf(path);
  return ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'].includes(ext) ? ext : '.ts';
}

/** The quote the file uses most for strings, for the quotes inside the expression. */
function preferredQuote(text: string): string {
  const sample = text.length > 65536 ? text.slice(0, 65536) : text;
  let single = 0;
  let double = 0;
  for (let i = 0; i < sample.length; i++) {
    if (sample[i] === "'") single++;
    else if (sample[i] === '"') double++;
  }
  return double > single ? '"' : "'";
}

/** The redacted preview, made safe inside any comment (no line break, no comment end). */
function safePreview(redacted: string): string {
  const s = redacted.replace(/[\r\n\u2028\u2029]/g, ' ').replace(/\*\//g, '* /');
  return s.length > 0 && s.length <= 64 ? s : '[secret removed]';
}

type Rewrite = { edit: TextEdit } | { refused: string };

function rewriteLiteral(node: Literal, sites: LiteralSite[], sf: ts.SourceFile, ctx: PatchContext, quote: string): Rewrite {
  const text = sf.text;
  const [innerStart, innerEnd] = innerRange(node, sf);
  const ordered = [...sites].sort((a, b) => a.s.start - b.s.start);
  if (ordered.some(({ s }) => s.start < innerStart || s.end > innerEnd)) return { refused: 'The range runs past the quotes of its literal.' };
  const jsxAttribute = ts.isStringLiteral(node) && ts.isJsxAttribute(node.parent);
  if (!ts.isJsxText(node) && !jsxAttribute) {
    for (const { s } of ordered) {
      if (endsInEscape(text.slice(innerStart, s.start)) || endsInEscape(s.secret)) return { refused: 'The range starts or ends inside an escape sequence.' };
    }
  }
  const hasEnv = ordered.some(({ s }) => s.replaceWith.kind === 'env');
  if (hasEnv) {
    const why = constantContext(node, sf);
    if (why !== undefined) return { refused: `The literal is ${why}, which cannot hold an expression; patch it by hand.` };
  }
  const first = ordered[0]!.s;
  const whole =
    ordered.length === 1 && first.start === innerStart && first.end === innerEnd && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node));
  const context = whole ? contextName(node) : undefined;
  const env: Array<{ name: string; fingerprint: string; at: number }> = [];
  /** The variable's name; `at`: where its reference starts in the edit's text. */
  const nameOf = (s: VerifiedSite, at: number): string => {
    const name = ctx.namer.nameFor(s.site.fingerprint, (whole ? context : undefined) ?? envNameForSite(s.site));
    env.push({ name, fingerprint: s.site.fingerprint, at });
    return name;
  };
  const withEnv = (edit: TextEdit): Rewrite => ({ edit: env.length > 0 ? { ...edit, env } : edit });
  const indexes = ordered.map(({ s }) => s.index);
  const nodeStart = node.getStart(sf);

  // The literal is exactly the secret: the literal becomes the expression (or the safe value).
  const tagged = ts.isTaggedTemplateExpression(node.parent);
  if (whole && (ts.isStringLiteral(node) || (ts.isNoSubstitutionTemplateLiteral(node) && !tagged))) {
    let start = nodeStart;
    let end = node.end;
    let out: string;
    if (first.replaceWith.kind === 'value') {
      const q = ts.isStringLiteral(node) ? text[nodeStart]! : quote;
      out = jsxAttribute ? `{${quoteString(first.replaceWith.value, quote)}}` : quoteString(first.replaceWith.value, q);
    } else {
      const name = nameOf(first, 0);
      out = jsxAttribute ? `{${envExpression(name, quote, false)}}` : envExpression(name, quote);
      const p = node.parent;
      // `'…' as const` cannot assert an expression: the assertion goes with the literal.
      if (ts.isAsExpression(p) && ts.isTypeReferenceNode(p.type) && p.type.typeName.getText(sf) === 'const') {
        start = p.getStart(sf);
        end = p.end;
      }
    }
    return withEnv({ start, end, text: out, sites: indexes });
  }

  // Part of a template literal, or JSX text: insert in place.
  if (!ts.isStringLiteral(node)) {
    const jsx = ts.isJsxText(node);
    let out = '';
    let pos = innerStart;
    for (const { s } of ordered) {
      out += text.slice(pos, s.start);
      if (s.replaceWith.kind === 'value') out += jsx ? `{${quoteString(s.replaceWith.value, quote)}}` : escapeForTemplate(s.replaceWith.value);
      else out += jsx ? `{${envExpression(nameOf(s, out.length), quote, false)}}` : `\${${envExpression(nameOf(s, out.length), quote, false)}}`;
      pos = s.end;
    }
    out += text.slice(pos, innerEnd);
    return withEnv({ start: innerStart, end: innerEnd, text: out, sites: indexes });
  }

  // Part of a string: only safe values → stay a string; any variable → become a template literal.
  const q = text[nodeStart]!;
  let body = '';
  let pos = innerStart;
  for (const { s } of ordered) {
    const seg = text.slice(pos, s.start);
    if (hasEnv) {
      body += stringSourceToTemplate(seg, jsxAttribute);
      const at = body.length + (jsxAttribute ? 2 : 1);
      body += s.replaceWith.kind === 'value' ? escapeForTemplate(s.replaceWith.value) : `\${${envExpression(nameOf(s, at), quote, false)}}`;
    } else {
      const value = s.replaceWith.kind === 'value' ? s.replaceWith.value : '';
      body += seg + (jsxAttribute ? value : escapeForQuote(value, q));
    }
    pos = s.end;
  }
  const tail = text.slice(pos, innerEnd);
  if (!hasEnv) {
    if (jsxAttribute && ordered.some(({ s }) => s.replaceWith.kind === 'value' && /["'{}<>&]/.test(s.replaceWith.value))) {
      return { refused: 'The safe value cannot be written inside this JSX attribute string; patch it by hand.' };
    }
    return withEnv({ start: nodeStart, end: node.end, text: `${q}${body}${tail}${q}`, sites: indexes });
  }
  body += stringSourceToTemplate(tail, jsxAttribute);
  const template = `\`${body}\``;
  return withEnv({ start: nodeStart, end: node.end, text: jsxAttribute ? `{${template}}` : template, sites: indexes });
}

export const UNPARSEABLE_NOTE = (reason: string): string =>
  `${ErrorCode.PATCH_UNPARSEABLE}: ${reason}, so the secret was replaced as text with \`\${NAME}\` ` +
  'and the code does not read the variable yet: finish the edit by hand.';
