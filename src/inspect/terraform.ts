/**
 * Terraform → facts: KMS keys (AWS, GCP, Azure Key Vault, Vault transit), aliases, grants, key
 * policy attachments and IAM access keys, each at the line and column of its resource block, and
 * each value at its attribute.
 *
 * Files are grouped into modules by folder, as Terraform does. Within a module, `var.x` resolves to
 * an auto-loaded `terraform.tfvars` / `*.auto.tfvars` value, else the variable's literal default;
 * `local.x` to its literal value; `data.aws_iam_policy_document.x.json` to that data source's
 * statements; a local module call (`source = "./modules/kms"`) binds its literal inputs to the
 * child's variables, and the child's facts are addressed `module.<name>.<type>.<name>`. Anything
 * else (a resource attribute, a data source read at plan time, `each`/`count`, a function that
 * reads files) is `unknown`, with the reason. A cycle among locals or module calls is a `Problem`,
 * never a hang; evaluation is counted against a budget.
 *
 * Pure: text in, facts out.
 */
import type { KeyUsage } from '../model/keys.js';
import { lineIndexOf, lineStarts } from '../util/line-column.js';
import {
  ABSENT,
  known,
  ProblemCode,
  specInfo,
  unknown,
  type AccessKeyFact,
  type AliasFact,
  type Fact,
  type GrantFact,
  type InspectResult,
  type KeyExtra,
  type KeyFact,
  type KeyFamily,
  type KeyPolicyFact,
  type KeyProvider,
  type Located,
  type PolicyStatement,
  type Position,
  type Problem,
  type Value,
} from './facts.js';
import { literalString, parseHcl, type Attribute, type Block, type Body, type Expr, type TemplatePart, type TraversalStep } from './hcl.js';
import { parseTerraformJson } from './terraform-json.js';
import {
  asBool,
  asNumber,
  asString,
  Budget,
  BUDGET_REASON,
  dynValue,
  fromJson,
  isObject,
  joinParts,
  PartialString,
  PolicyDocument,
  statementsFromDocument,
  statementsFromJson,
  statementsFromPartialJson,
  stringList,
  Unresolved,
  type Dyn,
  type DynObject,
  type Positions,
} from './policy-document.js';

export interface TerraformFile {
  path: string;
  text: string;
}

export interface InspectTerraformOptions {
  /** Evaluation steps allowed per module instance. Default 200,000. */
  budget?: number;
  /** Evaluation steps allowed for all module instances together. Default 20,000,000. */
  totalBudget?: number;
  /** Deepest module call chain followed. Default 16. */
  maxModuleDepth?: number;
  /** Most module instances expanded in all. Default 256. */
  maxModuleInstances?: number;
  /**
   * The text of another file of the repository (a normalised relative path), for `file()` and
   * `templatefile()`: a key policy kept as `policy.json` beside the module. Undefined: not read.
   */
  readFile?: (path: string) => string | undefined;
}

/**
 * Facts from Terraform files (`.tf`, and `.tfvars` for variable values). Files in one folder are one
 * module. Never throws: bad input is a `Problem`.
 *
 * @example
 * const { facts } = inspectTerraform([{ path: 'infra/kms.tf', text }]);
 * const key = facts.find((f) => f.kind === 'key');
 * key?.rotationEnabled; // { state: 'known', value: true, line: 3, column: 3 }
 */
export function inspectTerraform(files: readonly TerraformFile[], options: InspectTerraformOptions = {}): InspectResult {
  const problems: Problem[] = [];
  const modules = new Map<string, Module>();
  for (const f of files) {
    const parsed = parseFile(f, problems);
    if (!parsed) continue;
    const dir = dirOf(f.path);
    let m = modules.get(dir);
    if (!m) {
      m = newModule(dir);
      modules.set(dir, m);
    }
    addToModule(m, parsed, problems);
  }
  const ctx: RunContext = {
    modules,
    problems,
    facts: [],
    budgetSize: options.budget ?? 200_000,
    maxDepth: options.maxModuleDepth ?? 16,
    instancesLeft: options.maxModuleInstances ?? 256,
    reported: new Set(),
    total: new Budget(options.totalBudget ?? 20_000_000),
    ...(options.readFile ? { readFile: options.readFile } : {}),
  };
  // Folders another folder calls are expanded through their calls; the rest are roots.
  const called = new Set<string>();
  for (const m of modules.values()) for (const call of m.calls) if (call.target !== undefined && modules.has(call.target) && call.target !== m.dir) called.add(call.target);
  const expanded = new Set<string>();
  for (const m of modules.values()) if (!called.has(m.dir)) expandModule(ctx, m, undefined, '', undefined, [m.dir], expanded);
  // A folder reached only through a cycle of calls is still read once on its own.
  for (const m of modules.values()) if (!expanded.has(m.dir)) expandModule(ctx, m, undefined, '', undefined, [m.dir], expanded);
  return { facts: ctx.facts, problems };
}

// ---------------------------------------------------------------------------------------------
// Files and modules

interface ParsedFile {
  path: string;
  body: Body;
  starts: number[];
  tfvars: 'auto' | 'chosen' | undefined;
}

interface Declared<T> {
  item: T;
  file: ParsedFile;
}

interface ModuleCall {
  block: Block;
  file: ParsedFile;
  name: string;
  /** The called folder, for a local `source`. */
  target: string | undefined;
}

interface Module {
  dir: string;
  variables: Map<string, Declared<Block>>;
  locals: Map<string, Declared<Attribute>>;
  /** `aws_iam_policy_document` data sources by name. */
  policyDocs: Map<string, Declared<Block>>;
  resources: Declared<Block>[];
  calls: ModuleCall[];
  /** Values from auto-loaded tfvars files, and names set in tfvars files chosen at plan time. */
  tfvars: Map<string, Declared<Attribute>>;
  chosenTfvars: Map<string, string>;
}

function newModule(dir: string): Module {
  return { dir, variables: new Map(), locals: new Map(), policyDocs: new Map(), resources: [], calls: [], tfvars: new Map(), chosenTfvars: new Map() };
}

