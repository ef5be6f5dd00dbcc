/**
 * GitHub's REST description (`@octokit/openapi`, `api.github.com.json`) as a route matcher and a
 * request/response validator for the fake.
 *
 * The 13 MB description is parsed once per process, on first use; the route index is built then
 * too. Validators are compiled with ajv lazily, one per operation (and per response status), and
 * cached. Schemas are rewritten before compiling:
 * - OpenAPI 3.0's `nullable: true` becomes a `null` type (and `null` joins an `enum`), since ajv's
 *   own `nullable` refuses a schema without `type`;
 * - request schemas have their `$ref`s inlined and every plain object schema closed
 *   (`additionalProperties: false`), so a misspelt field (`conclusoin`) is a violation, not
 *   silently ignored as GitHub would; the branches of `allOf`/`anyOf`/`oneOf` stay open, since a
 *   branch lists only part of the object;
 * - response schemas keep `$ref`s, as `#/definitions/<name>`, and stay open.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type JsonObject = { [k: string]: unknown };

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonObject;
  'x-multi-segment'?: boolean;
}

interface MediaTypes {
  content?: Record<string, { schema?: JsonObject }>;
}

interface Operation {
  operationId: string;
  parameters?: Array<Parameter | { $ref: string }>;
  requestBody?: (MediaTypes & { required?: boolean }) | { $ref: string };
  responses?: Record<string, MediaTypes | { $ref: string }>;
}

interface Spec {
  paths: Record<string, Record<string, unknown>>;
  components: {
    schemas: Record<string, JsonObject>;
    parameters: Record<string, Parameter>;
    responses: Record<string, MediaTypes>;
    examples: Record<string, { value: unknown }>;
  };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

let spec: Spec | undefined;

/** The parsed description, loaded on first use and kept for the life of the process. */
export function loadGitHubSpec(): Spec {
  if (!spec) {
    const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
    spec = JSON.parse(readFileSync(file, 'utf8')) as Spec;
  }
  return spec;
}

