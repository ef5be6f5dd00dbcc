/** Repository reads: the repository, file contents, refs, branches and a collaborator's permission. */
import { commitJson, repoApi, repoHtml, repositoryJson, userJson } from '../shapes.js';
import type { Permission, RepoState } from '../state.js';
import { resolveRevision } from './compare.js';
import { noContent, notFound, ok, paginate, unprocessable } from './reply.js';
import { onRepo, type FakeCore, type Handlers } from './types.js';

/** GitHub sends no content for a file over 1 MiB (`encoding: "none"`). */
const MAX_INLINE_CONTENT = 1024 * 1024;

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** Base64 in lines of 60 characters, each ending in a newline, as GitHub sends it. */
function wrappedBase64(data: Buffer): string {
  const b64 = data.toString('base64');
  return b64.replace(/.{1,60}/g, '$&\n');
}

function contentLinks(fake: FakeCore, repo: RepoState, ref: string, path: string, sha: string, kind: 'blob' | 'tree') {
  const r = repoApi(fake, repo);
  const self = `${r}/contents/${encodePath(path)}?ref=${encodeURIComponent(ref)}`;
  const git = `${r}/git/${kind === 'blob' ? 'blobs' : 'trees'}/${sha}`;
  const html = `${repoHtml(fake, repo)}/${kind}/${encodeURIComponent(ref)}/${encodePath(path)}`;
  return { url: self, git_url: git, html_url: html, _links: { self, git, html } };
}

const getContent = onRepo(async (input, repo) => {
  const ref = typeof input.query.ref === 'string' ? input.query.ref : repo.defaultBranch;
  const commit = await resolveRevision(repo, ref);
  if (!commit) return notFound(`No commit found for the ref ${ref}`);
  const path = String(input.params.path).replace(/^\/+|\/+$/g, '');
  const file = await repo.git.file(commit, path);
  if (file && /application\/vnd\.github(\.v3)?\.raw/.test(input.accept)) {
    return { status: 200, raw: file.data, headers: { 'content-type': 'text/plain; charset=utf-8' } };
  }
  if (file) {
    const name = path.split('/').pop()!;
    const links = contentLinks(input.fake, repo, ref, path, file.oid, 'blob');
    const download = `${repoHtml(input.fake, repo)}/raw/${encodeURIComponent(ref)}/${encodePath(path)}`;
    if (file.mode === '120000') {
      return ok({ type: 'symlink', target: file.data.toString('utf8'), size: file.data.length, name, path, sha: file.oid, download_url: download, ...links });
    }
    const inline = file.data.length <= MAX_INLINE_CONTENT;
    return ok({
      type: 'file',
      encoding: inline ? 'base64' : 'none',
      size: file.data.length,
      name,
      path,
      content: inline ? wrappedBase64(file.data) : '',
      sha: file.oid,
      download_url: download,
      ...links,
    });
  }
  const entries = await repo.git.listDirectory(commit, path);
  if (!entries) return notFound();
  return ok(
    entries.map((e) => {
      const p = path ? `${path}/${e.name}` : e.name;
      const links = contentLinks(input.fake, repo, ref, p, e.sha, e.type === 'dir' ? 'tree' : 'blob');
      return { type: e.type, size: e.size, name: e.name, path: p, sha: e.sha, download_url: null, ...links };
    }),
  );
});

function refJson(fake: FakeCore, repo: RepoState, ref: string, sha: string) {
  const r = repoApi(fake, repo);
  return {
    ref,
    node_id: Buffer.from(`ref:${repo.id}:${ref}`).toString('base64'),
    url: `${r}/git/${ref}`,
    object: { type: 'commit', sha, url: `${r}/git/commits/${sha}` },
  };
}

const getRef = onRepo(async (input, repo) => {
  const ref = `refs/${String(input.params.ref)}`;
  const sha = (await repo.git.refs())[ref];
  return sha ? ok(refJson(input.fake, repo, ref, sha)) : notFound();
});

const createRef = onRepo(async (input, repo) => {
  const { ref, sha } = input.body as { ref: string; sha: string };
  if (!/^refs\/.+\/.+/.test(ref)) return unprocessable(`${ref} is not a valid ref name.`);
  if ((await repo.git.refs())[ref]) return unprocessable('Reference already exists');
  const commit = await repo.git.resolve(sha);
  if (!commit || commit !== sha) return unprocessable('Object does not exist');
  await repo.git.setRef(ref, sha);
  return ok(refJson(input.fake, repo, ref, sha), 201);
});

const updateRef = onRepo(async (input, repo) => {
  const ref = `refs/${String(input.params.ref)}`;
  const { sha, force } = input.body as { sha: string; force?: boolean };
  const old = (await repo.git.refs())[ref];
  if (!old) return unprocessable('Reference does not exist');
  if ((await repo.git.resolve(sha)) !== sha) return unprocessable('Object does not exist');
  if (!force && !(await repo.git.isAncestor(old, sha))) return unprocessable('Update is not a fast forward');
  await repo.git.setRef(ref, sha);
  return ok(refJson(input.fake, repo, ref, sha));
});

const deleteRef = onRepo(async (input, repo) => {
  const ref = `refs/${String(input.params.ref)}`;
  if (!(await repo.git.refs())[ref]) return unprocessable('Reference does not exist');
  await repo.git.deleteRef(ref);
  return noContent();
});

const getBranch = onRepo(async (input, repo) => {
  const name = String(input.params.branch);
  const tip = await repo.git.branchTip(name);
  if (!tip) return notFound('Branch not found');
  const [info] = await repo.git.log([tip], 1);
  const self = `${repoApi(input.fake, repo)}/branches/${encodePath(name)}`;
  return ok({
    name,
    commit: commitJson(input.fake, repo, info!),
    _links: { self, html: `${repoHtml(input.fake, repo)}/tree/${encodePath(name)}` },
    protected: false,
    protection: { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
    protection_url: `${self}/protection`,
  });
});

const listBranches = onRepo(async (input, repo) => {
  const r = repoApi(input.fake, repo);
  const all = Object.entries(await repo.git.branches()).map(([name, sha]) => ({ name, commit: { sha, url: `${r}/commits/${sha}` }, protected: false }));
  const { page, headers } = paginate(all, input);
  return ok(page, 200, headers);
});

/** `permission` is the legacy five-level name GitHub still returns next to `role_name`. */
const LEGACY: Record<Permission, string> = { admin: 'admin', maintain: 'write', write: 'write', triage: 'read', read: 'read', none: 'none' };

const getPermission = onRepo((input, repo) => {
  const user = String(input.params.username);
  const role = repo.permissions.get(user.toLowerCase()) ?? 'none';
  const rank = ['none', 'read', 'triage', 'write', 'maintain', 'admin'].indexOf(role);
  return ok({
    permission: LEGACY[role],
    role_name: role,
    user: {
      ...userJson(input.fake, user),
      permissions: { pull: rank >= 1, triage: rank >= 2, push: rank >= 3, maintain: rank >= 4, admin: rank >= 5 },
      role_name: role,
    },
  });
});

export const repoHandlers: Handlers = {
  'repos/get': onRepo((input, repo) => ok(repositoryJson(input.fake, repo))),
  'repos/get-content': getContent,
  'git/get-ref': getRef,
  'git/create-ref': createRef,
  'git/update-ref': updateRef,
  'git/delete-ref': deleteRef,
  'repos/get-branch': getBranch,
  'repos/list-branches': listBranches,
  'repos/get-collaborator-permission-level': getPermission,
};