function parseFile(f: TerraformFile, problems: Problem[]): ParsedFile | undefined {
  // `*.tf.json` / `*.tfvars.json`: Terraform's JSON syntax, read into the same Body (terraform-json.ts).
  const json = /\.(tf|tfvars)\.json$/i.test(f.path);
  let base = f.path.slice(f.path.lastIndexOf('/') + 1);
  if (json) base = base.slice(0, -'.json'.length);
  const { body, error, duplicates } = json ? parseTerraformJson(f.text, { tfvars: base.toLowerCase().endsWith('.tfvars') }) : parseHcl(f.text);
  const starts = lineStarts(f.text);
  const at = (offset: number): Located => ({ file: f.path, ...position(starts, offset) });
  if (error || !body) {
    const e = error!;
    const code = e.code === 'hcl-too-deep' ? ProblemCode.HCL_TOO_DEEP : e.code === 'json-syntax' ? ProblemCode.JSON_SYNTAX : ProblemCode.HCL_SYNTAX;
    problems.push({ code, message: `Terraform ${json ? 'JSON ' : ''}syntax: ${e.message}`, ...at(e.offset) });
    return undefined;
  }
  for (const d of duplicates) problems.push({ code: ProblemCode.HCL_DUPLICATE, message: `The attribute "${clip(d.name)}" is set more than once in one block; Terraform refuses the file.`, ...at(d.start) });
  const tfvars = !base.endsWith('.tfvars') ? undefined : base === 'terraform.tfvars' || base.endsWith('.auto.tfvars') ? 'auto' : 'chosen';
  return { path: f.path, body, starts, tfvars };
}

