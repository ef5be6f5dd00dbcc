/**
 * Secret sinks: where a replacement credential goes. Keywarden hands the new secret to a
 * sink and keeps only the reference it returns; the secret is never printed or logged.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';
import type { SecretSink } from './port.js';

/**
 * Writes each secret as a JSON file with mode 0600 in a folder with mode 0700, atomically
 * (temp file, then rename). Meant for a mounted secrets volume or a local demo.
 */
export class FileSecretSink implements SecretSink {
  readonly name = 'file';
  constructor(private readonly dir: string) {}

  async put(name: string, secret: Record<string, string>, meta: { reason?: string }): Promise<string> {
    const safe = name.replace(/[^a-zA-Z0-9._-]+/g, '_');
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const path = join(this.dir, `${safe}.json`);
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ ...secret, ...(meta.reason ? { reason: meta.reason } : {}), storedAt: new Date().toISOString() }), { mode: 0o600, flag: 'w' });
      chmodSync(tmp, 0o600);
      renameSync(tmp, path);
      return path;
    } catch (e) {
      throw new KeywardenError(ErrorCode.SECRET_SINK_FAILED, `Could not store the new credential in ${this.dir}.`, { fault: 'config', cause: e });
    }
  }
}

/** Keeps secrets in memory; for tests and for callers that forward them elsewhere. */
export class MemorySecretSink implements SecretSink {
  readonly name = 'memory';
  readonly secrets = new Map<string, Record<string, string>>();
  async put(name: string, secret: Record<string, string>): Promise<string> {
    this.secrets.set(name, { ...secret });
    return `memory:${name}`;
  }
}
