/**
 * Injected failures for REST requests. A fault matches by method and by route (the OpenAPI path
 * template, or a RegExp tested against the request path) and answers the next `times` matching
 * requests instead of the handler. Bodies and headers default to what GitHub sends:
 * - 403 or 429: a secondary rate limit (`retry-after: 1`, GitHub's message), unless the headers
 *   say `x-ratelimit-remaining: 0`, which makes it a primary rate limit (with `x-ratelimit-reset`);
 * - 5xx: `{ message: "Server Error" }`.
 */

export interface FaultSpec {
  method?: string;
  /** An OpenAPI path template (`/repos/{owner}/{repo}/check-runs`) or a RegExp on the path. */
  route?: string | RegExp;
  status: number;
  /** How many matching requests it answers; default 1. */
  times?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FaultReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface Faults {
  /** Adds a fault; returns a handle whose `remaining` counts down as it fires. */
  add(spec: FaultSpec): { readonly remaining: number };
  clear(): void;
  /** Faults that have not fired `times` times yet. */
  readonly pending: number;
}

export const SECONDARY_RATE_LIMIT_MESSAGE =
  'You have exceeded a secondary rate limit and have been temporarily blocked from content creation. ' +
  'Please retry your request again later. ' +
  'If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.';

const RATE_LIMIT_DOCS = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api';

function defaultReply(spec: FaultSpec, installationId: number | undefined): FaultReply {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.headers ?? {})) headers[k.toLowerCase()] = v;
  let body: unknown = { message: 'Server Error' };
  if (spec.status === 403 || spec.status === 429) {
    if (headers['x-ratelimit-remaining'] === '0') {
      headers['x-ratelimit-limit'] ??= '5000';
      headers['x-ratelimit-used'] ??= '5000';
      headers['x-ratelimit-resource'] ??= 'core';
      headers['x-ratelimit-reset'] ??= String(Math.ceil(Date.now() / 1000) + 1);
      body = {
        message: `API rate limit exceeded for installation ID ${installationId ?? 0}.`,
        documentation_url: `${RATE_LIMIT_DOCS}#about-the-primary-rate-limit`,
      };
    } else {
      headers['retry-after'] ??= '1';
      body = { message: SECONDARY_RATE_LIMIT_MESSAGE, documentation_url: `${RATE_LIMIT_DOCS}#about-secondary-rate-limits` };
    }
  } else if (spec.status < 500) body = { message: 'Fault injected by the test' };
  return { status: spec.status, headers, body: spec.body === undefined ? body : spec.body };
}

/** The server's side of the registry: the reply of the first matching fault, counted down. */
export interface FaultRegistry extends Faults {
  take(method: string, route: string, path: string, installationId: number | undefined): FaultReply | undefined;
}

export function createFaults(): FaultRegistry {
  const list: Array<{ spec: FaultSpec; remaining: number }> = [];
  return {
    add(spec) {
      const entry = { spec, remaining: spec.times ?? 1 };
      list.push(entry);
      return {
        get remaining() {
          return entry.remaining;
        },
      };
    },
    clear() {
      list.length = 0;
    },
    get pending() {
      return list.filter((f) => f.remaining > 0).length;
    },
    take(method, route, path, installationId) {
      const hit = list.find(
        (f) =>
          f.remaining > 0 &&
          (f.spec.method === undefined || f.spec.method.toUpperCase() === method) &&
          (f.spec.route === undefined || (typeof f.spec.route === 'string' ? f.spec.route === route : f.spec.route.test(path))),
      );
      if (!hit) return undefined;
      hit.remaining--;
      return defaultReply(hit.spec, installationId);
    },
  };
}