function addToModule(m: Module, file: ParsedFile, _problems: Problem[]): void {
  if (file.tfvars) {
    for (const a of file.body.attributes) {
      if (file.tfvars === 'auto') m.tfvars.set(a.name, { item: a, file });
      else m.chosenTfvars.set(a.name, file.path.slice(file.path.lastIndexOf('/') + 1));
    }
    return;
  }
  for (const b of file.body.blocks) {
    const [l0, l1] = b.labels;
    if (b.type === 'variable' && l0 !== undefined) m.variables.set(l0, { item: b, file });
    else if (b.type === 'locals') for (const a of b.body.attributes) m.locals.set(a.name, { item: a, file });
    else if (b.type === 'data' && l0 === 'aws_iam_policy_document' && l1 !== undefined) m.policyDocs.set(l1, { item: b, file });
    else if (b.type === 'resource' && l0 !== undefined && l1 !== undefined) m.resources.push({ item: b, file });
    else if (b.type === 'module' && l0 !== undefined) {
      const src = attrOf(b.body, 'source');
      const source = src ? literalString(src.expr) : undefined;
      const target = source !== undefined && (source.startsWith('./') || source.startsWith('../')) ? joinPath(m.dir, source) : undefined;
      m.calls.push({ block: b, file, name: l0, target });
    }
  }
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** The path from folder `from` to folder `to` (both normalised, relative to the repository root): `../modules/kms`, `.`. */
function relativeDir(from: string, to: string): string {
  const a = from === '' || from === '.' ? [] : from.split('/');
  const b = to === '' || to === '.' ? [] : to.split('/');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/') || '.';
}

/** `dir` + a relative module source, normalised; undefined when it climbs above the root. */
function joinPath(dir: string, rel: string): string | undefined {
  const out = dir === '' ? [] : dir.split('/');
  for (const seg of rel.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(seg);
  }
  return out.join('/');
}

function position(starts: readonly number[], offset: number): Position {
  const i = lineIndexOf(starts, offset);
  return { line: i + 1, column: offset - starts[i]! + 1 };
}

const clip = (s: string, n = 80): string => (s.length > n ? `${s.slice(0, n)}…` : s);

function attrOf(body: Body, name: string): Attribute | undefined {
  return body.attributes.find((a) => a.name === name);
}

// ---------------------------------------------------------------------------------------------
// Module instances

interface RunContext {
  modules: Map<string, Module>;
  problems: Problem[];
  facts: Fact[];
  budgetSize: number;
  maxDepth: number;
  instancesLeft: number;
  /** Problems reported once per place (a cycle is seen from every instance). */
  reported: Set<string>;
  /** All module instances' steps together: many roots cannot multiply the work without bound. */
  total: Budget;
  readFile?: (path: string) => string | undefined;
}

function report(ctx: RunContext, p: Problem): void {
  const id = `${p.code}:${p.file}:${p.line}:${p.column}`;
  if (ctx.reported.has(id)) return;
  ctx.reported.add(id);
  ctx.problems.push(p);
}

function expandModule(
  ctx: RunContext,
  m: Module,
  inputs: Map<string, Dyn> | undefined,
  prefix: string,
  via: (Located & { module: string }) | undefined,
  stack: string[],
  expanded: Set<string>,
): void {
  expanded.add(m.dir);
  const ev = new Evaluator(m, inputs, new Budget(ctx.budgetSize, ctx.total), ctx, stack[0] ?? m.dir);
  const facts: Fact[] = [];
  for (const r of m.resources) {
    const f = extractResource(ev, r, prefix, via);
    if (f) facts.push(f);
  }
  link(facts);
  ctx.facts.push(...facts);
  if (ev.budget.spent) report(ctx, { code: ProblemCode.BUDGET, message: ctx.total.spent ? 'Evaluating the Terraform configuration as a whole took more steps than allowed; the values of this module and the rest are unknown.' : `Evaluating this module took more than ${ctx.budgetSize} steps; the rest of its values are unknown.`, file: m.resources[0]?.file.path ?? m.dir, line: 1, column: 1 });

  for (const call of m.calls) {
    const child = call.target === undefined ? undefined : ctx.modules.get(call.target);
    if (!child) continue;
    const at: Located = { file: call.file.path, ...position(call.file.starts, call.block.start) };
    if (stack.includes(child.dir)) {
      report(ctx, { code: ProblemCode.MODULE_CYCLE, message: `The module call "${clip(call.name)}" leads back to a module that calls it; Terraform refuses module cycles.`, ...at });
      continue;
    }
    if (stack.length >= ctx.maxDepth || ctx.instancesLeft <= 0) {
      report(ctx, { code: ProblemCode.BUDGET, message: `Module calls nest deeper than ${ctx.maxDepth} or expand to more than the allowed instances; "${clip(call.name)}" is not followed.`, ...at });
      continue;
    }
    ctx.instancesLeft--;
    const childInputs = new Map<string, Dyn>();
    const meta = new Set(['source', 'version', 'providers', 'count', 'for_each', 'depends_on']);
    for (const a of call.block.body.attributes) if (!meta.has(a.name)) childInputs.set(a.name, ev.eval(a.expr, call.file));
    const perInstance = attrOf(call.block.body, 'count') ?? attrOf(call.block.body, 'for_each');
    const name = `${prefix}module.${call.name}${perInstance ? '[*]' : ''}.`;
    expandModule(ctx, child, childInputs, name, via ?? { ...at, module: call.name }, [...stack, child.dir], expanded);
  }
}

/** Aliases onto their keys; `aws_kms_key_policy` statements onto theirs. */
function link(facts: Fact[]): void {
  const keys = new Map<string, KeyFact>();
  for (const f of facts) if (f.kind === 'key') keys.set(f.name, f);
  for (const f of facts) {
    if (f.kind === 'alias' && f.targetKey && f.aliasName.state === 'known') keys.get(f.targetKey)?.aliases.push(f.aliasName.value);
    if (f.kind === 'key-policy' && f.targetKey) {
      const key = keys.get(f.targetKey);
      if (!key) continue;
      key.policy = key.policy.state === 'absent' ? f.policy : unknown(`the policy is set both on the key and by ${f.name}`, { line: f.line, column: f.column });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

const MAX_REFERENCE_DEPTH = 64;

class Evaluator {
  readonly positions: Positions = new WeakMap();
  private readonly localCache = new Map<string, Dyn>();
  private readonly docCache = new Map<string, PolicyDocument>();
  private readonly inProgress = new Set<string>();

  constructor(
    readonly module: Module,
    private readonly inputs: Map<string, Dyn> | undefined,
    readonly budget: Budget,
    private readonly ctx: RunContext,
    /** The root module's folder: Terraform's working folder, which relative paths start from. */
    private readonly rootDir: string,
  ) {}

  at(file: ParsedFile, offset: number): Position {
    return position(file.starts, offset);
  }

  eval(e: Expr, file: ParsedFile): Dyn {
    if (!this.budget.take(1)) return new Unresolved(BUDGET_REASON);
    switch (e.kind) {
      case 'literal':
        return e.value;
      case 'paren':
        return this.eval(e.expr, file);
      case 'template':
        return this.template(e.parts, file);
      case 'tuple':
        return e.items.map((x) => this.eval(x, file));
      case 'object': {
        const out: DynObject = Object.create(null) as DynObject;
        for (const item of e.items) {
          let key = item.keyName;
          if (key === undefined) {
            const k = this.eval(item.key, file);
            if (typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean') key = String(k);
            else return new Unresolved(k instanceof Unresolved ? `an object key ${k.reason}` : 'an object key is not a literal');
          }
          out[key] = this.eval(item.value, file);
        }
        this.positions.set(out, this.at(file, e.start));
        return out;
      }
      case 'traversal':
        return this.traversal(e.root, e.steps, file);
      case 'postfix':
        return this.applySteps(this.eval(e.target, file), e.steps, file, 'the value');
      case 'call':
        return this.call(e.name, e.args, e.expandFinal, file);
      case 'unary': {
        const v = this.eval(e.operand, file);
        if (v instanceof Unresolved) return v;
        if (e.op === '-' && typeof v === 'number') return -v;
        if (e.op === '!' && typeof v === 'boolean') return !v;
        return new Unresolved(`the operator ${e.op} is applied to a value that is not a literal`);
      }
      case 'binary':
        return binary(e.op, this.eval(e.left, file), this.eval(e.right, file));
      case 'conditional': {
        const c = this.eval(e.cond, file);
        if (c === true || c === 'true') return this.eval(e.then, file);
        if (c === false || c === 'false') return this.eval(e.else, file);
        return new Unresolved(c instanceof Unresolved ? `a condition ${c.reason}` : 'a condition is not a literal boolean', c instanceof Unresolved ? c.ref : undefined);
      }
      case 'for':
        return new Unresolved('a for expression is not evaluated');
    }
  }

  private template(parts: readonly TemplatePart[], file: ParsedFile): Dyn {
    if (parts.length === 1 && parts[0]!.kind === 'interp') return this.eval(parts[0]!.expr, file);
    const out: (string | Unresolved)[] = [];
    for (const p of parts) {
      if (p.kind === 'text') out.push(p.text);
      else if (p.kind === 'directive') return new Unresolved('a template directive (%{…}) is not evaluated');
      else {
        const v = this.eval(p.expr, file);
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.push(String(v));
        else if (v instanceof Unresolved) out.push(v);
        else if (v instanceof PartialString) out.push(...v.parts);
        else return new Unresolved(v === null ? 'a template interpolates null' : 'a template interpolates a collection');
      }
    }
    // Strings can double per local (`"${local.a}${local.a}"`): count what is built.
    if (!this.budget.take(textCost(out))) return new Unresolved(BUDGET_REASON);
    if (out.every((p) => typeof p === 'string')) return out.join('');
    return new PartialString(mergeText(out));
  }

  private traversal(root: string, steps: readonly TraversalStep[], file: ParsedFile): Dyn {
    const text = traversalText(root, steps);
    const first = steps[0];
    const firstName = first?.kind === 'attr' ? first.name : undefined;
    if (root === 'var' && firstName !== undefined) return this.applySteps(this.variable(firstName, file), steps.slice(1), file, `var.${firstName}`);
    if (root === 'local' && firstName !== undefined) return this.applySteps(this.local(firstName), steps.slice(1), file, `local.${firstName}`);
    if (root === 'data') {
      const second = steps[1];
      if (firstName === 'aws_iam_policy_document' && second?.kind === 'attr') {
        const third = steps[2];
        if (third?.kind === 'attr' && (third.name === 'json' || third.name === 'minified_json') && steps.length === 3) return this.policyDoc(second.name, text);
      }
      return new Unresolved(`${clip(text)} is read at plan time`, text);
    }
    if (root === 'module') return new Unresolved(`the module output ${clip(text)} is not evaluated`, text);
    if (root === 'each' || root === 'count') return new Unresolved(`${clip(text)} differs per instance`, text);
    if (root === 'path' && steps.length === 1 && (firstName === 'module' || firstName === 'root')) {
      // As Terraform gives them: relative to the working folder (the root module's).
      if (firstName === 'root') return '.';
      return relativeDir(this.rootDir, this.module.dir);
    }
    if (root === 'path' || root === 'terraform' || root === 'self') return new Unresolved(`${clip(text)} is known only at plan time`, text);
    if (steps.length >= 2) return new Unresolved(`${clip(text)} is known only after apply`, text);
    return new Unresolved(`${clip(text)} is not a reference Keywarden resolves`, text);
  }

  private applySteps(v: Dyn, steps: readonly TraversalStep[], file: ParsedFile, what: string): Dyn {
    let cur = v;
    for (const s of steps) {
      if (cur instanceof Unresolved) return cur;
      if (s.kind === 'splat') return new Unresolved(`a splat of ${clip(what)} is not evaluated`);
      const key = s.kind === 'attr' ? s.name : this.eval(s.key, file);
      if (key instanceof Unresolved) return key;
      if (Array.isArray(cur) && typeof key === 'number') cur = cur[key] ?? new Unresolved(`${clip(what)} has no element ${key}`);
      else if (Array.isArray(cur) && typeof key === 'string' && /^\d+$/.test(key)) cur = cur[Number(key)] ?? new Unresolved(`${clip(what)} has no element ${key}`);
      else if (isObject(cur) && (typeof key === 'string' || typeof key === 'number')) cur = Object.hasOwn(cur, String(key)) ? cur[String(key)]! : new Unresolved(`${clip(what)} has no attribute ${clip(String(key))}`);
      else return new Unresolved(`${clip(what)} cannot be indexed so`);
    }
    return cur;
  }

  private variable(name: string, _file: ParsedFile): Dyn {
    const ref = `var.${name}`;
    if (this.inputs?.has(name)) {
      const v = this.inputs.get(name)!;
      return v instanceof Unresolved ? new Unresolved(`the module input ${clip(name)}: ${v.reason}`, v.ref ?? ref) : v;
    }
    const tfv = this.module.tfvars.get(name);
    if (tfv) return this.guard(`tfvars:${name}`, () => this.eval(tfv.item.expr, tfv.file), ref);
    const chosen = this.module.chosenTfvars.get(name);
    if (chosen !== undefined) return new Unresolved(`variable ${clip(ref)} is also set in ${clip(chosen)}, chosen at plan time`, ref);
    const decl = this.module.variables.get(name);
    if (!decl) return new Unresolved(`variable ${clip(ref)} is not declared in the files inspected`, ref);
    const def = attrOf(decl.item.body, 'default');
    if (!def) return new Unresolved(`variable ${clip(ref)} has no default (it is set at plan time)`, ref);
    const v = this.guard(`var:${name}`, () => this.eval(def.expr, decl.file), ref);
    if (v instanceof Unresolved) return new Unresolved(`variable ${clip(ref)} has no literal default`, ref);
    if (v === null) return new Unresolved(`variable ${clip(ref)} defaults to null`, ref);
    return v;
  }

  private local(name: string): Dyn {
    const ref = `local.${name}`;
    const cached = this.localCache.get(name);
    if (cached !== undefined) return cached;
    const decl = this.module.locals.get(name);
    if (!decl) return new Unresolved(`${clip(ref)} is not declared in the files inspected`, ref);
    const key = `local:${name}`;
    if (this.inProgress.has(key)) {
      report(this.ctx, { code: ProblemCode.LOCAL_CYCLE, message: `The local value "${clip(name)}" refers to itself through other locals; Terraform refuses cycles.`, file: decl.file.path, ...this.at(decl.file, decl.item.start) });
      return new Unresolved(`${clip(ref)} is part of a cycle`, ref);
    }
    const v = this.guard(key, () => this.eval(decl.item.expr, decl.file), ref);
    this.localCache.set(name, v);
    return v;
  }

  /** Run `f` with `key` marked in progress; too deep a chain of references is unknown. */
  private guard(key: string, f: () => Dyn, ref: string): Dyn {
    if (this.inProgress.size >= MAX_REFERENCE_DEPTH) return new Unresolved(`${clip(ref)} is behind more than ${MAX_REFERENCE_DEPTH} references`, ref);
    this.inProgress.add(key);
    try {
      return f();
    } finally {
      this.inProgress.delete(key);
    }
  }

  private policyDoc(name: string, text: string): Dyn {
    const cached = this.docCache.get(name);
    if (cached) return cached;
    const decl = this.module.policyDocs.get(name);
    if (!decl) return new Unresolved(`${clip(text)}: no such policy document in the files inspected`, text);
    const key = `doc:${name}`;
    const at = this.at(decl.file, decl.item.start);
    if (this.inProgress.has(key)) return new PolicyDocument(unknown(`${clip(text)} includes itself`, at));
    let doc: PolicyDocument | undefined;
    this.guard(key, () => {
      doc = new PolicyDocument(this.documentStatements(decl.item, decl.file));
      return null;
    }, text);
    doc ??= new PolicyDocument(unknown(`${clip(text)} is behind too many references`, at));
    this.docCache.set(name, doc);
    return doc;
  }

  /** An `aws_iam_policy_document`'s statements, with `source_policy_documents` before and `override_policy_documents` replacing by Sid. */
  private documentStatements(block: Block, file: ParsedFile): Value<PolicyStatement[]> {
    const at = this.at(file, block.start);
    if (block.body.blocks.some((b) => b.type === 'dynamic')) return unknown('the policy document has dynamic statements', at);
    const own: PolicyStatement[] = [];
    for (const st of block.body.blocks) {
      if (st.type !== 'statement') continue;
      own.push(this.documentStatement(st, file));
    }
    const lists = (name: string): Value<PolicyStatement[]>[] | Value<PolicyStatement[]> => {
      const a = attrOf(block.body, name);
      if (!a) return [];
      const v = this.eval(a.expr, file);
      if (!Array.isArray(v)) return unknown(`${name} is not a literal list`, this.at(file, a.start));
      return v.map((d) => this.policyFromDyn(d, this.at(file, a.start)));
    };
    const sources = lists('source_policy_documents');
    const overrides = lists('override_policy_documents');
    if (!Array.isArray(sources)) return sources;
    if (!Array.isArray(overrides)) return overrides;
    let all: PolicyStatement[] = [];
    for (const s of sources) {
      if (s.state === 'unknown') return s;
      if (s.state === 'known') all.push(...s.value);
    }
    all = replaceBySid(all, own);
    for (const o of overrides) {
      if (o.state === 'unknown') return o;
      if (o.state === 'known') all = replaceBySid(all, o.value);
    }
    return known(all, at);
  }

  private documentStatement(st: Block, file: ParsedFile): PolicyStatement {
    const at = this.at(file, st.start);
    const b = st.body;
    const str = (name: string): Value<string> => toStringValue(this.evalAttr(b, name, file));
    const list = (name: string): Value<string[]> => {
      const a = attrOf(b, name);
      if (!a) return ABSENT;
      return stringList(this.eval(a.expr, file), this.at(file, a.start), this.budget);
    };
    const principals = (type: string): Value<string[]> => {
      const blocks = b.blocks.filter((x) => x.type === type);
      if (b.blocks.some((x) => x.type === 'dynamic' && x.labels[0] === type)) return unknown(`dynamic ${type} blocks are not evaluated`, at);
      if (blocks.length === 0) return ABSENT;
      const out: string[] = [];
      for (const p of blocks) {
        const t = toStringValue(this.evalAttr(p.body, 'type', file));
        const ids = attrOf(p.body, 'identifiers');
        const where = this.at(file, p.start);
        if (t.state !== 'known') return t.state === 'unknown' ? unknown(`a principal type ${t.reason}`, where) : unknown('a principals block has no type', where);
        if (!ids) return unknown('a principals block has no identifiers', where);
        const l = stringList(this.eval(ids.expr, file), where, this.budget);
        if (l.state === 'unknown') return l;
        // Type "*" with identifiers ["*"] is `"Principal": "*"`.
        if (l.state === 'known') for (const id of l.value) out.push(t.value === 'AWS' || t.value === '*' ? id : `${t.value}:${id}`);
      }
      return known(out, this.at(file, blocks[0]!.start));
    };
    const effect = str('effect');
    const sid = str('sid');
    return {
      sid: sid.state === 'known' ? sid.value : undefined,
      effect: effect.state === 'absent' ? known('Allow', at) : effect.state === 'known' ? (effect.value === 'Allow' || effect.value === 'Deny' ? known(effect.value, effect) : unknown('effect is neither Allow nor Deny', effect)) : effect,
      principals: principals('principals'),
      notPrincipals: principals('not_principals'),
      actions: list('actions'),
      notActions: list('not_actions'),
      resources: list('resources'),
      hasConditions: b.blocks.some((x) => x.type === 'condition' || (x.type === 'dynamic' && x.labels[0] === 'condition')),
      line: at.line,
      column: at.column,
    };
  }

  /** A policy attribute's value: a JSON string, a partial JSON string, a `jsonencode` result or a policy document. */
  policyFromDyn(value: Dyn, at: Position): Value<PolicyStatement[]> {
    const v = value instanceof JsonEncoded ? value.value : value;
    if (typeof v === 'string') return statementsFromJson(v, at, this.budget);
    if (v instanceof PartialString) return statementsFromPartialJson(v, at, this.budget);
    if (v === null) return ABSENT;
    return statementsFromDocument(v, at, this.positions, this.budget);
  }

  evalAttr(body: Body, name: string, file: ParsedFile): Evaluated {
    const a = attrOf(body, name);
    if (!a) return { attr: undefined, value: undefined, at: undefined };
    return { attr: a, value: this.eval(a.expr, file), at: this.at(file, a.start) };
  }

  private call(name: string, args: readonly Expr[], expandFinal: boolean, file: ParsedFile): Dyn {
    if (expandFinal) return new Unresolved(`${clip(name)}(…) with an expanded argument is not evaluated`);
    const vals = (): Dyn[] => args.map((a) => this.eval(a, file));
    switch (name) {
      case 'jsonencode': {
        if (args.length !== 1) return new Unresolved('jsonencode takes one argument');
        // Keep the structure: the policy reads it directly, with positions; a string is made only when asked.
        const v = this.eval(args[0]!, file);
        return new JsonEncoded(v);
      }
      case 'jsondecode': {
        const [s] = vals();
        if (typeof s !== 'string') return s instanceof Unresolved ? s : new Unresolved('jsondecode of a value that is not a literal string');
        try {
          return fromJson(JSON.parse(s), 0, this.budget);
        } catch {
          return new Unresolved('jsondecode of a string that is not JSON');
        }
      }
      case 'tostring':
      case 'tonumber':
      case 'tobool':
      case 'tolist':
      case 'toset':
      case 'tomap':
      case 'sensitive':
      case 'nonsensitive': {
        const [v] = vals();
        if (v === undefined) return new Unresolved(`${name} takes one argument`);
        if (name === 'tonumber' && typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
        if (name === 'tobool' && (v === 'true' || v === 'false')) return v === 'true';
        if (name === 'tostring' && (typeof v === 'number' || typeof v === 'boolean')) return String(v);
        return v;
      }
      case 'lower':
      case 'upper': {
        const [v] = vals();
        if (typeof v === 'string') return name === 'lower' ? v.toLowerCase() : v.toUpperCase();
        return v instanceof Unresolved ? v : new Unresolved(`${name} of a value that is not a literal string`);
      }
      case 'concat': {
        const out: Dyn[] = [];
        for (const v of vals()) {
          if (!Array.isArray(v)) return v instanceof Unresolved ? v : new Unresolved('concat of a value that is not a literal list');
          // Lists can double per local: count every element copied.
          if (!this.budget.take(v.length)) return new Unresolved(BUDGET_REASON);
          for (const x of v) out.push(x);
        }
        return out;
      }
      case 'merge': {
        const out: DynObject = Object.create(null) as DynObject;
        for (const v of vals()) {
          if (v === null) continue;
          if (!isObject(v)) return v instanceof Unresolved ? v : new Unresolved('merge of a value that is not a literal object');
          const keys = Object.keys(v);
          if (!this.budget.take(keys.length)) return new Unresolved(BUDGET_REASON);
          for (const k of keys) out[k] = v[k]!;
        }
        return out;
      }
      case 'join': {
        const [sep, list] = vals();
        if (typeof sep !== 'string' || !Array.isArray(list)) return new Unresolved('join of values that are not literal');
        if (!this.budget.take(list.length)) return new Unresolved(BUDGET_REASON);
        const parts = joinParts(sep, list);
        if (!parts) return new Unresolved('join of a list that holds collections');
        if (!this.budget.take(textCost(parts))) return new Unresolved(BUDGET_REASON);
        return parts.every((p) => typeof p === 'string') ? parts.join('') : new PartialString(mergeText(parts));
      }
      case 'file':
      case 'templatefile': {
        const [p] = vals();
        if (typeof p !== 'string') return p instanceof Unresolved ? new Unresolved(`${name}(…) of a path that is not literal: ${p.reason}`) : new Unresolved(`${name}(…) of a path that is not a string`);
        if (p.startsWith('/') || p.startsWith('~') || /^[A-Za-z]:/.test(p) || p.includes('\0')) return new Unresolved(`${name}("${clip(p)}") reads outside the repository`);
        const rel = joinPath(this.rootDir, p);
        const text = rel === undefined ? undefined : this.ctx.readFile?.(rel);
        if (text === undefined) return new Unresolved(`${name}("${clip(p)}") reads a file Keywarden did not read`);
        // A key policy is at most 32 KB (AWS's limit); a larger file is not one, and is not parsed per module instance.
        if (text.length > 64 * 1024) return new Unresolved(`${name}("${clip(p)}") is larger than a key policy can be`);
        if (!this.budget.take(1 + (text.length >> 2))) return new Unresolved(BUDGET_REASON);
        // A template with interpolations or directives needs its variables: not evaluated.
        if (name === 'templatefile' && /\$\{|%\{/.test(text)) return new Unresolved(`templatefile("${clip(p)}") interpolates variables`);
        return text;
      }
      case 'filebase64':
        return new Unresolved(`${name}(…) reads a file at plan time`);
      default:
        return new Unresolved(`the function ${clip(name)}(…) is not evaluated`);
    }
  }
}

interface Evaluated {
  attr: Attribute | undefined;
  value: Dyn | undefined;
  at: Position | undefined;
}

/**
 * A `jsonencode(...)` result. The policy normaliser reads the structure inside (with the position
 * of each statement object); everywhere else it is not a literal, which is all a fact needs.
 */
class JsonEncoded extends Unresolved {
  constructor(readonly value: Dyn) {
    super('a jsonencode(…) result is used where a literal is needed');
  }
}

function textCost(parts: readonly (string | Unresolved)[]): number {
  let n = 0;
  for (const p of parts) n += typeof p === 'string' ? 1 + (p.length >> 6) : 1;
  return n;
}

function mergeText(parts: readonly (string | Unresolved)[]): (string | Unresolved)[] {
  const out: (string | Unresolved)[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p;
    else if (p !== '') out.push(p);
  }
  return out;
}

function traversalText(root: string, steps: readonly TraversalStep[]): string {
  let s = root;
  for (const st of steps) {
    if (s.length > 200) break;
    if (st.kind === 'attr') s += `.${st.name}`;
    else if (st.kind === 'splat') s += '[*]';
    else s += st.key.kind === 'literal' ? `[${JSON.stringify(st.key.value)}]` : '[…]';
  }
  return s;
}

function binary(op: string, l: Dyn, r: Dyn): Dyn {
  if (l instanceof Unresolved) return l;
  if (r instanceof Unresolved) return r;
  const a = asNumber(l);
  const b = asNumber(r);
  if (a !== undefined && b !== undefined) {
    switch (op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        return b === 0 ? new Unresolved('a division by zero') : a / b;
      case '%':
        return b === 0 ? new Unresolved('a division by zero') : a % b;
      case '<':
        return a < b;
      case '>':
        return a > b;
      case '<=':
        return a <= b;
      case '>=':
        return a >= b;
    }
  }
  const scalar = (v: Dyn): boolean => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if ((op === '==' || op === '!=') && scalar(l) && scalar(r)) return op === '==' ? l === r : l !== r;
  if ((op === '&&' || op === '||') && typeof l === 'boolean' && typeof r === 'boolean') return op === '&&' ? l && r : l || r;
  return new Unresolved(`the operator ${op} is applied to values that are not literal`);
}

/** `extra` replaces statements of `base` with the same Sid, and is appended otherwise (the data source's merge rule). */
function replaceBySid(base: PolicyStatement[], extra: PolicyStatement[]): PolicyStatement[] {
  const out = [...base];
  const bySid = new Map<string, number>();
  out.forEach((st, i) => {
    if (st.sid !== undefined && !bySid.has(st.sid)) bySid.set(st.sid, i);
  });
  for (const st of extra) {
    const i = st.sid === undefined ? undefined : bySid.get(st.sid);
    if (i !== undefined) out[i] = st;
    else {
      if (st.sid !== undefined) bySid.set(st.sid, out.length);
      out.push(st);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conversions of evaluated attributes into tagged values

function toValue<T>(ev: Evaluated, convert: (v: Dyn) => T | undefined, what: string): Value<T> {
  return ev.attr === undefined ? ABSENT : dynValue(ev.value, ev.at, ev.attr.name, convert, what);
}

const toBoolValue = (ev: Evaluated): Value<boolean> => toValue(ev, asBool, 'a boolean');
const toNumberValue = (ev: Evaluated): Value<number> => toValue(ev, asNumber, 'a number');
const toStringValue = (ev: Evaluated): Value<string> => toValue(ev, asString, 'a string');

function toListValue(ev: Evaluated, budget: Budget): Value<string[]> {
  if (ev.attr === undefined || ev.value === undefined || ev.value === null) return ABSENT;
  if (!Array.isArray(ev.value) && !(ev.value instanceof Unresolved)) return unknown(`${ev.attr.name} is not a list`, ev.at);
  return stringList(ev.value, ev.at ?? { line: 1, column: 1 }, budget);
}

/** Days from a duration: GCP `"7776000s"`, Vault `"720h"`, Azure ISO 8601 `"P90D"`; months and years are not a fixed number of days. */
function durationDays(v: Value<string>): Value<number> {
  if (v.state !== 'known') return v;
  const at = { line: v.line, column: v.column };
  const s = v.value.trim();
  const go = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(s);
  if (go) {
    const n = Number(go[1]);
    const unit = go[2] === 's' ? 86_400 : go[2] === 'm' ? 1_440 : go[2] === 'h' ? 24 : 1;
    return known(n / unit, at);
  }
  const iso = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(s);
  if (iso && s !== 'P' && !s.endsWith('T')) {
    const [, w, d, h, m, sec] = iso;
    return known(Number(w ?? 0) * 7 + Number(d ?? 0) + Number(h ?? 0) / 24 + Number(m ?? 0) / 1_440 + Number(sec ?? 0) / 86_400, at);
  }
  if (/^P.*[YM]/.test(s.split('T')[0] ?? '')) return unknown(`the duration ${clip(s, 20)} is in months or years, which have no fixed number of days`, at);
  return unknown(`the duration ${clip(s, 20)} is not one Keywarden reads`, at);
}

// ---------------------------------------------------------------------------------------------
// Resources

const AWS_USAGE: Record<string, KeyUsage> = {
  ENCRYPT_DECRYPT: 'encrypt-decrypt',
  SIGN_VERIFY: 'sign-verify',
  GENERATE_VERIFY_MAC: 'generate-verify-mac',
  KEY_AGREEMENT: 'key-agreement',
};
const GCP_USAGE: Record<string, KeyUsage> = {
  ENCRYPT_DECRYPT: 'encrypt-decrypt',
  RAW_ENCRYPT_DECRYPT: 'encrypt-decrypt',
  ASYMMETRIC_DECRYPT: 'encrypt-decrypt',
  ASYMMETRIC_SIGN: 'sign-verify',
  MAC: 'generate-verify-mac',
  KEY_ENCAPSULATION: 'key-agreement',
};

function usageFrom(v: Value<string>, table: Record<string, KeyUsage>, what: string): Value<KeyUsage> {
  if (v.state !== 'known') return v;
  const u = table[v.value];
  const at = { line: v.line, column: v.column };
  return u ? known(u, at) : unknown(`${clip(v.value, 40)} is not a ${what} Keywarden knows`, at);
}

function familyFrom(spec: Value<string>, defaultSpec: string | undefined): { family: Value<KeyFamily>; rsaBits: Value<number> } {
  const at = spec.state === 'absent' ? {} : { line: spec.line, column: spec.column };
  if (spec.state === 'unknown') return { family: unknown(`the key spec ${spec.reason}`, at), rsaBits: unknown(`the key spec ${spec.reason}`, at) };
  const name = spec.state === 'known' ? spec.value : defaultSpec;
  if (name === undefined) return { family: ABSENT, rsaBits: ABSENT };
  const info = name.length <= 64 ? specInfo(name) : undefined;
  if (!info) return { family: unknown(`the key spec ${clip(name, 40)} is not one Keywarden knows`, at), rsaBits: unknown(`the key spec ${clip(name, 40)} is not one Keywarden knows`, at) };
  return { family: known(info.family, at), rsaBits: info.rsaBits === undefined ? ABSENT : known(info.rsaBits, at) };
}

/** The key resource a reference like `aws_kms_key.main.arn` points at, with the module prefix. */
function targetOf(body: Body, name: string, prefix: string, types: readonly string[]): string | undefined {
  const a = attrOf(body, name);
  let e = a?.expr;
  if (e?.kind === 'template' && e.parts.length === 1 && e.parts[0]!.kind === 'interp') e = e.parts[0]!.expr;
  if (e?.kind !== 'traversal' || !types.includes(e.root)) return undefined;
  const step = e.steps[0];
  if (step?.kind !== 'attr') return undefined;
  return `${prefix}${e.root}.${step.name}`;
}

function extractResource(ev: Evaluator, r: Declared<Block>, prefix: string, via: (Located & { module: string }) | undefined): Fact | undefined {
  const [type, label] = r.item.labels as [string, string];
  const body = r.item.body;
  const file = r.file;
  const at = ev.at(file, r.item.start);
  const base = { file: file.path, line: at.line, column: at.column, format: 'terraform' as const, resourceType: type, name: `${prefix}${type}.${label}`, ...(via ? { via } : {}) };
  const get = (name: string, b: Body = body): Evaluated => ev.evalAttr(b, name, file);
  const nested = (name: string): Body | Value<never> | undefined => {
    if (body.blocks.some((b) => b.type === 'dynamic' && b.labels[0] === name)) return unknown(`the ${name} block is dynamic`, at);
    return body.blocks.find((b) => b.type === name)?.body;
  };

  switch (type) {
    case 'aws_kms_key': {
      const specAttr = attrOf(body, 'key_spec') ? get('key_spec') : get('customer_master_key_spec');
      const spec = toStringValue(specAttr);
      const { family, rsaBits } = familyFrom(spec, 'SYMMETRIC_DEFAULT');
      const policyEv = get('policy');
      const policy = policyEv.attr === undefined ? ABSENT : policyOf(ev, policyEv);
      return key(base, 'aws', {
        spec,
        usage: usageFrom(toStringValue(get('key_usage')), AWS_USAGE, 'KMS key usage'),
        family,
        rsaBits,
        rotationEnabled: toBoolValue(get('enable_key_rotation')),
        rotationPeriodDays: toNumberValue(get('rotation_period_in_days')),
        deletionWindowDays: toNumberValue(get('deletion_window_in_days')),
        multiRegion: toBoolValue(get('multi_region')),
        policy,
        extra: { enabled: toBoolValue(get('is_enabled')) },
      });
    }
    case 'aws_kms_replica_key':
    case 'aws_kms_external_key': {
      // A replica has its primary's spec and rotation; a key with imported material is symmetric
      // but AWS cannot rotate it: neither is judged on rotation, both on their deletion window and policy.
      const policyEv = get('policy');
      return key(base, 'aws', {
        spec: ABSENT,
        usage: type === 'aws_kms_external_key' ? known('encrypt-decrypt') : ABSENT,
        family: type === 'aws_kms_external_key' ? known('symmetric') : ABSENT,
        rsaBits: ABSENT,
        rotationEnabled: ABSENT,
        rotationPeriodDays: ABSENT,
        deletionWindowDays: toNumberValue(get('deletion_window_in_days')),
        multiRegion: type === 'aws_kms_replica_key' ? known(true) : toBoolValue(get('multi_region')),
        policy: policyEv.attr === undefined ? ABSENT : policyOf(ev, policyEv),
        extra: { enabled: toBoolValue(get('enabled')) },
      });
    }
    case 'google_kms_crypto_key': {
      const vt = nested('version_template');
      const purpose = toStringValue(get('purpose'));
      let spec: Value<string>;
      let protectionLevel: Value<string> = ABSENT;
      if (vt === undefined) spec = ABSENT;
      else if ('state' in vt) spec = vt;
      else {
        spec = toStringValue(get('algorithm', vt));
        protectionLevel = toStringValue(get('protection_level', vt));
      }
      const defaultSpec = purpose.state === 'absent' || (purpose.state === 'known' && purpose.value === 'ENCRYPT_DECRYPT') ? 'GOOGLE_SYMMETRIC_ENCRYPTION' : undefined;
      const { family, rsaBits } = familyFrom(spec, defaultSpec);
      const rotation = get('rotation_period');
      const period = durationDays(toStringValue(rotation));
      return key(base, 'gcp', {
        spec,
        usage: usageFrom(purpose, GCP_USAGE, 'Cloud KMS purpose'),
        family,
        rsaBits,
        rotationEnabled: presence(period, rotation),
        rotationPeriodDays: period,
        deletionWindowDays: durationDays(toStringValue(get('destroy_scheduled_duration'))),
        multiRegion: ABSENT,
        policy: ABSENT,
        extra: { purpose, protectionLevel },
      });
    }
    case 'azurerm_key_vault_key': {
      const spec = toStringValue(get('key_type'));
      const { family } = familyFrom(spec, undefined);
      const size = toNumberValue(get('key_size'));
      const isRsa = spec.state === 'known' && spec.value.toUpperCase().startsWith('RSA');
      const rsaBits: Value<number> = spec.state === 'unknown' ? unknown(`the key type ${spec.reason}`) : isRsa ? size : ABSENT;
      const opts = toListValue(get('key_opts'), ev.budget);
      const rp = nested('rotation_policy');
      const extra: KeyExtra = { keyOperations: opts, expirationDate: toStringValue(get('expiration_date')), curve: toStringValue(get('curve')) };
      let rotationEnabled: Value<boolean> = ABSENT;
      let rotationPeriodDays: Value<number> = ABSENT;
      if (rp === undefined) extra.hasRotationPolicy = known(false);
      else if ('state' in rp) {
        extra.hasRotationPolicy = rp;
        rotationEnabled = rp;
        rotationPeriodDays = rp;
      } else {
        const rpBlock = body.blocks.find((b) => b.type === 'rotation_policy')!;
        const rpAt = ev.at(file, rpBlock.start);
        extra.hasRotationPolicy = known(true, rpAt);
        const expire = durationDays(toStringValue(get('expire_after', rp)));
        extra.expireAfterDays = expire;
        const auto = rp.blocks.find((b) => b.type === 'automatic');
        if (!auto) rotationEnabled = known(false, rpAt);
        else {
          rotationEnabled = known(true, ev.at(file, auto.start));
          const after = durationDays(toStringValue(get('time_after_creation', auto.body)));
          const before = durationDays(toStringValue(get('time_before_expiry', auto.body)));
          if (after.state !== 'absent') rotationPeriodDays = after;
          else if (before.state === 'known' && expire.state === 'known') rotationPeriodDays = known(expire.value - before.value, before);
          else if (before.state === 'unknown') rotationPeriodDays = before;
          else if (before.state === 'known' && expire.state === 'unknown') rotationPeriodDays = unknown(`expire_after ${expire.reason}`, before);
        }
      }
      return key(base, 'azure', {
        spec,
        usage: azureUsage(opts),
        family,
        rsaBits,
        rotationEnabled,
        rotationPeriodDays,
        deletionWindowDays: ABSENT,
        multiRegion: ABSENT,
        policy: ABSENT,
        extra,
      });
    }
    case 'vault_transit_secret_backend_key': {
      const spec = toStringValue(get('type'));
      const { family, rsaBits } = familyFrom(spec, 'aes256-gcm96');
      const periodEv = attrOf(body, 'auto_rotate_period') ? get('auto_rotate_period') : get('auto_rotate_interval');
      const seconds = toValue(periodEv, (v) => (typeof v === 'number' ? v : typeof v === 'string' ? goSeconds(v) : undefined), 'a number of seconds');
      const rotationEnabled: Value<boolean> = seconds.state === 'known' ? known(seconds.value > 0, seconds) : seconds;
      const rotationPeriodDays: Value<number> = seconds.state === 'known' ? (seconds.value > 0 ? known(seconds.value / 86_400, seconds) : ABSENT) : seconds;
      return key(base, 'vault', {
        spec,
        usage: vaultUsage(spec),
        family,
        rsaBits,
        rotationEnabled,
        rotationPeriodDays,
        deletionWindowDays: ABSENT,
        multiRegion: ABSENT,
        policy: ABSENT,
        extra: {
          minDecryptionVersion: toNumberValue(get('min_decryption_version')),
          deletionAllowed: toBoolValue(get('deletion_allowed')),
          exportable: toBoolValue(get('exportable')),
        },
      });
    }
    case 'aws_kms_alias': {
      const nameEv = get('name');
      const aliasName = nameEv.attr ? toStringValue(nameEv) : attrOf(body, 'name_prefix') ? unknown<string>('name_prefix: Terraform appends a generated suffix', ev.at(file, attrOf(body, 'name_prefix')!.start)) : ABSENT;
      const targetKey = targetOf(body, 'target_key_id', prefix, ['aws_kms_key', 'aws_kms_replica_key', 'aws_kms_external_key']);
      const f: AliasFact = { ...base, kind: 'alias', provider: 'aws', aliasName, targetKeyId: toStringValue(get('target_key_id')), ...(targetKey ? { targetKey } : {}) };
      return f;
    }
    case 'aws_kms_grant': {
      const targetKey = targetOf(body, 'key_id', prefix, ['aws_kms_key', 'aws_kms_replica_key', 'aws_kms_external_key']);
      const f: GrantFact = {
        ...base,
        kind: 'grant',
        provider: 'aws',
        keyId: toStringValue(get('key_id')),
        ...(targetKey ? { targetKey } : {}),
        grantee: toStringValue(get('grantee_principal')),
        retiringPrincipal: toStringValue(get('retiring_principal')),
        operations: toListValue(get('operations'), ev.budget),
        hasConstraints: body.blocks.some((b) => b.type === 'constraints' || (b.type === 'dynamic' && b.labels[0] === 'constraints')),
      };
      return f;
    }
    case 'aws_kms_key_policy': {
      const targetKey = targetOf(body, 'key_id', prefix, ['aws_kms_key', 'aws_kms_replica_key', 'aws_kms_external_key']);
      const policyEv = get('policy');
      const f: KeyPolicyFact = {
        ...base,
        kind: 'key-policy',
        provider: 'aws',
        keyId: toStringValue(get('key_id')),
        ...(targetKey ? { targetKey } : {}),
        policy: policyEv.attr === undefined ? ABSENT : policyOf(ev, policyEv),
      };
      return f;
    }
    case 'aws_iam_access_key': {
      const f: AccessKeyFact = {
        ...base,
        kind: 'access-key',
        provider: 'aws',
        user: toStringValue(get('user')),
        status: toStringValue(get('status')),
        encryptedWithPgp: attrOf(body, 'pgp_key') !== undefined,
      };
      return f;
    }
    default:
      return undefined;
  }
}

function policyOf(ev: Evaluator, policyEv: Evaluated): Value<PolicyStatement[]> {
  const at = policyEv.at!;
  let v: Dyn = policyEv.value as Dyn;
  if (v instanceof JsonEncoded) v = v.value;
  if (v instanceof Unresolved) return unknown(`the policy: ${v.reason}`, at);
  return ev.policyFromDyn(v, at);
}

function key(base: Omit<KeyFact, 'kind' | 'provider' | keyof KeyBody | 'aliases'>, provider: KeyProvider, body: KeyBody): KeyFact {
  return { ...base, kind: 'key', provider, ...body, aliases: [] };
}

type KeyBody = Pick<KeyFact, 'spec' | 'usage' | 'family' | 'rsaBits' | 'rotationEnabled' | 'rotationPeriodDays' | 'deletionWindowDays' | 'multiRegion' | 'policy' | 'extra'>;

/** True where the attribute is set to something, unknown where its value is. */
function presence(v: Value<number>, ev: Evaluated): Value<boolean> {
  if (v.state === 'absent') return ABSENT;
  if (v.state === 'known') return known(true, v);
  // The attribute is written; whether to a real period is what is unknown.
  return ev.value instanceof Unresolved || ev.value instanceof PartialString ? unknown(v.reason, v) : known(true, v);
}

function goSeconds(s: string): number | undefined {
  const m = /^(\d+)(s|m|h)?$/.exec(s.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
}

function azureUsage(opts: Value<string[]>): Value<KeyUsage> {
  if (opts.state !== 'known') return opts;
  const at = { line: opts.line, column: opts.column };
  const sign = opts.value.some((o) => o === 'sign' || o === 'verify');
  const enc = opts.value.some((o) => o === 'encrypt' || o === 'decrypt' || o === 'wrapKey' || o === 'unwrapKey');
  if (sign && enc) return unknown('key_opts allow both signing and encryption', at);
  if (sign) return known('sign-verify', at);
  if (enc) return known('encrypt-decrypt', at);
  return unknown('key_opts name no operation Keywarden knows', at);
}

function vaultUsage(spec: Value<string>): Value<KeyUsage> {
  if (spec.state === 'unknown') return spec;
  const at = spec.state === 'known' ? { line: spec.line, column: spec.column } : {};
  const t = spec.state === 'known' ? spec.value.toLowerCase() : 'aes256-gcm96';
  if (t.startsWith('aes') || t.startsWith('chacha')) return spec.state === 'absent' ? ABSENT : known('encrypt-decrypt', at);
  if (t.startsWith('ecdsa') || t === 'ed25519') return known('sign-verify', at);
  if (t === 'hmac') return known('generate-verify-mac', at);
  if (t.startsWith('rsa')) return unknown('Vault RSA keys both encrypt and sign', at);
  return unknown(`the key type ${clip(t, 40)} is not one Keywarden knows`, at);
}
