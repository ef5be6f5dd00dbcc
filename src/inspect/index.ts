/**
 * Key facts from repository files: the extractor is chosen by path and content.
 *
 * - `*.tf` and `*.tf.json` (and `*.tfvars` / `*.tfvars.json`, for variable values): Terraform,
 *   grouped into modules by folder (both syntaxes of one folder are one module);
 * - `*.yaml`, `*.yml`, `*.json`, `*.template`: CloudFormation when a document has
 *   `AWSTemplateFormatVersion` or `Resources` with `Type: AWS::…`; Kubernetes when it has
 *   `apiVersion` and `kind`; anything else is not a configuration Keywarden reads (no problem).
 *
 * Never throws: a file over the size cap, a binary file, invalid HCL/YAML/JSON is a `Problem` at
 * its line and column, and the other files are still read. Pure: text in, facts out.
 */
import { inspectCloudFormation, isCloudFormation } from './cloudformation.js';
import { inspectCode, inspectDotenv, isCodeFile, isDotenvFile, keyRefsInText } from './code.js';
import { ProblemCode, type Fact, type InspectResult, type Problem } from './facts.js';
import { inspectKubernetes, isKubernetes } from './kubernetes.js';
import { inspectTerraform, type InspectTerraformOptions } from './terraform.js';
import { loadYaml, type YamlLimits } from './yaml-doc.js';

export * from './facts.js';
export { inspectTerraform, type InspectTerraformOptions, type TerraformFile } from './terraform.js';

export interface InspectOptions extends InspectTerraformOptions, YamlLimits {
  /** Files larger than this (UTF-16 code units, about bytes for configuration) are a Problem, not read. Default 2 MiB. */
  maxBytes?: number;
}

export interface InspectFileInput {
  path: string;
  text: string;
}

const DEFAULT_MAX = 2 * 1024 * 1024;

/**
 * Facts from one file. A Terraform file is read as a module of its own (its variables, locals and
 * data sources only); use `inspectFiles` to resolve across a folder.
 *
 * @example
 * const { facts, problems } = inspectFile('infra/kms.tf', text);
 * for (const f of facts) if (f.kind === 'key') console.log(f.name, f.rotationEnabled);
 */
export function inspectFile(path: string, text: string, options: InspectOptions = {}): InspectResult {
  return inspectFiles([{ path, text }], options);
}

/** Facts from many files at once: Terraform files of one folder resolve each other's variables, locals, data sources and module calls. */
export function inspectFiles(files: readonly InspectFileInput[], options: InspectOptions = {}): InspectResult {
  const facts: Fact[] = [];
  const problems: Problem[] = [];
  const terraform: InspectFileInput[] = [];
  for (const f of files) {
    const kind = kindOf(f.path);
    if (kind === undefined) continue;
    if (!admissible(f, options.maxBytes ?? DEFAULT_MAX, problems)) continue;
    if (kind === 'terraform') terraform.push(f);
    else if (kind === 'code') guarded(f.path, problems, () => facts.push(...inspectCode(f.path, f.text, problems)));
    else if (kind === 'dotenv') guarded(f.path, problems, () => facts.push(...inspectDotenv(f.path, f.text)));
    else guarded(f.path, problems, () => facts.push(...inspectYamlFile(f.path, f.text, kind === 'json', problems, options)));
  }
  if (terraform.length > 0)
    guarded(terraform[0]!.path, problems, () => {
      // `file("${path.module}/policy.json")` reads another file given here.
      const texts = new Map(files.map((f) => [f.path, f.text]));
      const r = inspectTerraform(terraform, { readFile: (p) => texts.get(p), ...options });
      facts.push(...r.facts);
      problems.push(...r.problems);
    });
  return { facts, problems };
}

type FileKind = 'terraform' | 'yaml' | 'json' | 'code' | 'dotenv';

function kindOf(path: string): FileKind | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  if (isDotenvFile(path)) return 'dotenv';
  if (isCodeFile(path)) return 'code';
  if (base.endsWith('.tf') || base.endsWith('.tfvars') || base.endsWith('.tf.json') || base.endsWith('.tfvars.json')) return 'terraform';
  if (base.endsWith('.yaml') || base.endsWith('.yml')) return 'yaml';
  if (base.endsWith('.json') || base.endsWith('.template')) return 'json';
  return undefined;
}

function admissible(f: InspectFileInput, maxBytes: number, problems: Problem[]): boolean {
  if (typeof f.text !== 'string') {
    problems.push({ file: f.path, line: 1, column: 1, code: ProblemCode.BINARY, message: 'The file is not text; it was not read.' });
    return false;
  }
  if (f.text.length > maxBytes) {
    problems.push({ file: f.path, line: 1, column: 1, code: ProblemCode.FILE_TOO_LARGE, message: `The file is larger than ${maxBytes} bytes; it was not read. Configuration this large is usually generated: check the source it comes from.` });
    return false;
  }
  const nul = f.text.indexOf('\u0000');
  if (nul >= 0) {
    problems.push({ file: f.path, line: 1, column: 1, code: ProblemCode.BINARY, message: 'The file holds a NUL byte (it looks binary); it was not read.' });
    return false;
  }
  return true;
}

/** Cheap content sniffing first: a YAML or JSON file that is neither a template nor a manifest is not parsed at all. */
const CFN_HINT = /(^|[\s{,"])(AWSTemplateFormatVersion|Resources)"?\s*:/m;
const K8S_HINT = /(^|[\s{,"])apiVersion"?\s*:/m;

function inspectYamlFile(path: string, text: string, json: boolean, problems: Problem[], limits: YamlLimits): Fact[] {
  const cfn = CFN_HINT.test(text);
  const k8s = !json && K8S_HINT.test(text);
  // Any other JSON or YAML file (application settings, Helm values): the KMS keys it names.
  if (!cfn && !k8s) return keyRefsInText(path, text);
  const y = loadYaml(path, text, json, problems, limits);
  if (!y) return [];
  const facts: Fact[] = [];
  for (let i = 0; i < y.docs.length; i++) {
    if (cfn && isCloudFormation(y, i)) {
      facts.push(...inspectCloudFormation(path, { ...y, docs: [y.docs[i]!] }, problems));
    } else if (k8s && isKubernetes(y, i)) facts.push(...inspectKubernetes(path, { ...y, docs: [y.docs[i]!] }, problems));
  }
  if (y.walker.spent) problems.push({ file: path, line: 1, column: 1, code: ProblemCode.BUDGET, message: 'The file expands to more nodes than allowed (aliases?); the rest was not read.' });
  return facts;
}

/** A bug in an extractor is a Problem for that file, never an exception out of `inspectFiles`. */
function guarded(file: string, problems: Problem[], f: () => void): void {
  try {
    f();
  } catch (e) {
    problems.push({
      file,
      line: 1,
      column: 1,
      code: e instanceof RangeError ? ProblemCode.HCL_TOO_DEEP : ProblemCode.INTERNAL,
      message: e instanceof RangeError ? 'The file is nested too deeply to read.' : 'Keywarden could not read this file (an internal error); the other files were read.',
    });
  }
}
