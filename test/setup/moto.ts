/**
 * Starts a moto server (AWS KMS and IAM, in memory) on 127.0.0.1 and a free port for one
 * test file. `scripts/setup-tools --only moto` installs it into .tools/venv; `npm test` runs that
 * script first; a missing binary fails the suites unless KEYWARDEN_ALLOW_SKIP=1 says to skip them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { skipUnlessAllowed } from './real-part.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CANDIDATES = [join(ROOT, '.tools', 'bin', 'moto_server'), join(ROOT, '.tools', 'venv', 'bin', 'moto_server')];

export function findMotoServer(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

/** Why the moto suites skip: only with the explicit opt-out (`skipUnlessAllowed`); otherwise a missing moto fails them. */
export const motoSkipReason: string | undefined = skipUnlessAllowed('moto', findMotoServer() ? undefined : 'moto_server is not installed: run scripts/setup-tools --only moto');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface MotoServer {
  endpoint: string;
  /** Fake credentials moto accepts; not secrets. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<MotoServer> {
  const bin = findMotoServer();
  if (!bin) throw new Error(motoSkipReason);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitReady(endpoint, child);
      return {
        endpoint,
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
        region: 'eu-west-1',
        reset: async () => {
          await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
        },
        stop: () => stop(child),
      };
    } catch (e) {
      lastError = new Error(`moto did not start on port ${port}: ${String(e)}\n${stderr}`);
      await stop(child);
    }
  }
  throw lastError;
}

async function waitReady(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`);
      if (r.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}
