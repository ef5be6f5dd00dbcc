/**
 * `keywarden check --fix`: the safe, mechanical fixes of key-configuration violations, as text
 * edits to the files that declare the keys. Pure: texts, facts and violations in, new texts out.
 *
 * Fixed: automatic rotation off (turned on), a rotation period outside the policy's bounds, a
 * deletion window outside them — for `aws_kms_key` in Terraform and `AWS::KMS::Key` in
 * CloudFormation YAML. The value chosen is AWS's default (365 days, 30 days) when the policy allows
 * it, else the nearest bound AWS accepts. Never fixed: a value written as an expression (a
 * variable, a reference: the fix belongs where it is set), a key declared through a module (the
 * module serves other callers), CloudFormation JSON, anything the policy does not bound. Each
 * edit touches one line or adds one; comments and formatting elsewhere are kept.
 */
import type { Bound, PolicyAst } from '../policy/dsl/ast.js';
import type { Violation } from '../model/decision.js';
import type { KeyFact, Value } from '../inspect/facts.js';

export interface ConfigFix {
  file: string;
  line: number;
  key: string;
  rule: string;
  /** What was done: `enable_key_rotation = true`. */
  change: string;
}

export interface ConfigFixSkip {
  file: string;
  line: number;
  key: string;
  rule: string;
  reason: string;
}

export interface ConfigFixResult {
  /** New texts of the files that changed. */
  files: Map<string, string>;
  fixed: ConfigFix[];
  skipped: ConfigFixSkip[];
}

type Attr = 'rotation' | 'period' | 'window';

const NAMES: Record<'terraform' | 'cloudformation', Record<Attr, string>> = {
  terraform: { rotation: 'enable_key_rotation', period: 'rotation_period_in_days', window: 'deletion_window_in_days' },
  cloudformation: { rotation: 'EnableKeyRotation', period: 'RotationPeriodInDays', window: 'PendingWindowInDays' },
};

/** What AWS accepts (days) and uses when nothing is written. */
const AWS_RANGE: Record<'period' | 'window', { min: number; max: number; default: number }> = {
  period: { min: 90, max: 2560, default: 365 },
  window: { min: 7, max: 30, default: 30 },
};

/**
 * @example
 * const { files } = planConfigFixes(texts, facts, decision.violations, ast);
 * for (const [file, text] of files) writeFileSync(file, text);
 */
export function planConfigFixes(texts: ReadonlyMap<string, string>, facts: readonly KeyFact[], violations: readonly Violation[], ast: PolicyAst): ConfigFixResult {
  const fixed: ConfigFix[] = [];
  const skipped: ConfigFixSkip[] = [];
  // Edits per file, applied bottom-up so earlier line numbers stay valid.
  const edits = new Map<string, { line: number; apply: (lines: string[]) => void }[]>();
  const done = new Set<string>();
  for (const v of violations) {
    const m = /^keys\/([^/]+)\/(rotation\/automatic|rotation\/period|destroy\/pending-window)$/.exec(v.rule);
    const subject = v.subject as { kind?: string; id?: string; file?: string; line?: number };
    if (!m || subject.kind !== 'key-config' || typeof subject.file !== 'string') continue;
    const attr: Attr = m[2] === 'rotation/automatic' ? 'rotation' : m[2] === 'rotation/period' ? 'period' : 'window';
    const fact = facts.find((f) => f.file === subject.file && f.name === subject.id && f.line === subject.line);
    const skip = (reason: string): void => void skipped.push({ file: subject.file!, line: subject.line ?? 1, key: subject.id ?? '', rule: v.rule, reason });
    if (!fact) continue;
    const once = `${fact.file}\0${fact.name}\0${attr}`;
    if (done.has(once)) continue;
    done.add(once);
    if (fact.via) {
      skip('declared through a module: fix the module input or the module itself');
      continue;
    }
    const format = fact.resourceType === 'aws_kms_key' ? 'terraform' : fact.resourceType === 'AWS::KMS::Key' && !/\.json$/i.test(fact.file) ? 'cloudformation' : undefined;
    const text = texts.get(fact.file);
    if (!format || text === undefined) {
      skip(fact.resourceType === 'AWS::KMS::Key' ? 'CloudFormation JSON is not edited' : `${fact.resourceType} is not fixed automatically`);
      continue;
    }
    let value: string;
    if (attr === 'rotation') value = 'true';
    else {
      const cls = ast.keys.find((k) => k.name === m[1]);
      const bound = attr === 'period' ? cls?.rotation?.period : cls?.destroy?.pendingWindow;
      const days = bound ? pick(bound, AWS_RANGE[attr]) : undefined;
      if (days === undefined) {
        skip(`no value within ${bound?.text ?? 'the policy'} that AWS accepts`);
        continue;
      }
      value = String(days);
    }
    const current: Value<unknown> = attr === 'rotation' ? fact.rotationEnabled : attr === 'period' ? fact.rotationPeriodDays : fact.deletionWindowDays;
    if (current.state === 'unknown') {
      skip('the value is an expression; fix it where it is set');
      continue;
    }
    const name = NAMES[format][attr];
    const list = edits.get(fact.file) ?? [];
    if (current.state === 'known' && current.line !== undefined) {
      const at = current.line;
      list.push({ line: at, apply: (lines) => (lines[at - 1] = replaceValue(lines[at - 1] ?? '', name, value, format)) });
    } else {
      const anchor = format === 'terraform' ? fact.line : propertiesLine(text, fact.line);
      if (anchor === undefined) {
        skip('the resource has no Properties block to add to');
        continue;
      }
      list.push({ line: anchor, apply: (lines) => insertAfter(lines, anchor, name, value, format) });
    }
    edits.set(fact.file, list);
    fixed.push({ file: fact.file, line: current.state === 'known' && current.line !== undefined ? current.line : fact.line, key: fact.name, rule: v.rule, change: format === 'terraform' ? `${name} = ${value}` : `${name}: ${value}` });
  }
  const files = new Map<string, string>();
  for (const [file, list] of edits) {
    const text = texts.get(file)!;
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const lines = text.split(/\r?\n/);
    for (const e of [...list].sort((a, b) => b.line - a.line)) e.apply(lines);
    const next = lines.join(eol);
    if (next !== text) files.set(file, next);
  }
  return { files, fixed, skipped };
}

