/**
 * The fake's HTTP side: a Hono app on 127.0.0.1 (port 0) with git smart HTTP under `/git/` and
 * GitHub's REST API everywhere else. Every REST request goes through the same steps:
 *
 *   record → match an operation of GitHub's description → validate path, query and body →
 *   injected fault? → credential → repository visible to the token? → handler →
 *   check the response against the description → send
 *
 * An unknown route, an invalid request, an operation the fake does not implement, a handler
 * that throws and a response that breaks the description are **violations**: recorded, and
 * answered with `violationStatus` (500 unless configured) and a message that names the problem.
 * A request over one of the description's size limits (`maxItems`, `maxLength`: 50 annotations
 * per check run request, 65535 characters of summary) is not a violation: GitHub answers it with
 * 422, and so does the fake, since an App must cope with data that large.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { readRestAuth, type RequestAuth } from './auth.js';
import type { FaultRegistry } from './faults.js';
import { serveGit, type GitRequestRecord } from './git-http.js';
import { credentialFor, handlers } from './handlers/index.js';
import { forbidden, notFound, unauthorized, unprocessable } from './handlers/reply.js';
import type { FakeCore, Reply } from './handlers/types.js';
import { matchOperation, validateRequest, validateResponse } from './openapi-validate.js';
import { repoKey, type RepoState } from './state.js';

/** One REST request as the fake saw it. */
export interface RestRequestRecord {
  kind: 'rest';
  method: string;
  path: string;
  query: Record<string, string>;
  /** The OpenAPI path template, when the request matched one. */
  route: string | undefined;
  operationId: string | undefined;
  status: number;
  /** The parsed JSON body (undefined when empty). */
  body: unknown;
  /** The credential as sent: a JWT or an installation token. */
  token: string | undefined;
  auth: RequestAuth['kind'];
  installationId: number | undefined;
  /** Answered by an injected fault. */
  fault: boolean;
  /** The JSON the fake answered (the text, for a raw media type). */
  response: unknown;
  /** Arrival, epoch ms. */
  at: number;
  /** When the answer was ready, epoch ms (0 until then). */
  answeredAt: number;
}

export interface Violation {
  kind: 'route' | 'request' | 'unimplemented' | 'handler' | 'response';
  method: string;
  path: string;
  operationId: string | undefined;
  problems: string[];
}

export function formatViolation(v: Violation): string {
  return `${v.kind}: ${v.method} ${v.path}${v.operationId ? ` (${v.operationId})` : ''}: ${v.problems.join('; ')}`;
}

export interface ServerDeps {
  core: FakeCore;
  publicKey: KeyObject;
  faults: FaultRegistry;
  requests: RestRequestRecord[];
  gitRequests: GitRequestRecord[];
  violations: Violation[];
  reposRoot: string;
  home: string;
  validateResponses: boolean;
  rejectUnknownFields: boolean;
  violationStatus: number;
}

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'x-github-media-type': 'github.v3; format=json',
  'x-ratelimit-limit': '5000',
  'x-ratelimit-remaining': '4999',
  'x-ratelimit-used': '1',
  'x-ratelimit-resource': 'core',
};

function respond(reply: Reply): Response {
  const headers = { ...BASE_HEADERS, 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 3600), ...reply.headers };
  if (reply.raw) return new Response(new Uint8Array(reply.raw), { status: reply.status, headers });
  return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), { status: reply.status, headers });
}

function queryObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(k);
    out[k] = all.length === 1 ? all[0]! : all;
  }
  return out;
}

/** The repository of a `{owner}/{repo}` route, or the reply that refuses it. */
function findRepo(deps: ServerDeps, params: Record<string, unknown>, auth: RequestAuth): RepoState | Reply | undefined {
  if (typeof params.owner !== 'string' || typeof params.repo !== 'string') return undefined;
  const repo = deps.core.state.repos.get(repoKey(params.owner, params.repo));
  if (!repo) return notFound();
  if (auth.kind === 'installation') {
    const only = auth.grant.repositories;
    if (repo.installationId !== auth.installationId || (only && !only.includes(repo.name.toLowerCase()))) return notFound();
  }
  return repo;
}