function deref<T>(value: T | { $ref: string }): T {
  if (value && typeof value === 'object' && '$ref' in value && typeof value.$ref === 'string') {
    const parts = value.$ref.replace(/^#\//, '').split('/').map(unescapePointer);
    let node: unknown = loadGitHubSpec();
    for (const p of parts) node = (node as JsonObject)[p];
    if (node === undefined) throw new Error(`github-fake: dangling $ref ${value.$ref} in GitHub's OpenAPI description`);
    return deref(node as T);
  }
  return value as T;
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

// --- routes -------------------------------------------------------------------------------

interface Route {
  method: string;
  template: string;
  operation: Operation;
  parameters: Parameter[];
  regex: RegExp;
  names: string[];
  literals: number;
  multis: number;
}

/** What a request matched: the operation, its path template and the decoded path parameters. */
export interface OperationMatch {
  method: string;
  /** The OpenAPI path template, e.g. `/repos/{owner}/{repo}/contents/{path}`. */
  route: string;
  operationId: string;
  pathParams: Record<string, string>;
}

let routes: Route[] | undefined;

function operationParameters(item: Record<string, unknown>, op: Operation): Parameter[] {
  const byKey = new Map<string, Parameter>();
  const pathLevel = (item.parameters as Operation['parameters']) ?? [];
  for (const p of [...pathLevel, ...(op.parameters ?? [])].map((x) => deref<Parameter>(x))) byKey.set(`${p.in}:${p.name}`, p);
  return [...byKey.values()];
}

function compileRoute(method: string, template: string, operation: Operation, parameters: Parameter[]): Route {
  const names: string[] = [];
  let multis = 0;
  const source = template.replace(/\{([^}]+)\}|[^{]+/g, (whole, name: string | undefined) => {
    if (name === undefined) return whole.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    names.push(name);
    const multi = parameters.some((p) => p.in === 'path' && p.name === name && p['x-multi-segment']);
    if (multi) multis++;
    return multi ? '(.+)' : '([^/]+)';
  });
  const literals = template.split('/').filter((s) => s && !s.includes('{')).length;
  return { method, template, operation, parameters, regex: new RegExp(`^${source}$`), names, literals, multis };
}

function routeIndex(): Route[] {
  if (!routes) {
    const list: Route[] = [];
    for (const [template, item] of Object.entries(loadGitHubSpec().paths)) {
      for (const method of METHODS) {
        const op = item[method] as Operation | undefined;
        if (op) list.push(compileRoute(method.toUpperCase(), template, op, operationParameters(item, op)));
      }
    }
    // A literal segment beats a parameter (`/branches/{branch}/protection` before `/branches/{branch}`).
    list.sort((a, b) => b.literals - a.literals || a.multis - b.multis);
    routes = list;
  }
  return routes;
}

/** Why a request matched no operation. */
export type MatchFailure = { reason: 'no-route' } | { reason: 'wrong-method'; allowed: string[] } | { reason: 'bad-encoding' };

/**
 * Finds the operation for `method` and the raw (still percent-encoded) `path`. Parameters are
 * split on raw `/` and then decoded, so `contents/a%2Fb.txt` and `contents/a/b.txt` both give
 * `path = a/b.txt` (Octokit sends the first, git tools the second).
 */
export function matchOperation(method: string, path: string): OperationMatch | MatchFailure {
  const allowed = new Set<string>();
  for (const r of routeIndex()) {
    const m = r.regex.exec(path);
    if (!m) continue;
    if (r.method !== method.toUpperCase()) {
      allowed.add(r.method);
      continue;
    }
    const pathParams: Record<string, string> = {};
    try {
      r.names.forEach((n, i) => (pathParams[n] = decodeURIComponent(m[i + 1]!)));
    } catch {
      return { reason: 'bad-encoding' };
    }
    return { method: r.method, route: r.template, operationId: r.operation.operationId, pathParams };
  }
  return allowed.size ? { reason: 'wrong-method', allowed: [...allowed] } : { reason: 'no-route' };
}

function findRoute(operationId: string): Route {
  const r = routeIndex().find((x) => x.operation.operationId === operationId);
  if (!r) throw new Error(`github-fake: no operation ${operationId} in GitHub's OpenAPI description`);
  return r;
}

// --- schemas ------------------------------------------------------------------------------

const COMBINERS = ['allOf', 'anyOf', 'oneOf'] as const;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Rewrites `nullable` into a `null` type; drops prose. */
function fixNullable(o: JsonObject): JsonObject {
  if (o.nullable !== true) {
    delete o.nullable;
    return o;
  }
  delete o.nullable;
  if (o.type === undefined) return { anyOf: [{ type: 'null' }, o] };
  o.type = Array.isArray(o.type) ? [...(o.type as unknown[]), 'null'] : [o.type, 'null'];
  if (Array.isArray(o.enum) && !o.enum.includes(null)) o.enum = [...(o.enum as unknown[]), null];
  return o;
}

const SCHEMA_REF = '#/components/schemas/';

/**
 * An object schema can be closed when it lists its properties and no `allOf`/`anyOf`/`oneOf`
 * branch brings a property the object does not list (branches that only narrow are fine).
 */
function closable(o: JsonObject): boolean {
  if (!isObject(o.properties) || o.additionalProperties !== undefined) return false;
  const own = new Set(Object.keys(o.properties));
  const narrows = (b: unknown): boolean => !isObject(b) || !isObject(b.properties) || Object.keys(b.properties).every((k) => own.has(k));
  return COMBINERS.every((c) => ((o[c] as unknown[] | undefined) ?? []).every(narrows));
}

/** A request schema: refs inlined (a recursive ref becomes `{}`), plain objects closed. */
function prepareRequest(schema: unknown, closed: boolean, inBranch = false, stack: readonly string[] = []): unknown {
  if (Array.isArray(schema)) return schema.map((s) => prepareRequest(s, closed, inBranch, stack));
  if (!isObject(schema)) return schema;
  if (typeof schema.$ref === 'string') {
    if (stack.includes(schema.$ref)) return {};
    return prepareRequest(deref(schema), closed, inBranch, [...stack, schema.$ref]);
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'description' || k === 'example' || k === 'examples') continue;
    if ((COMBINERS as readonly string[]).includes(k)) out[k] = (v as unknown[]).map((s) => prepareRequest(s, closed, true, stack));
    else if (k === 'properties' && isObject(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, prepareRequest(s, closed, false, stack)]));
    } else if (k === 'items' || k === 'additionalProperties' || k === 'not') out[k] = prepareRequest(v, closed, false, stack);
    else out[k] = v;
  }
  if (closed && !inBranch && closable(out)) out.additionalProperties = false;
  return fixNullable(out);
}

/** A response schema: component refs kept as `#/definitions/<name>`, every definition collected. */
function prepareResponse(schema: unknown, defs: Map<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => prepareResponse(s, defs));
  if (!isObject(schema)) return schema;
  if (typeof schema.$ref === 'string') {
    if (!schema.$ref.startsWith(SCHEMA_REF)) return prepareResponse(deref(schema), defs);
    const name = unescapePointer(schema.$ref.slice(SCHEMA_REF.length));
    if (!defs.has(name)) {
      defs.set(name, {});
      defs.set(name, prepareResponse(loadGitHubSpec().components.schemas[name], defs));
    }
    return { $ref: `#/definitions/${escapePointer(name)}` };
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'description' || k === 'example' || k === 'examples') continue;
    if (k === 'properties' && isObject(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, prepareResponse(s, defs)]));
    } else out[k] = isObject(v) || Array.isArray(v) ? prepareResponse(v, defs) : v;
  }
  return fixNullable(out);
}

function newAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    validateSchema: false,
    unicodeRegExp: false,
    logger: false,
    ...(coerce ? { coerceTypes: 'array' as const } : {}),
  });
  addFormats.default(ajv);
  // GitHub's own formats: accepted as they are.
  for (const f of ['repo.nwo', 'timestamp']) ajv.addFormat(f, true);
  return ajv;
}

let bodyAjv: Ajv | undefined;
let paramAjv: Ajv | undefined;

function ajvFor(coerce: boolean): Ajv {
  if (coerce) return (paramAjv ??= newAjv(true));
  return (bodyAjv ??= newAjv(false));
}

// --- request validation -------------------------------------------------------------------

interface RequestValidators {
  path: ValidateFunction;
  query: ValidateFunction;
  body: ValidateFunction | undefined;
  bodyRequired: boolean;
}

const requestCache = new Map<string, RequestValidators>();

function paramsSchema(params: Parameter[], where: 'path' | 'query', closed: boolean): JsonObject {
  const mine = params.filter((p) => p.in === where);
  return {
    type: 'object',
    properties: Object.fromEntries(mine.map((p) => [p.name, prepareRequest(p.schema ?? {}, false)])),
    required: mine.filter((p) => p.required || where === 'path').map((p) => p.name),
    ...(closed ? { additionalProperties: false } : {}),
  };
}

function jsonSchemaOf(media: MediaTypes | undefined): JsonObject | undefined {
  const content = media?.content ?? {};
  const key = Object.keys(content).find((k) => k === 'application/json') ?? Object.keys(content).find((k) => k.includes('json'));
  return key ? content[key]?.schema : undefined;
}

function requestValidators(operationId: string, rejectUnknown: boolean): RequestValidators {
  const key = `${operationId}:${rejectUnknown}`;
  let v = requestCache.get(key);
  if (!v) {
    const r = findRoute(operationId);
    const body = r.operation.requestBody ? deref(r.operation.requestBody) : undefined;
    const bodySchema = jsonSchemaOf(body);
    const prepared = bodySchema ? prepareRequest(bodySchema, rejectUnknown) : undefined;
    v = {
      path: ajvFor(true).compile(paramsSchema(r.parameters, 'path', false)),
      query: ajvFor(true).compile(paramsSchema(r.parameters, 'query', rejectUnknown)),
      body: prepared === undefined ? undefined : ajvFor(false).compile(prepared as JsonObject),
      bodyRequired: Boolean(body && 'required' in body && body.required),
    };
    requestCache.set(key, v);
  }
  return v;
}

/** Size limits (GitHub answers 422 when a request passes them: data, not a programming error). */
const LIMIT_KEYWORDS = new Set(['maxItems', 'maxLength', 'maxProperties']);

function describeErrors(where: string, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map(describeError(where));
}

