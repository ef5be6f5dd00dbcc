/**
 * `keywarden check --fix`: the safe, mechanical fixes of key-configuration violations, as text
 * edits to the files that declare the keys. Pure: texts, facts and violations in, new texts out.
 *
 * Fixed: automatic rotation off (turned on), a rotation period outside the policy's bounds, a
 * deletion window outside them — for `aws_kms_key` in Terraform and `AWS::KMS::Key` in
 * CloudFormation YAML; for Google's `google_kms_crypto_key` (`rotation_period`,
 * `destroy_scheduled_duration`, in seconds); for Azure's `azurerm_key_vault_key` (a
 * `rotation_policy` block added when there is none, in the provider's documented form, or its
 * `time_after_creation` set). The value chosen is the provider's default (AWS 365 and 30 days,
 * Google 30 days; 90 days for a rotation period Google and Azure do not default) when the policy
 * allows it, else the nearest bound the provider accepts. Never fixed: a value written as an
 * expression (a variable, a reference: the fix belongs where it is set), a key declared through a
 * module (the module serves other callers), CloudFormation JSON, an Azure rotation policy that
 * exists but rotates by expiry, anything the policy does not bound. Each edit touches one line or
 * adds lines; comments and formatting elsewhere are kept.
 */
import type { Bound, PolicyAst } from '../policy/dsl/ast.js';
import type { Violation } from '../model/decision.js';
import type { KeyFact, Value } from '../inspect/facts.js';
import { policyKeyId } from '../inspect/policy-facts.js';

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
/** `terraform` and `cloudformation` are AWS's. */
type Format = 'terraform' | 'cloudformation' | 'gcp' | 'azure';
type Range = { min: number; max: number; default: number };

const NAMES: Record<Format, Partial<Record<Attr, string>>> = {
  terraform: { rotation: 'enable_key_rotation', period: 'rotation_period_in_days', window: 'deletion_window_in_days' },
  cloudformation: { rotation: 'EnableKeyRotation', period: 'RotationPeriodInDays', window: 'PendingWindowInDays' },
  // Google rotates when a period is set: turning rotation on is setting the period.
  gcp: { rotation: 'rotation_period', period: 'rotation_period', window: 'destroy_scheduled_duration' },
  azure: { period: 'time_after_creation' },
};

/** What each provider accepts (days) and uses when nothing is written. */
const RANGES: Record<'aws' | 'gcp' | 'azure', Partial<Record<'period' | 'window', Range>>> = {
  aws: { period: { min: 90, max: 2560, default: 365 }, window: { min: 7, max: 30, default: 30 } },
  gcp: { period: { min: 1, max: 36_500, default: 90 }, window: { min: 1, max: 120, default: 30 } },
  azure: { period: { min: 7, max: 36_500, default: 90 } },
};

const providerOf = (f: Format): 'aws' | 'gcp' | 'azure' => (f === 'gcp' ? 'gcp' : f === 'azure' ? 'azure' : 'aws');

