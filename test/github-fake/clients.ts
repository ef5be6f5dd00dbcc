/** Octokit clients for the fake's own tests: Probot's Octokit (throttling, retry, pagination), quiet. */
import { ProbotOctokit } from 'probot';
import type { GitHubFake } from '../helpers/github-fake/index.js';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

type Extra = { retry?: { enabled?: boolean; retryAfterBaseValue?: number }; throttle?: { enabled?: boolean; retryAfterBaseValue?: number } };

/** Authenticates as the App's installation: it asks the fake for an installation token itself (JWT first). */
export function installationOctokit(gh: GitHubFake, installationId = 1, extra: Extra = {}): InstanceType<typeof ProbotOctokit> {
  return new ProbotOctokit({ baseUrl: gh.apiUrl, log: silent, auth: { appId: gh.appId, privateKey: gh.privateKey, installationId }, ...extra });
}

/** Authenticates as the App (JWT), for `/app` endpoints. */
export function appOctokit(gh: Pick<GitHubFake, 'apiUrl' | 'appId' | 'privateKey'>): InstanceType<typeof ProbotOctokit> {
  return new ProbotOctokit({ baseUrl: gh.apiUrl, log: silent, auth: { appId: gh.appId, privateKey: gh.privateKey } });
}

/**
 * A fixed token (or none). Retries and throttling off unless asked: a violation's 500 should not
 * be retried, and the throttling plugin spaces writes a second apart.
 */
export function tokenOctokit(gh: Pick<GitHubFake, 'apiUrl'>, token?: string, extra: Extra = {}): InstanceType<typeof ProbotOctokit> {
  return new ProbotOctokit({
    baseUrl: gh.apiUrl,
    log: silent,
    retry: { enabled: false },
    throttle: { enabled: false },
    ...(token ? { auth: { token } } : {}),
    ...extra,
  });
}
