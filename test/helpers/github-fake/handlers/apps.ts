/**
 * The App's own endpoints (JWT): the App, its installations, installation tokens, a repository's
 * installation; and, with an installation token, the repositories the installation can see.
 */
import { issueInstallationToken } from '../auth.js';
import { appJson, installationJson, repositoryJson } from '../shapes.js';
import type { RepoState } from '../state.js';
import { notFound, ok, paginate, unprocessable } from './reply.js';
import { onRepo, type FakeCore, type Handlers } from './types.js';

/** Repositories an installation token can see, by id. */
export function tokenRepos(fake: FakeCore, installationId: number, only: string[] | undefined): RepoState[] {
  return [...fake.state.repos.values()]
    .filter((r) => r.installationId === installationId && (only === undefined || only.includes(r.name.toLowerCase())))
    .sort((a, b) => a.id - b.id);
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const appHandlers: Handlers = {
  'apps/get-authenticated': (input) => ok(appJson(input.fake)),

  'apps/list-installations': (input) => {
    const { page, headers } = paginate([...input.fake.state.installations.values()], input);
    return ok(
      page.map((i) => installationJson(input.fake, i)),
      200,
      headers,
    );
  },

  'apps/get-installation': (input) => {
    const inst = input.fake.state.installations.get(Number(input.params.installation_id));
    return inst ? ok(installationJson(input.fake, inst)) : notFound();
  },

  'apps/create-installation-access-token': (input) => {
    const id = Number(input.params.installation_id);
    const inst = input.fake.state.installations.get(id);
    if (!inst) return notFound();
    const b = input.body as { repositories?: string[]; repository_ids?: number[]; permissions?: Record<string, string> };
    const all = tokenRepos(input.fake, id, undefined);
    let names: string[] | undefined;
    if (b.repositories || b.repository_ids) {
      const byName = (b.repositories ?? []).map((n) => all.find((r) => r.name.toLowerCase() === n.toLowerCase()));
      const byId = (b.repository_ids ?? []).map((n) => all.find((r) => r.id === n));
      if ([...byName, ...byId].some((r) => r === undefined)) {
        return unprocessable('There is at least one repository that does not exist or is not accessible to the parent installation.');
      }
      names = [...new Set([...byName, ...byId].map((r) => r!.name.toLowerCase()))];
    }
    const grant = issueInstallationToken(input.fake.state, id, { permissions: b.permissions ?? inst.permissions, ...(names ? { repositories: names } : {}) });
    return ok(
      {
        token: grant.token,
        expires_at: isoSeconds(grant.expiresAt),
        permissions: grant.permissions,
        repository_selection: names ? 'selected' : 'all',
        ...(names ? { repositories: tokenRepos(input.fake, id, names).map((r) => repositoryJson(input.fake, r)) } : {}),
      },
      201,
    );
  },

  'apps/get-repo-installation': onRepo((input, repo) => {
    const inst = input.fake.state.installations.get(repo.installationId);
    return inst ? ok(installationJson(input.fake, inst)) : notFound();
  }),

  'apps/list-repos-accessible-to-installation': (input) => {
    if (input.auth.kind !== 'installation') return notFound();
    const repos = tokenRepos(input.fake, input.auth.installationId, input.auth.grant.repositories);
    const { page, headers } = paginate(repos, input);
    return ok({ total_count: repos.length, repository_selection: 'selected', repositories: page.map((r) => repositoryJson(input.fake, r)) }, 200, headers);
  },
};
