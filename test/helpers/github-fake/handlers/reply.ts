/** GitHub's answers, shaped like its `basic-error` and `validation-error` bodies. */
import type { HandlerInput, Reply } from './types.js';

const DOCS = 'https://docs.github.com/rest';

export function ok(body: unknown, status = 200, headers?: Record<string, string>): Reply {
  return headers ? { status, body, headers } : { status, body };
}

export function noContent(): Reply {
  return { status: 204 };
}

export function notFound(message = 'Not Found'): Reply {
  return { status: 404, body: { message, documentation_url: DOCS, status: '404' } };
}

export function forbidden(message: string): Reply {
  return { status: 403, body: { message, documentation_url: DOCS, status: '403' } };
}

export function unauthorized(message = 'Bad credentials'): Reply {
  return { status: 401, body: { message, documentation_url: DOCS, status: '401' } };
}

/** A 422 with GitHub's `errors` list; `message` is GitHub's top line ("Validation Failed"). */
export function unprocessable(message: string, errors: Array<Record<string, string>> = []): Reply {
  return { status: 422, body: { message, errors, documentation_url: DOCS, status: '422' } };
}

/**
 * One page of `items` by `per_page` (default 30, at most 100) and `page`, with GitHub's `Link`
 * header (`next`, `last`, `first`, `prev`).
 */
export function paginate<T>(items: readonly T[], input: HandlerInput): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(Math.max(Number(input.query.per_page ?? 30), 1), 100);
  const page = Math.max(Number(input.query.page ?? 1), 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const link = (n: number, rel: string): string => {
    const u = new URL(input.fake.api + input.url.pathname + input.url.search);
    u.searchParams.set('per_page', String(perPage));
    u.searchParams.set('page', String(n));
    return `<${u.href}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, 'prev'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) links.push(link(1, 'first'));
  return { page: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(', ') } : {} };
}
