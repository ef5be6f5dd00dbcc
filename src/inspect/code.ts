/**
 * Key facts from TypeScript/JavaScript (parsed by the TypeScript compiler that `ts-morph` ships)
 * and from dotenv files. Pure: text in, facts out; a fact never holds a secret value.
 *
 * TypeScript/JavaScript:
 * - an AWS SDK client (`new KMSClient({...})`, `new AWS.KMS({...})`, any `…Client`) constructed with
 *   a literal `accessKeyId`/`secretAccessKey` (in `credentials` or, SDK v2, at the top) →
 *   `inline-credential` at the credentials;
 * - `createCipheriv`/`createDecipheriv`/`createHmac` given a literal key (a string, or
 *   `Buffer.from('…')`) → `inline-credential` at the key argument;
 * - a literal KMS key reference in an object property named like a key id (`KeyId`, `keyArn`,
 *   `kmsKeyId`, …) — an ARN, an alias or a key id → `key-ref` (which key the call site uses).
 *
 * dotenv (`.env`, `.env.*`): a value that is a KMS ARN, an alias (`alias/…`) or — under a name with
 * `KMS` or `KEY_ID` in it — a key id → `key-ref`.
 *
 * Files that mention none of the names above are not parsed (a plain text test first).
 */
import { createRequire } from 'node:module';
import { ProblemCode, type InlineCredentialFact, type KeyRefFact, type Problem } from './facts.js';

type Ts = typeof import('ts-morph').ts;
let tsModule: Ts | undefined;
/** The TypeScript compiler bundled with ts-morph, loaded on first use (it is large). */
function typescript(): Ts {
  tsModule ??= (createRequire(import.meta.url)('ts-morph') as typeof import('ts-morph')).ts;
  return tsModule;
}

const CODE_FILE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/i;
const DOTENV_FILE = /(^|\/)\.env(\.[^/]*)?$/;
/** What a file must mention to be parsed at all: literal access keys, a cipher call, or a key-id property beside something shaped like a key reference. */
const hinted = (text: string): boolean =>
  (text.includes('accessKeyId') && text.includes('secretAccessKey')) ||
  /create(?:De)?[Cc]ipheriv|createHmac/.test(text) ||
  (/[Kk]ey_?(?:Id|Arn)|[Kk]msKey/.test(text) && /arn:aws[a-z-]*:kms:|["'`]alias\/|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-|mrk-[0-9a-f]{32}/.test(text));

/** A KMS key reference: an ARN of a key or an alias, an alias name, a key id (UUID or multi-region `mrk-`). */
const KMS_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_.-]{1,256}$/;
const ALIAS = /^alias\/[A-Za-z0-9/_-]{1,250}$/;
const KEY_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KEY_PROPERTY = /^(KeyId|keyId|KeyArn|keyArn|kmsKeyId|KmsKeyId|kmsKeyArn|KmsKeyArn|SSEKMSKeyId|kms_key_id|key_id)$/;

export function isCodeFile(path: string): boolean {
  return CODE_FILE.test(path);
}

export function isDotenvFile(path: string): boolean {
  return DOTENV_FILE.test(path);
}

export function keyRefKind(value: string, loose = false): KeyRefFact['refKind'] | undefined {
  if (KMS_ARN.test(value)) return value.includes(':alias/') ? 'alias-arn' : 'arn';
  if (ALIAS.test(value)) return 'alias';
  if (loose && KEY_ID.test(value)) return 'key-id';
  return undefined;
}

type CodeFact = InlineCredentialFact | KeyRefFact;

export function inspectCode(path: string, text: string, problems: Problem[]): CodeFact[] {
  if (!hinted(text)) return [];
  const ts = typescript();
  const kind = /\.(tsx|jsx)$/i.test(path) ? ts.ScriptKind.TSX : /\.(js|mjs|cjs)$/i.test(path) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind);
  const facts: CodeFact[] = [];
  const at = (n: import('ts-morph').ts.Node): { line: number; column: number } => {
    const p = sf.getLineAndCharacterOfPosition(n.getStart(sf));
    return { line: p.line + 1, column: p.character + 1 };
  };
  const base = (n: import('ts-morph').ts.Node, resourceType: string, name: string) => ({ file: path, ...at(n), format: 'code' as const, resourceType, name });
  const literal = (e: import('ts-morph').ts.Expression | undefined): string | undefined => {
    if (!e) return undefined;
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
    if (ts.isAsExpression(e) || ts.isParenthesizedExpression(e) || ts.isSatisfiesExpression(e)) return literal(e.expression);
    return undefined;
  };
  const prop = (o: import('ts-morph').ts.ObjectLiteralExpression, name: string): import('ts-morph').ts.PropertyAssignment | undefined =>
    o.properties.find((p): p is import('ts-morph').ts.PropertyAssignment => ts.isPropertyAssignment(p) && propName(p) === name);
  const propName = (p: import('ts-morph').ts.PropertyAssignment): string | undefined => (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : undefined);
  const literalKey = (e: import('ts-morph').ts.Expression | undefined): boolean => {
    if (!e) return false;
    if (literal(e) !== undefined) return (literal(e) ?? '').length >= 8;
    // Buffer.from('…', 'hex' | 'base64' | …)
    if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && e.expression.getText(sf) === 'Buffer.from') return literal(e.arguments[0]) !== undefined;
    return false;
  };
  let budget = 200_000;
  const visit = (n: import('ts-morph').ts.Node, depth: number): void => {
    if (--budget < 0 || depth > 500) return;
    if (ts.isNewExpression(n) && n.arguments?.[0] && ts.isObjectLiteralExpression(n.arguments[0])) {
      const callee = n.expression.getText(sf);
      if (/(^|\.)(\w*Client|KMS|S3|SecretsManager|STS|IAM)$/.test(callee)) {
        const o = n.arguments[0];
        const creds = prop(o, 'credentials');
        const holder = creds && ts.isObjectLiteralExpression(creds.initializer) ? creds.initializer : o;
        const id = prop(holder, 'accessKeyId');
        const secret = prop(holder, 'secretAccessKey');
        if (id && secret && literal(id.initializer) !== undefined && literal(secret.initializer) !== undefined) {
          facts.push({ ...base(creds ?? id, callee.slice(0, 80), `${callee.slice(0, 80)} credentials`), kind: 'inline-credential', what: `credentials written into new ${callee.slice(0, 80)}(…)` });
        }
      }
    }
    if (ts.isCallExpression(n)) {
      const callee = n.expression.getText(sf);
      const fn = /(?:^|\.)(createCipheriv|createDecipheriv|createHmac)$/.exec(callee)?.[1];
      const keyArg = n.arguments[1];
      if (fn && keyArg && literalKey(keyArg)) facts.push({ ...base(keyArg, fn, `${fn} key`), kind: 'inline-credential', what: `a literal key given to ${fn}` });
    }
    if (ts.isPropertyAssignment(n)) {
      const name = propName(n);
      const v = literal(n.initializer);
      const refKind = name && KEY_PROPERTY.test(name) && v !== undefined ? keyRefKind(v, true) : undefined;
      if (refKind) facts.push({ ...base(n.initializer, 'code', name!), kind: 'key-ref', provider: 'aws', ref: v!, refKind });
    }
    ts.forEachChild(n, (c) => visit(c, depth + 1));
  };
  visit(sf, 0);
  if (budget < 0) problems.push({ file: path, line: 1, column: 1, code: ProblemCode.BUDGET, message: 'The file has more syntax nodes than Keywarden reads; the rest was not read.' });
  return facts;
}

