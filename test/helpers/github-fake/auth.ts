/**
 * The App's credentials as GitHub checks them: a JWT signed RS256 with the App's private key
 * (`iss` = the App id, `exp` at most 10 minutes ahead) for the `/app` endpoints, and installation
 * tokens (`ghs_…`, one hour) for everything else, over REST (`token` or `Bearer`) and over git
 * smart HTTP (basic auth, any user name, the token as password).
 */
import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import type { FakeState, TokenState } from './state.js';

export interface AppKeys {
  /** PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), as GitHub's App settings page hands it out. */
  privateKey: string;
  publicKey: KeyObject;
}

let processKeys: AppKeys | undefined;

/** One RSA key pair per process (generating one takes a noticeable fraction of a second). */
export function appKeys(privateKeyPem?: string): AppKeys {
  if (privateKeyPem) return { privateKey: privateKeyPem, publicKey: createPublicKey(privateKeyPem) };
  if (!processKeys) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    processKeys = { privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicKey };
  }
  return processKeys;
}

/** Who made a request. `token` is the credential as sent (a JWT or a `ghs_` token). */
export type RequestAuth =
  | { kind: 'none' }
  | { kind: 'app'; token: string }
  | { kind: 'installation'; token: string; installationId: number; grant: TokenState }
  | { kind: 'invalid'; token: string; reason: string };

function base64urlJson(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Checks an App JWT as GitHub does; returns why it is refused, or undefined when it is good. */
export function checkAppJwt(jwt: string, publicKey: KeyObject, appId: number, nowMs = Date.now()): string | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return 'A JSON web token could not be decoded';
  const [h, p, sig] = parts as [string, string, string];
  const header = base64urlJson(h);
  const payload = base64urlJson(p);
  if (!header || !payload) return 'A JSON web token could not be decoded';
  if (header.alg !== 'RS256') return `JWT alg must be RS256, got ${String(header.alg)}`;
  if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(sig, 'base64url'))) {
    return 'A JSON web token could not be decoded (the signature does not match the App key)';
  }
  if (String(payload.iss) !== String(appId)) return `'Issuer' claim ('iss') must be the App id ${appId}, got ${String(payload.iss)}`;
  const now = Math.floor(nowMs / 1000);
  const { iat, exp } = payload;
  if (typeof exp !== 'number' || exp <= now) return "'Expiration time' claim ('exp') must be a numeric value representing the future time";
  if (exp > now + 600 + 60) return "'Expiration time' claim ('exp') is too far in the future";
  if (typeof iat !== 'number' || iat > now + 60) {
    return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
  }
  return undefined;
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function issueInstallationToken(
  state: FakeState,
  installationId: number,
  options: { permissions?: Record<string, string>; repositories?: string[]; ttlMs?: number } = {},
): TokenState {
  const bytes = randomBytes(36);
  const token = `ghs_${[...bytes].map((b) => ALPHANUM[b % ALPHANUM.length]).join('')}`;
  const inst = state.installations.get(installationId);
  const grant: TokenState = {
    token,
    installationId,
    expiresAt: Date.now() + (options.ttlMs ?? 3600_000),
    permissions: options.permissions ?? inst?.permissions ?? {},
    repositories: options.repositories?.map((r) => r.toLowerCase()),
  };
  state.tokens.set(token, grant);
  return grant;
}

/** Reads `Authorization: token|Bearer <x>` (REST). */
export function readRestAuth(header: string | undefined, state: FakeState, publicKey: KeyObject): RequestAuth {
  if (!header) return { kind: 'none' };
  const m = /^(token|bearer)\s+(\S+)$/i.exec(header.trim());
  if (!m) return { kind: 'invalid', token: '', reason: 'Authorization must be "token <x>" or "Bearer <x>"' };
  return credential(m[2]!, state, publicKey);
}

/** Reads `Authorization: Basic <user:token>` (git smart HTTP). */
export function readGitAuth(header: string | undefined, state: FakeState, publicKey: KeyObject): RequestAuth {
  if (!header) return { kind: 'none' };
  const m = /^basic\s+(\S+)$/i.exec(header.trim());
  if (!m) return readRestAuth(header, state, publicKey);
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return credential(colon < 0 ? decoded : decoded.slice(colon + 1), state, publicKey);
}

function credential(token: string, state: FakeState, publicKey: KeyObject): RequestAuth {
  if (token.split('.').length === 3) {
    const reason = checkAppJwt(token, publicKey, state.appId);
    return reason ? { kind: 'invalid', token, reason } : { kind: 'app', token };
  }
  const grant = state.tokens.get(token);
  if (!grant) return { kind: 'invalid', token, reason: 'Bad credentials' };
  if (grant.expiresAt <= Date.now()) return { kind: 'invalid', token, reason: 'Bad credentials (the installation token expired)' };
  return { kind: 'installation', token, installationId: grant.installationId, grant };
}