function describeError(where: string): (e: ErrorObject) => string {
  return (e) => {
    const at = `${where}${e.instancePath}`;
    const p = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties') return `${at} has unknown property '${String(p.additionalProperty)}'`;
    if (e.keyword === 'enum') return `${at} must be one of ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
    if (e.keyword === 'required') return `${at} is missing required property '${String(p.missingProperty)}'`;
    return `${at} ${e.message ?? e.keyword}`;
  };
}

/** Splits ajv errors into shape problems and size-limit problems. */
function sortErrors(where: string, errors: ErrorObject[] | null | undefined, into: RequestValidation): void {
  for (const e of errors ?? []) (LIMIT_KEYWORDS.has(e.keyword) ? into.limits : into.problems).push(describeError(where)(e));
}

/** A request as the validator sees it: the JSON body already parsed (undefined when empty). */
export interface RequestToValidate {
  operationId: string;
  pathParams: Record<string, string>;
  query: Record<string, string | string[]>;
  body: unknown;
  /** Close object schemas and the query string: unknown fields are problems. Default true. */
  rejectUnknown?: boolean;
}

/**
 * The result of `validateRequest`: every shape problem (a wrong type, a missing or unknown
 * field), every size limit passed (more than 50 annotations, a summary over 65535 characters:
 * GitHub answers those with 422), and the parameters coerced to their schema types.
 */
export interface RequestValidation {
  problems: string[];
  limits: string[];
  pathParams: Record<string, unknown>;
  query: Record<string, unknown>;
}

/**
 * Validates path and query parameters (coerced to their schema types, like GitHub reads them)
 * and the JSON body against the operation. Returns all problems at once.
 */
export function validateRequest(req: RequestToValidate): RequestValidation {
  const v = requestValidators(req.operationId, req.rejectUnknown ?? true);
  const pathParams: Record<string, unknown> = { ...req.pathParams };
  const query: Record<string, unknown> = { ...req.query };
  const out: RequestValidation = { problems: [], limits: [], pathParams, query };
  if (!v.path(pathParams)) sortErrors('path', v.path.errors, out);
  if (!v.query(query)) sortErrors('query', v.query.errors, out);
  if (req.body === undefined) {
    if (v.bodyRequired) out.problems.push('body is required by this operation and was empty');
  } else if (!v.body) {
    out.problems.push('body was sent, but this operation takes no JSON body');
  } else if (!v.body(req.body)) sortErrors('body', v.body.errors, out);
  return out;
}

// --- response validation ------------------------------------------------------------------

const responseCache = new Map<string, ValidateFunction | null>();

/**
 * Places where the description is wrong about GitHub's own responses, by operation: errors at
 * these instance paths are not the fake's. Each with the reason; keep the list short.
 */
const DESCRIPTION_BUGS: Record<string, { at: RegExp; why: string }> = {
  'apps/list-installations': {
    at: /^\/\d+\/account(\/|$)/,
    why: 'account is allOf [simple-user, enterprise]: no account is both (GET /app/installations/{id} says anyOf)',
  },
};

function responseValidator(operationId: string, status: number): ValidateFunction | null | 'undocumented' {
  const r = findRoute(operationId);
  const entry = r.operation.responses?.[String(status)] ?? r.operation.responses?.default;
  if (!entry) return 'undocumented';
  const key = `${operationId} ${status}`;
  if (!responseCache.has(key)) {
    const schema = jsonSchemaOf(deref(entry));
    let fn: ValidateFunction | null = null;
    if (schema) {
      const defs = new Map<string, unknown>();
      const root = prepareResponse(schema, defs) as JsonObject;
      fn = ajvFor(false).compile({ ...root, definitions: Object.fromEntries(defs) });
    }
    responseCache.set(key, fn);
  }
  return responseCache.get(key)!;
}

/**
 * Checks a response the fake is about to send against the operation's documented response for
 * that status. A 2xx status the operation does not document is a problem; an undocumented error
 * status (a 401 or an injected 502), or an error body where the description documents none, is
 * not checked.
 */
export function validateResponse(operationId: string, status: number, body: unknown): string[] {
  const fn = responseValidator(operationId, status);
  if (fn === 'undocumented') return status < 300 ? [`status ${status} is not a documented response of ${operationId}`] : [];
  if (fn === null) return body === undefined || status >= 300 ? [] : [`status ${status} of ${operationId} documents no JSON body, but one was sent`];
  if (fn(body)) return [];
  const bug = DESCRIPTION_BUGS[operationId];
  return describeErrors('response', (fn.errors ?? []).filter((e) => !bug?.at.test(e.instancePath)));
}

/**
 * Validates a webhook payload against the description's `webhook-<event>-<action>` schema
 * (`webhook-push` for push), for tests of the payload builders.
 */
export function validateWebhookPayload(event: string, action: string | undefined, payload: unknown): string[] {
  const schemas = loadGitHubSpec().components.schemas;
  const base = `webhook-${event.replace(/_/g, '-')}`;
  const name = action && schemas[`${base}-${action.replace(/_/g, '-')}`] ? `${base}-${action.replace(/_/g, '-')}` : base;
  if (!schemas[name]) return [`no schema ${name} in GitHub's OpenAPI description`];
  const key = `webhook ${name}`;
  let fn = responseCache.get(key);
  if (!fn) {
    const defs = new Map<string, unknown>();
    const root = prepareResponse({ $ref: `${SCHEMA_REF}${name}` }, defs) as JsonObject;
    fn = ajvFor(false).compile({ ...root, definitions: Object.fromEntries(defs) });
    responseCache.set(key, fn);
  }
  return fn(payload) ? [] : describeErrors('payload', fn.errors);
}

/** An example value from the description's `components.examples` (a template for the webhook builders). */
export function specExample(name: string): unknown {
  const e = loadGitHubSpec().components.examples[name];
  if (!e) throw new Error(`github-fake: no example ${name} in GitHub's OpenAPI description`);
  return structuredClone(e.value);
}