/** `NAME=value` lines of a dotenv file whose value references a KMS key. */
export function inspectDotenv(path: string, text: string): KeyRefFact[] {
  const facts: KeyRefFact[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length && i < 100_000; i++) {
    const m = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]{0,200})\s*=\s*(['"]?)([^'"#\s]{1,2048})\3/.exec(lines[i]!);
    if (!m) continue;
    const name = m[2]!;
    const refKind = keyRefKind(m[4]!, /KMS|KEY_?ID/i.test(name));
    if (!refKind) continue;
    facts.push({ file: path, line: i + 1, column: lines[i]!.indexOf(m[4]!, m[1]!.length + name.length) + 1, format: 'dotenv', resourceType: 'dotenv', name, kind: 'key-ref', provider: 'aws', ref: m[4]!, refKind });
  }
  return facts;
}

const KMS_ARN_IN_TEXT = /arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key|alias)\/[A-Za-z0-9/_.-]{1,256}/g;

/**
 * The KMS key ARNs a settings file (JSON, YAML) names, each at its line and column, named by the
 * setting on its line when there is one (`"dataKeyArn": "arn:aws:kms:…"` → `dataKeyArn`). Only
 * ARNs: a bare alias or UUID in free-form settings is too often something else.
 */
export function keyRefsInText(path: string, text: string): KeyRefFact[] {
  if (!text.includes(':kms:')) return [];
  const facts: KeyRefFact[] = [];
  let lineStart = 0;
  let line = 1;
  let scanned = 0;
  for (const m of text.matchAll(KMS_ARN_IN_TEXT)) {
    if (facts.length >= 10_000) break;
    for (; scanned < m.index; scanned++) {
      if (text.charCodeAt(scanned) === 10) {
        line++;
        lineStart = scanned + 1;
      }
    }
    // At most the 200 characters before it: a minified file is one long line.
    const before = text.slice(Math.max(lineStart, m.index - 200), m.index);
    const name = /["']?([A-Za-z_][A-Za-z0-9_.-]{0,120})["']?\s*[:=]\s*["']?$/.exec(before)?.[1] ?? 'setting';
    const ref = m[0];
    facts.push({ file: path, line, column: m.index - lineStart + 1, format: 'config', resourceType: 'config', name, kind: 'key-ref', provider: 'aws', ref, refKind: ref.includes(':alias/') ? 'alias-arn' : 'arn' });
  }
  return facts;
}
