/**
 * What a REST handler gets and returns. The server has matched the operation, validated the
 * request against GitHub's description, checked the credential and, for a route with
 * `{owner}/{repo}`, found the repository and checked the token may see it; a handler only does
 * the operation's work.
 */
import type { RequestAuth } from '../auth.js';
import type { ShapeContext } from '../shapes.js';
import type { RepoState } from '../state.js';

/** GitHub's caps on compare and pull request files, lowered in tests to reach truncation cheaply. */
export interface CompareLimits {
  /** Files in a compare (GitHub: 300). */
  files: number;
  /** Commits in a compare without paging parameters (GitHub: 250, the most recent ones). */
  commits: number;
  /** A file's patch longer than this (UTF-8 bytes) is left out, as GitHub does for large diffs. */
  patchBytes: number;
  /** Files of `GET /pulls/{n}/files` (GitHub: 3000). */
  pullFiles: number;
}

export interface FakeCore extends ShapeContext {
  limits: CompareLimits;
  now(): string;
}

export interface HandlerInput {
  /** Path parameters, coerced to their schema types (`pull_number` is a number). */
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  /** The parsed JSON body, validated; `{}` when there was none. */
  body: Record<string, unknown>;
  auth: RequestAuth;
  /** The repository of a `{owner}/{repo}` route (the server answered 404 when there is none). */
  repo: RepoState | undefined;
  fake: FakeCore;
  url: URL;
  /** The `Accept` header (`application/vnd.github.raw` asks for a file's bytes). */
  accept: string;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** Bytes sent as they are instead of JSON (a raw media type); not checked against the description. */
  raw?: Buffer;
  headers?: Record<string, string>;
}

export type Handler = (input: HandlerInput) => Reply | Promise<Reply>;

/** Handlers by OpenAPI operationId. */
export type Handlers = Record<string, Handler>;

/** A handler of a `{owner}/{repo}` route, handed the repository. */
export function onRepo(fn: (input: HandlerInput, repo: RepoState) => Reply | Promise<Reply>): Handler {
  return (input) => {
    if (!input.repo) throw new Error('github-fake: a repository handler ran without a repository');
    return fn(input, input.repo);
  };
}
