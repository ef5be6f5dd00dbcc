/**
 * Deploy keys. A key must be an OpenSSH public key line; GitHub keeps `type base64` (the comment
 * dropped) and refuses a key already in use in the repository.
 */
import { deployKeyJson } from '../shapes.js';
import type { DeployKeyState, RepoState } from '../state.js';
import { noContent, notFound, ok, paginate, unprocessable } from './reply.js';
import { onRepo, type FakeCore, type Handlers, type Reply } from './types.js';

const KEY_LINE = /^(ssh-rsa|ssh-dss|ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]+={0,2})(?: .*)?$/;

export interface DeployKeyInput {
  key: string;
  title?: string;
  read_only?: boolean;
}

/** Adds a deploy key, or returns GitHub's 422 for a malformed or duplicate key. */
export function addDeployKey(fake: FakeCore, repo: RepoState, input: DeployKeyInput, addedBy: string | null): DeployKeyState | Reply {
  const m = KEY_LINE.exec(input.key.trim());
  if (!m) {
    return unprocessable('Validation Failed', [
      { resource: 'PublicKey', code: 'custom', field: 'key', message: 'key is invalid. You must supply a key in OpenSSH public key format' },
    ]);
  }
  const key = `${m[1]} ${m[2]}`;
  if ([...repo.deployKeys.values()].some((k) => k.key === key)) {
    return unprocessable('Validation Failed', [{ resource: 'PublicKey', code: 'custom', field: 'key', message: 'key is already in use' }]);
  }
  const k: DeployKeyState = {
    id: fake.state.nextId(),
    key,
    title: input.title ?? '',
    read_only: input.read_only ?? false,
    created_at: fake.now(),
    added_by: addedBy,
  };
  repo.deployKeys.set(k.id, k);
  return k;
}

export const keyHandlers: Handlers = {
  'repos/list-deploy-keys': onRepo((input, repo) => {
    const { page, headers } = paginate([...repo.deployKeys.values()], input);
    return ok(
      page.map((k) => deployKeyJson(input.fake, repo, k)),
      200,
      headers,
    );
  }),
  'repos/create-deploy-key': onRepo((input, repo) => {
    const k = addDeployKey(input.fake, repo, input.body as unknown as DeployKeyInput, null);
    return 'status' in k ? k : ok(deployKeyJson(input.fake, repo, k), 201);
  }),
  'repos/get-deploy-key': onRepo((input, repo) => {
    const k = repo.deployKeys.get(Number(input.params.key_id));
    return k ? ok(deployKeyJson(input.fake, repo, k)) : notFound();
  }),
  'repos/delete-deploy-key': onRepo((input, repo) => {
    return repo.deployKeys.delete(Number(input.params.key_id)) ? noContent() : notFound();
  }),
};
