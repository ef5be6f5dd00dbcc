/**
 * Signed checkpoints of the audit log, after AWS CloudTrail's digest files and Certificate
 * Transparency's signed tree heads: an Ed25519 signature over (log id, record count, head hash,
 * time).
 *
 * Security properties:
 * - The signing key is derived (HKDF-SHA256) from a secret the database does not hold: the
 *   local keystore's KEK (so from the passphrase), or `KEYWARDEN_AUDIT_KEY` for remote backends.
 *   Someone who can rewrite the database files can recompute every hash of the chain, but
 *   cannot produce a checkpoint that verifies under that key.
 * - A verifier never trusts a public key read from the database: it derives the key from the
 *   secret, or takes it from an exported checkpoint kept somewhere the database writer cannot
 *   reach (the export is the out-of-band anchor, as a CT log's public key is).
 * - The signed message is domain-separated, so a signature made for anything else never
 *   verifies as a checkpoint.
 */
import { createPrivateKey, createPublicKey, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';
import { ErrorCode, KeywardenError } from '../errors.js';

/** What `audit checkpoint --export` writes: everything needed to check a log against it later. */
export interface SignedCheckpoint {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  /** Random id of the log, fixed at its creation: a checkpoint of one log never vouches for another. */
  logId: string;
  /** Records covered: the checkpoint vouches for records 1..count. */
  count: number;
  /** Hash of record `count` (the genesis hash when count is 0). */
  headHash: string;
  time: string;
  /** Raw 32-byte Ed25519 public key, base64. */
  publicKey: string;
  /** Ed25519 signature over `checkpointMessage(...)`, base64. */
  signature: string;
}

export const CHECKPOINT_FORMAT = 'keywarden-audit-checkpoint';
const DOMAIN = 'keywarden-audit-checkpoint-v1\n';
// DER prefixes that wrap a raw Ed25519 seed / public key as PKCS#8 / SPKI (RFC 8410).
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export interface CheckpointSigner {
  /** Raw 32-byte public key. */
  readonly publicKey: Buffer;
  sign(body: CheckpointBody): string;
}

export type CheckpointBody = Pick<SignedCheckpoint, 'logId' | 'count' | 'headHash' | 'time'>;

/** The exact bytes that are signed. Field order is fixed here, not by JSON key order. */
function checkpointMessage(b: CheckpointBody): Buffer {
  return Buffer.from(`${DOMAIN}${JSON.stringify([b.logId, b.count, b.headHash, b.time])}`, 'utf8');
}

/**
 * Derives the checkpoint signing key from a secret (the KEK, or KEYWARDEN_AUDIT_KEY).
 * Different HKDF info than any other use of the secret, so the signing key reveals nothing about it.
 */
export function createCheckpointSigner(secret: Uint8Array): CheckpointSigner {
  const seed = Buffer.from(hkdfSync('sha256', secret, 'keywarden/audit', 'audit checkpoint ed25519 v1', 32));
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  seed.fill(0);
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = Buffer.from(spki.subarray(spki.length - 32));
  return {
    publicKey,
    sign: (body) => sign(null, checkpointMessage(body), privateKey).toString('base64'),
  };
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
}

/** True when `c.signature` is a valid signature of `c` under `publicKey` (raw 32 bytes). */
export function checkSignature(c: CheckpointBody & { signature: string }, publicKey: Buffer): boolean {
  const sig = Buffer.from(c.signature, 'base64');
  if (publicKey.length !== 32 || sig.length !== 64) return false;
  try {
    return verify(null, checkpointMessage(c), publicKeyObject(publicKey), sig);
  } catch {
    return false;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function invalid(message: string, file?: string): KeywardenError {
  return new KeywardenError(ErrorCode.CHECKPOINT_INVALID, `${message} Export a fresh one with "keywarden audit checkpoint --export FILE".`, {
    fault: 'user',
    ...(file ? { location: { file } } : {}),
  });
}

/**
 * Parses an exported checkpoint strictly: an empty, truncated, garbled or unsigned export is
 * refused (KW_CHECKPOINT_INVALID), never treated as "nothing to check against".
 */
export function parseCheckpoint(text: string, file?: string): SignedCheckpoint {
  if (text.trim() === '') throw invalid('The checkpoint file is empty.', file);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw invalid('The checkpoint file is not valid JSON (truncated or garbled).', file);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid('The checkpoint file does not hold a checkpoint object.', file);
  const o = v as Record<string, unknown>;
  const problems: string[] = [];
  if (o.format !== CHECKPOINT_FORMAT) problems.push(`format is not "${CHECKPOINT_FORMAT}"`);
  if (o.version !== 1) problems.push('version is not 1');
  if (typeof o.logId !== 'string' || !/^[0-9a-f-]{8,64}$/.test(o.logId)) problems.push('logId is missing or malformed');
  if (typeof o.count !== 'number' || !Number.isSafeInteger(o.count) || o.count < 0) problems.push('count is not a whole number');
  if (typeof o.headHash !== 'string' || !HEX64.test(o.headHash)) problems.push('headHash is not a SHA-256 hex digest');
  if (typeof o.time !== 'string' || Number.isNaN(Date.parse(o.time))) problems.push('time is not a timestamp');
  const key = typeof o.publicKey === 'string' && B64.test(o.publicKey) ? Buffer.from(o.publicKey, 'base64') : undefined;
  if (!key || key.length !== 32) problems.push('publicKey is not a base64 Ed25519 key');
  const sig = typeof o.signature === 'string' && B64.test(o.signature) ? Buffer.from(o.signature, 'base64') : undefined;
  if (!sig || sig.length !== 64) problems.push('signature is not a base64 Ed25519 signature');
  if (problems.length) throw invalid(`The checkpoint file is not a valid checkpoint: ${problems.join('; ')}.`, file);
  const c = o as unknown as SignedCheckpoint;
  // A garbled value that still has the right shape fails here: it was not signed by its own key.
  if (!checkSignature(c, key!)) throw invalid('The checkpoint file is garbled: its signature does not match its content.', file);
  return {
    format: CHECKPOINT_FORMAT,
    version: 1,
    logId: c.logId,
    count: c.count,
    headHash: c.headHash,
    time: c.time,
    publicKey: c.publicKey,
    signature: c.signature,
  };
}