/** A number of days as the provider writes it: AWS a number, Google seconds, Azure an ISO 8601 duration. */
function written(format: Format, attr: Attr, days: number): string {
  if (format === 'gcp') return `"${days * 86_400}s"`;
  if (format === 'azure') return `"P${days}D"`;
  return attr === 'rotation' ? 'true' : String(days);
}

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
    const fact = facts.find((f) => f.file === subject.file && policyKeyId(f) === subject.id && f.line === subject.line);
    const skip = (reason: string): void => void skipped.push({ file: subject.file!, line: subject.line ?? 1, key: subject.id ?? '', rule: v.rule, reason });
    if (!fact) continue;
    const once = `${fact.file}\0${fact.name}\0${attr}`;
    if (done.has(once)) continue;
    done.add(once);
    if (fact.via) {
      skip('declared through a module: fix the module input or the module itself');
      continue;
    }
    const format: Format | undefined =
      fact.resourceType === 'aws_kms_key'
        ? 'terraform'
        : fact.resourceType === 'AWS::KMS::Key' && !/\.json$/i.test(fact.file)
          ? 'cloudformation'
          : fact.resourceType === 'google_kms_crypto_key' && !/\.json$/i.test(fact.file)
            ? 'gcp'
            : fact.resourceType === 'azurerm_key_vault_key' && !/\.json$/i.test(fact.file)
              ? 'azure'
              : undefined;
    const text = texts.get(fact.file);
    if (!format || text === undefined) {
      skip(fact.resourceType === 'AWS::KMS::Key' ? 'CloudFormation JSON is not edited' : `${fact.resourceType} is not fixed automatically`);
      continue;
    }
    // The days to write: the policy's bound on this attribute (a rotation period also for turning
    // rotation on where the provider rotates by period), within what the provider accepts.
    const cls = ast.keys.find((k) => k.name === m[1]);
    const provider = providerOf(format);
    const needs = attr === 'window' ? 'window' : attr === 'period' || (format !== 'terraform' && format !== 'cloudformation') ? 'period' : undefined;
    let days = 0;
    if (needs) {
      const range = RANGES[provider][needs];
      const bound = needs === 'period' ? cls?.rotation?.period : cls?.destroy?.pendingWindow;
      const chosen = range ? (bound ? pick(bound, range) : attr === 'rotation' ? range.default : undefined) : undefined;
      if (chosen === undefined) {
        skip(range ? `no value within ${bound?.text ?? 'the policy'} that ${provider === 'aws' ? 'AWS' : provider === 'gcp' ? 'Google Cloud KMS' : 'Azure Key Vault'} accepts` : `${fact.resourceType} has no such setting`);
        continue;
      }
      days = chosen;
    }
    const current: Value<unknown> = attr === 'rotation' ? fact.rotationEnabled : attr === 'period' ? fact.rotationPeriodDays : fact.deletionWindowDays;
    if (current.state === 'unknown') {
      skip('the value is an expression; fix it where it is set');
      continue;
    }
    const list = edits.get(fact.file) ?? [];
    let change: string;
    if (format === 'azure') {
      if (attr === 'rotation' && fact.extra.hasRotationPolicy?.state === 'known' && fact.extra.hasRotationPolicy.value === false) {
        // The provider's documented form: rotate `time_before_expiry` before an expiry `days` + 30 after creation.
        const block = ['rotation_policy {', '  automatic {', '    time_before_expiry = "P30D"', '  }', `  expire_after         = "P${days + 30}D"`, '  notify_before_expiry = "P29D"', '}'];
        list.push({ line: fact.line, apply: (lines) => insertBlock(lines, fact.line, block) });
        change = `rotation_policy { automatic { time_before_expiry = "P30D" }, expire_after = "P${days + 30}D" }`;
      } else if (attr === 'period' && current.state === 'known' && current.line !== undefined && lineHas(text, current.line, 'time_after_creation')) {
        const at = current.line;
        const value = written(format, attr, days);
        list.push({ line: at, apply: (lines) => (lines[at - 1] = replaceValue(lines[at - 1] ?? '', 'time_after_creation', value, 'terraform')) });
        change = `time_after_creation = ${value}`;
      } else {
        skip('the rotation policy is written another way (by expiry, or without automatic rotation): set it by hand');
        continue;
      }
    } else {
      const name = NAMES[format][attr]!;
      const value = written(format, attr, days);
      if (current.state === 'known' && current.line !== undefined && (format !== 'gcp' || lineHas(text, current.line, name))) {
        const at = current.line;
        list.push({ line: at, apply: (lines) => (lines[at - 1] = replaceValue(lines[at - 1] ?? '', name, value, format === 'cloudformation' ? 'cloudformation' : 'terraform')) });
      } else if (current.state === 'known' && format === 'gcp') {
        skip('the value is not on a line of its own; fix it by hand');
        continue;
      } else {
        const anchor = format === 'cloudformation' ? propertiesLine(text, fact.line) : fact.line;
        if (anchor === undefined) {
          skip('the resource has no Properties block to add to');
          continue;
        }
        list.push({ line: anchor, apply: (lines) => insertAfter(lines, anchor, name, value, format === 'cloudformation' ? 'cloudformation' : 'terraform') });
      }
      change = format === 'cloudformation' ? `${name}: ${value}` : `${name} = ${value}`;
    }
    edits.set(fact.file, list);
    fixed.push({ file: fact.file, line: current.state === 'known' && current.line !== undefined ? current.line : fact.line, key: fact.name, rule: v.rule, change });
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

/** Whether line `at` (1-based) of `text` writes the attribute `name` (an edit replaces only its own attribute). */
function lineHas(text: string, at: number, name: string): boolean {
  return new RegExp(`^\\s*${name}\\s*=`).test(text.split(/\r?\n/)[at - 1] ?? '');
}

/** Adds a nested block as the first lines inside the Terraform block opened on line `at` (1-based). */
function insertBlock(lines: string[], at: number, block: readonly string[]): void {
  const header = lines[at - 1] ?? '';
  const indent = /^\s*/.exec(header)![0];
  const empty = /\{\s*\}\s*$/.exec(header);
  if (empty) {
    lines.splice(at - 1, 1, `${header.slice(0, empty.index)}{`, ...block.map((l) => `${indent}  ${l}`), `${indent}}`);
    return;
  }
  const inner = /^\s+/.exec(lines[at] ?? '')?.[0];
  const pad = inner && inner.length > indent.length ? inner : `${indent}  `;
  lines.splice(at, 0, ...block.map((l) => `${pad}${l}`));
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
