/**
 * Git smart HTTP for the fake's repositories: `git http-backend` run as a CGI program, the
 * request body streamed in, its `Status:` and headers parsed from stdout, the rest streamed out.
 * Credentials are GitHub's: basic auth with an installation token as the password (any user
 * name; `x-access-token` by convention). Without one, a push or a private repository answers 401
 * with `WWW-Authenticate: Basic` so git asks its credential helpers (or uses the URL's) and
 * retries. A token of another installation sees "Repository not found" (404); a token without
 * `contents: write` may fetch but not push (403). Hooks are off (`core.hooksPath=/dev/null`).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { KeyObject } from 'node:crypto';
import { gitEnv } from '../../../src/git/run-git.js';
import { readGitAuth } from './auth.js';
import { repoKey, type FakeState, type RepoState } from './state.js';

export interface RefUpdate {
  ref: string;
  /** Undefined for a new ref. */
  before: string | undefined;
  /** Undefined for a deleted ref. */
  after: string | undefined;
}

/** One git smart HTTP request (these are not REST, so not in `gh.requests`). */
export interface GitRequestRecord {
  kind: 'git';
  method: string;
  path: string;
  owner: string;
  repo: string;
  service: 'git-upload-pack' | 'git-receive-pack' | undefined;
  status: number;
  /** The password of the basic credential, when there was one. */
  token: string | undefined;
  at: number;
  /** For a `git-receive-pack` POST: the refs it changed. */
  refUpdates?: RefUpdate[];
}

export interface GitHttpDeps {
  state: FakeState;
  publicKey: KeyObject;
  reposRoot: string;
  home: string;
  records: GitRequestRecord[];
}

const PATH = /^\/git\/([^/]+)\/([^/]+?)\.git(\/.*)$/;

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });
}

function serviceOf(rest: string, query: URLSearchParams): GitRequestRecord['service'] {
  const s = rest === '/info/refs' ? query.get('service') : rest.slice(1);
  return s === 'git-upload-pack' || s === 'git-receive-pack' ? s : undefined;
}

function refChanges(before: Record<string, string>, after: Record<string, string>): RefUpdate[] {
  const refs = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...refs].filter((r) => before[r] !== after[r]).map((ref) => ({ ref, before: before[ref], after: after[ref] }));
}

/** Answers one request under `/git/`. */
export async function serveGit(req: Request, deps: GitHttpDeps): Promise<Response> {
  const url = new URL(req.url);
  const m = PATH.exec(url.pathname);
  const record: GitRequestRecord = {
    kind: 'git',
    method: req.method,
    path: url.pathname,
    owner: m?.[1] ?? '',
    repo: m?.[2] ?? '',
    service: undefined,
    status: 0,
    token: undefined,
    at: Date.now(),
  };
  deps.records.push(record);
  const done = (r: Response): Response => ((record.status = r.status), r);
  const repo = m ? deps.state.repos.get(repoKey(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!))) : undefined;
  if (!m || !repo) return done(text(404, 'Repository not found.\n'));
  const service = (record.service = serviceOf(m[3]!, url.searchParams));
  if (!service) return done(text(403, 'Only the smart HTTP protocol is served.\n'));
  const auth = readGitAuth(req.headers.get('authorization') ?? undefined, deps.state, deps.publicKey);
  if (auth.kind !== 'none') record.token = auth.token;
  const push = service === 'git-receive-pack';
  if (auth.kind !== 'installation' && (push || repo.private)) {
    return done(text(401, 'Invalid username or token.\n', { 'www-authenticate': 'Basic realm="GitHub"' }));
  }
  if (auth.kind === 'installation') {
    const { grant } = auth;
    const visible = repo.installationId === grant.installationId && (!grant.repositories || grant.repositories.includes(repo.name.toLowerCase()));
    if (!visible) return done(text(404, 'Repository not found.\n'));
    if (push && grant.permissions.contents !== 'write') return done(text(403, 'Write access to repository not granted.\n'));
  }
  return done(await runBackend(req, url, repo, auth.kind === 'installation' ? 'x-access-token' : '', deps, record));
}

async function runBackend(req: Request, url: URL, repo: RepoState, user: string, deps: GitHttpDeps, record: GitRequestRecord): Promise<Response> {
  const rest = PATH.exec(url.pathname)![3]!;
  const refsBefore = record.service === 'git-receive-pack' && req.method === 'POST' ? await repo.git.refs() : undefined;
  const env: NodeJS.ProcessEnv = {
    ...gitEnv(),
    HOME: deps.home,
    GIT_PROJECT_ROOT: deps.reposRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `/${path.relative(deps.reposRoot, repo.git.dir).split(path.sep).join('/')}${rest}`,
    QUERY_STRING: url.search.slice(1),
    REQUEST_METHOD: req.method,
    CONTENT_TYPE: req.headers.get('content-type') ?? '',
    REMOTE_USER: user,
    REMOTE_ADDR: '127.0.0.1',
  };
  const length = req.headers.get('content-length');
  if (length !== null) env.CONTENT_LENGTH = length;
  const encoding = req.headers.get('content-encoding');
  if (encoding) env.HTTP_CONTENT_ENCODING = encoding;
  const protocol = req.headers.get('git-protocol');
  if (protocol) env.HTTP_GIT_PROTOCOL = protocol;
  const args = ['-c', 'core.hooksPath=/dev/null', '-c', 'http.receivepack=true', 'http-backend'];
  const child = spawn('git', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
  child.stdin.on('error', () => undefined);
  if (req.body) Readable.fromWeb(req.body as NodeReadableStream).pipe(child.stdin);
  else child.stdin.end();
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));

  const head = await readCgiHead(child.stdout);
  if (!head) {
    await exited;
    return text(500, `git http-backend gave no response: ${stderr}\n`);
  }
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (head.rest.length) controller.enqueue(new Uint8Array(head.rest));
      child.stdout.on('data', (d: Buffer) => controller.enqueue(new Uint8Array(d)));
      child.stdout.on('end', () => {
        // The refs a push changed are recorded before git sees the end of the response.
        void exited.then(async () => {
          if (refsBefore) record.refUpdates = refChanges(refsBefore, await repo.git.refs());
          controller.close();
        });
      });
      child.stdout.resume();
    },
  });
  return new Response(body, { status: head.status, headers: head.headers });
}

/** Reads CGI headers (up to the blank line) from `stream`; the bytes after them are `rest`. */
function readCgiHead(stream: Readable): Promise<{ status: number; headers: Headers; rest: Buffer } | undefined> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const crlf = buf.indexOf('\r\n\r\n');
      const lf = buf.indexOf('\n\n');
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
      if (end < 0) return;
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.pause();
      const sep = end === crlf ? 4 : 2;
      const headers = new Headers();
      let status = 200;
      for (const line of buf.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else headers.append(name, value);
      }
      resolve({ status, headers, rest: buf.subarray(end + sep) });
    };
    const onEnd = (): void => resolve(undefined);
    stream.on('data', onData);
    stream.on('end', onEnd);
  });
}
