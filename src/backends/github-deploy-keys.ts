/**
 * Deploy keys: a leaked SSH private key is matched by public key (OpenSSH's SHA256 fingerprint)
 * to the deploy keys of the installation's repositories; the revoke step deletes the deploy key,
 * the rotate step adds a new one (a fresh Ed25519 key, same title and access) whose private half
 * goes to the secret sink. The policy decides which of the two happen.
 *
 * Security properties:
 * - a public key is public (it is in every `authorized_keys` and on the GitHub API), so the match
 *   alone never deletes anything: at act time the private key is re-read from the source and must
 *   **sign a challenge that the deploy key verifies**. A copied public key in a made-up OpenSSH
 *   file, or a real header over a garbage private part, deletes nothing;
 * - the matcher sees only the finding's fingerprint and identity, never the key;
 * - the rotation is idempotent across crashes: a replacement with this step's marker in its title
 *   is found and reused instead of adding a second one.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import sshpk from 'sshpk';
import { ErrorCode, KeywardenError } from '../errors.js';
import type { Finding } from '../model/finding.js';
import type { CredentialRevocation, CredentialRevoker, RevokeOptions, SecretSink } from './port.js';

export interface DeployKey {
  id: number;
  key: string;
  title: string;
  readOnly: boolean;
}

/** The GitHub calls this needs, as the installation. */
export interface DeployKeyApi {
  repositories(): Promise<Array<{ owner: string; repo: string }>>;
  list(owner: string, repo: string): Promise<DeployKey[]>;
  /** Deletes; a key that is already gone is not an error. */
  remove(owner: string, repo: string, id: number): Promise<void>;
  add(owner: string, repo: string, key: { title: string; key: string; readOnly: boolean }): Promise<{ id: number }>;
}

/** OpenSSH's fingerprint of an `ssh-… AAAA…` public key line; undefined when it is not one. */
export function sshLineFingerprint(line: string): string | undefined {
  const blob = /^\s*\S+\s+([A-Za-z0-9+/]+={0,2})/.exec(line)?.[1];
  if (!blob) return undefined;
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** `owner/repo:id`, the deploy key's credential id (public). */
function credentialIdOf(owner: string, repo: string, id: number): string {
  return `${owner}/${repo}:${id}`;
}

function parseCredentialId(s: string): { owner: string; repo: string; id: number } {
  const m = /^([^/:\s]+)\/([^/:\s]+):(\d+)$/.exec(s);
  if (!m) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'Not a deploy key id (owner/repo:id).', { fault: 'internal' });
  return { owner: m[1]!, repo: m[2]!, id: Number(m[3]) };
}

/**
 * Does the private key in `text` sign what `publicLine` verifies? False for anything that does not
 * parse, is encrypted, or does not match.
 */
export function privateKeyProves(text: string, publicLine: string): boolean {
  try {
    const priv = sshpk.parsePrivateKey(text, 'auto');
    const pub = sshpk.parseKey(publicLine, 'ssh');
    const challenge = randomBytes(32);
    // Ed25519 signs with SHA-512 built in; sshpk wants it named.
    const hash = priv.type === 'ed25519' || priv.type === 'curve25519' ? 'sha512' : 'sha256';
    const signer = priv.createSign(hash);
    signer.update(challenge);
    const sig = signer.sign();
    const verifier = pub.createVerify(hash);
    verifier.update(challenge);
    return verifier.verify(sig);
  } catch {
    return false;
  }
}

export interface DeployKeysOptions {
  api: DeployKeyApi;
  sink: SecretSink;
  /** How long the list of deploy keys is reused (ms). Default 5 minutes. */
  cacheMs?: number;
  clock?: () => Date;
}

/** The matcher (context stage) and the revoker (act stage) for one installation's deploy keys. */
export class GitHubDeployKeys implements CredentialRevoker {
  readonly provider = 'github-deploy-key';
  private listed: { at: number; keys: Array<DeployKey & { owner: string; repo: string; fingerprint: string }> } | undefined;

  constructor(private readonly options: DeployKeysOptions) {}

  private now(): number {
    return (this.options.clock?.() ?? new Date()).getTime();
  }

  private async allKeys(): Promise<NonNullable<GitHubDeployKeys['listed']>['keys']> {
    if (this.listed && this.now() - this.listed.at < (this.options.cacheMs ?? 300_000)) return this.listed.keys;
    const keys: NonNullable<GitHubDeployKeys['listed']>['keys'] = [];
    for (const r of await this.options.api.repositories()) {
      for (const k of await this.options.api.list(r.owner, r.repo)) {
        const fingerprint = sshLineFingerprint(k.key);
        if (fingerprint) keys.push({ ...k, ...r, fingerprint });
      }
    }
    this.listed = { at: this.now(), keys };
    return keys;
  }

  /** A `CredentialMatcher`: a private key whose public key is a deploy key of the installation. */
  readonly match = async (f: Finding): Promise<{ kind: 'credential'; provider: string; credentialId: string; subtype: string } | undefined> => {
    const fp = f.identity?.kind === 'public-key' ? f.identity.sshFingerprint : undefined;
    // Only private keys: a public key line in the repository is no leak.
    if (!fp || f.type !== 'private-key') return undefined;
    const hit = (await this.allKeys()).find((k) => k.fingerprint === fp);
    return hit ? { kind: 'credential', provider: this.provider, credentialId: credentialIdOf(hit.owner, hit.repo, hit.id), subtype: 'deploy-key' } : undefined;
  };

  async revoke(credentialId: string, options: RevokeOptions): Promise<CredentialRevocation> {
    const { owner, repo, id } = parseCredentialId(credentialId);
    const marker = `kw:${options.idempotencyKey.slice(-12)}`;
    const keys = await this.options.api.list(owner, repo);
    const key = keys.find((k) => k.id === id);
    const replacement = keys.find((k) => k.title.includes(marker));
    if (key) {
      const secret = options.secret ? await options.secret() : undefined;
      if (secret === undefined || !privateKeyProves(secret, key.key)) {
        throw new KeywardenError(ErrorCode.CREDENTIAL_NOT_LIVE, `The private key found does not prove deploy key ${id} of ${owner}/${repo} (it does not sign what the deploy key verifies); the deploy key was left alone.`, {
          fault: 'user',
        });
      }
      await this.options.api.remove(owner, repo, id);
      this.listed = undefined;
    }
    const base = { provider: this.provider, credentialId, owner: `${owner}/${repo}`, deactivated: true };
    if (!options.replace) return { ...base, replayed: !key };
    if (replacement) return { ...base, replacementId: credentialIdOf(owner, repo, replacement.id), replayed: true };
    const { privateKey } = generateKeyPairSync('ed25519');
    const parsed = sshpk.parsePrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'pkcs8');
    const publicLine = `${parsed.toPublic().toString('ssh')} keywarden`;
    const title = `${(key?.title ?? 'deploy key').slice(0, 60)} (rotated by Keywarden, ${marker})`;
    const ref = await this.options.sink.put(`deploy-key-${owner}-${repo}-${marker.slice(3)}`, { private_key: parsed.toString('openssh'), public_key: publicLine }, { reason: `replaces deploy key ${id} of ${owner}/${repo}` });
    const added = await this.options.api.add(owner, repo, { title, key: publicLine, readOnly: key?.readOnly ?? true });
    this.listed = undefined;
    return { ...base, replacementId: credentialIdOf(owner, repo, added.id), replacementRef: ref, replayed: false };
  }
}
