/**
 * Leaked GitHub tokens go to GitHub's credential revocation API (`POST /credentials/revoke`),
 * which revokes any token GitHub issued, whoever owns it, and tells the owner. It takes the token
 * itself: the act stage hands the revoker a function that re-reads it from the source at act time
 * (checked against the finding's fingerprint); it is sent once, in the request body, and kept
 * nowhere. A token cannot be re-issued by anyone but its owner, so a rotation is a revocation with
 * a note saying so.
 *
 * The API accepts a made-up token as readily as a real one and revoking a decoy harms no one, so
 * there is no liveness check (unlike an AWS key pair, whose ID alone would let anyone disable it).
 */
import { ErrorCode, KeywardenError } from '../errors.js';
import type { CredentialRevocation, CredentialRevoker, RevokeOptions } from './port.js';

export interface GitHubTokenRevokerOptions {
  /** Sends the revocation: `octokit.request('POST /credentials/revoke', { credentials })`. */
  revoke(credentials: string[]): Promise<void>;
}

export class GitHubTokenRevoker implements CredentialRevoker {
  readonly provider = 'github';
  readonly cannotRotate = 'GitHub tokens are re-issued only by their owner: GitHub tells them it was revoked, they create a new one and put it in the secret store';

  constructor(private readonly options: GitHubTokenRevokerOptions) {}

  async revoke(credentialId: string, options: RevokeOptions): Promise<CredentialRevocation> {
    const token = options.secret ? await options.secret() : undefined;
    if (token === undefined) {
      throw new KeywardenError(ErrorCode.SECRET_NOT_AT_SOURCE, 'The GitHub token could not be read again from the commit it was found in, so it was not sent for revocation.', {
        fault: 'user',
        hint: 'Revoke it at github.com/settings/tokens, or ask its owner to.',
      });
    }
    await this.options.revoke([token]);
    return {
      provider: this.provider,
      credentialId: credentialId || 'token',
      owner: 'its GitHub owner',
      deactivated: true,
      replayed: false,
      ...(options.replace ? { note: this.cannotRotate } : {}),
    };
  }
}