function checkCredential(operationId: string, auth: RequestAuth): Reply | undefined {
  const need = credentialFor(operationId);
  if (need === 'none') {
    return auth.kind === 'none' ? undefined : forbidden('This endpoint takes no authentication: authenticated requests are refused.');
  }
  if (auth.kind === 'invalid') return unauthorized(auth.reason);
  if (auth.kind === 'none') return unauthorized('Requires authentication');
  if (need === 'app' && auth.kind !== 'app') return unauthorized('A JSON web token could not be decoded');
  if (need === 'installation' && auth.kind === 'app') return forbidden('An App JWT cannot be used here: use an installation access token.');
  return undefined;
}

async function handleRest(req: Request, deps: ServerDeps): Promise<Response> {
  const url = new URL(req.url);
  const method = req.method.toUpperCase();
  const record: RestRequestRecord = {
    kind: 'rest',
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    route: undefined,
    operationId: undefined,
    status: 0,
    body: undefined,
    token: undefined,
    auth: 'none',
    installationId: undefined,
    fault: false,
    response: undefined,
    at: Date.now(),
    answeredAt: 0,
  };
  deps.requests.push(record);
  const send = (reply: Reply): Response => {
    record.status = reply.status;
    record.answeredAt = Date.now();
    record.response = reply.raw ? reply.raw.toString('utf8') : reply.body;
    return respond(reply);
  };
  const violation = (kind: Violation['kind'], problems: string[]): Response => {
    const v: Violation = { kind, method, path: url.pathname, operationId: record.operationId, problems };
    deps.violations.push(v);
    const body = { message: `github-fake: ${formatViolation(v)}`, documentation_url: 'test/helpers/github-fake' };
    return send({ status: deps.violationStatus, body });
  };

  const text = await req.text();
  if (text.trim()) {
    try {
      record.body = JSON.parse(text);
    } catch {
      return violation('request', ['body is not JSON']);
    }
  }
  const match = matchOperation(method, url.pathname);
  if ('reason' in match) {
    if (match.reason === 'wrong-method') return violation('route', [`no ${method} here (GitHub has ${match.allowed.join(', ')})`]);
    return violation('route', [match.reason === 'bad-encoding' ? 'bad percent-encoding' : 'no such route in the REST API']);
  }
  record.route = match.route;
  record.operationId = match.operationId;
  const checked = validateRequest({
    operationId: match.operationId,
    pathParams: match.pathParams,
    query: queryObject(url),
    body: record.body,
    rejectUnknown: deps.rejectUnknownFields,
  });
  if (checked.problems.length) return violation('request', checked.problems);
  if (checked.limits.length) return send(unprocessable('Validation Failed', checked.limits.map((message) => ({ code: 'custom', message }))));

  const auth = readRestAuth(req.headers.get('authorization') ?? undefined, deps.core.state, deps.publicKey);
  if (auth.kind !== 'none') record.token = auth.token;
  record.auth = auth.kind;
  if (auth.kind === 'installation') record.installationId = auth.installationId;
  const fault = deps.faults.take(method, match.route, url.pathname, record.installationId);
  if (fault) {
    record.fault = true;
    return send(fault);
  }
  const refused = checkCredential(match.operationId, auth);
  if (refused) return send(refused);
  const repo = findRepo(deps, checked.pathParams, auth);
  if (repo && 'status' in repo) return send(repo);

  const handler = handlers[match.operationId];
  if (!handler) return violation('unimplemented', ['the fake does not implement this operation yet']);
  let reply: Reply;
  try {
    reply = await handler({
      params: checked.pathParams,
      query: checked.query,
      body: (record.body ?? {}) as Record<string, unknown>,
      auth,
      repo,
      fake: deps.core,
      url,
      accept: req.headers.get('accept') ?? '',
    });
  } catch (e) {
    return violation('handler', [`the handler threw: ${e instanceof Error ? e.message : String(e)}`]);
  }
  if (deps.validateResponses && !reply.raw) {
    const problems = validateResponse(match.operationId, reply.status, reply.body);
    if (problems.length) return violation('response', problems);
  }
  return send(reply);
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the fake's server on 127.0.0.1 and a free port. */
export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const app = new Hono();
  const git = { state: deps.core.state, publicKey: deps.publicKey, reposRoot: deps.reposRoot, home: deps.home, records: deps.gitRequests };
  app.all('/git/*', (c) => serveGit(c.req.raw, git));
  app.all('*', (c) => handleRest(c.req.raw, deps));
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