/** AWS's default when the bound allows it, else the allowed value nearest to it within AWS's range. */
function pick(bound: Bound, range: { min: number; max: number; default: number }): number | undefined {
  const ok = (x: number): boolean =>
    bound.comparisons.every((c) => (c.op === '>=' ? x >= c.days : c.op === '<=' ? x <= c.days : c.op === '>' ? x > c.days : c.op === '<' ? x < c.days : x === c.days));
  if (ok(range.default)) return range.default;
  let best: number | undefined;
  for (let x = range.min; x <= range.max; x++) if (ok(x) && (best === undefined || Math.abs(x - range.default) < Math.abs(best - range.default))) best = x;
  return best;
}

/** The attribute's line with its value replaced; the rest of the line (a comment) kept. */
function replaceValue(line: string, name: string, value: string, format: 'terraform' | 'cloudformation'): string {
  const re = format === 'terraform' ? new RegExp(`^(\\s*${name}\\s*=\\s*)("?[A-Za-z0-9_.-]*"?)(.*)$`) : new RegExp(`^(\\s*${name}\\s*:\\s*)(["']?[A-Za-z0-9_.-]*["']?)(.*)$`);
  const m = re.exec(line);
  return m ? `${m[1]}${value}${m[3]}` : line;
}

/** Adds `name = value` as the first line inside the block opened on line `at` (1-based). */
function insertAfter(lines: string[], at: number, name: string, value: string, format: 'terraform' | 'cloudformation'): void {
  const header = lines[at - 1] ?? '';
  const indent = /^\s*/.exec(header)![0];
  if (format === 'terraform') {
    // `resource "aws_kms_key" "x" {}` on one line: open it.
    const empty = /\{\s*\}\s*$/.exec(header);
    if (empty) {
      lines.splice(at - 1, 1, `${header.slice(0, empty.index)}{`, `${indent}  ${name} = ${value}`, `${indent}}`);
      return;
    }
    const next = lines[at] ?? '';
    const inner = /^\s+/.exec(next)?.[0] ?? `${indent}  `;
    lines.splice(at, 0, `${inner.length > indent.length ? inner : `${indent}  `}${name} = ${value}`);
    return;
  }
  const next = lines[at] ?? '';
  const inner = /^\s+/.exec(next)?.[0];
  lines.splice(at, 0, `${inner && inner.length > indent.length ? inner : `${indent}  `}${name}: ${value}`);
}

/** The `Properties:` line of the CloudFormation resource declared at `resourceLine`, if it has one. */
function propertiesLine(text: string, resourceLine: number): number | undefined {
  const lines = text.split(/\r?\n/);
  const head = lines[resourceLine - 1];
  if (head === undefined) return undefined;
  const base = /^\s*/.exec(head)![0].length;
  for (let i = resourceLine; i < lines.length && i < resourceLine + 400; i++) {
    const l = lines[i]!;
    if (l.trim() === '' || l.trimStart().startsWith('#')) continue;
    const ind = /^\s*/.exec(l)![0].length;
    if (ind <= base) return undefined;
    if (/^\s*Properties:\s*(#.*)?$/.test(l)) return i + 1;
  }
  return undefined;
}
