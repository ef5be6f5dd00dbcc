/**
 * The App end to end: the GitHub fake (real HTTP on loopback, every request validated against
 * GitHub's OpenAPI description, real git repositories behind it), and the App composed as
 * `npm start` composes it — Probot, the Hono server on 127.0.0.1 port 0, the SQLite queue and the
 * worker — pointed at the fake through `baseUrl`. Deliveries are signed and POSTed for real. Every
 * log line is kept for the canary check.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';
import { composeApp, type AppSettings, type ComposedApp } from '../../src/compose-app.js';
import { createAppLogger } from '../../src/server/logger.js';
import { createGitHubFake, signDelivery, type GitHubFake, type GitHubFakeOptions, type WebhookDelivery } from './github-fake/index.js';
import { filesUnder, PROJECT } from './respond-harness.js';
import { readFileSync } from 'node:fs';

export const WEBHOOK_SECRET = `whsec-${randomBytes(12).toString('hex')}`;

/** A fake classic GitHub token (valid checksum), the same for the same seed. */
export const ghToken = (seed: string): string => secretGenerators['github-pat-classic']!(createRng(seed)).secret;

export interface AppHarness {
  gh: GitHubFake;
  app: ComposedApp;
  url: string;
  state: string;
  env: NodeJS.ProcessEnv;
  /** Every log line the App wrote. */
  lines: string[];
  /** The CLI in this process, on the App's state folder and environment (keys, audit). */
  kw(...argv: string[]): Promise<{ code: number; out: string }>;
  deliver(d: WebhookDelivery, options?: { secret?: string; id?: string }): Promise<Response>;
  /** Waits until the worker has nothing left to do. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function createAppHarness(options: { env?: NodeJS.ProcessEnv; fake?: GitHubFakeOptions; settings?: Partial<AppSettings>; work?: boolean; compareMaxFiles?: number } = {}): Promise<AppHarness> {
  const gh = await createGitHubFake({ violationStatus: 400, ...options.fake });
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-app-'));
  const state = path.join(dir, 'state');
  const lines: string[] = [];
  const logger = createAppLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    KEYWARDEN_STATE_DIR: state,
    KEYWARDEN_CACHE_DIR: path.join(PROJECT, '.cache', 'keywarden', 'policy'),
    KEYWARDEN_LOCAL_PASSPHRASE: `local-pass-${randomBytes(6).toString('hex')}`,
    ...(process.env.KEYWARDEN_OPA ? { KEYWARDEN_OPA: process.env.KEYWARDEN_OPA } : {}),
    ...options.env,
  };
  const settings: AppSettings = {
    appId: String(gh.appId),
    privateKey: gh.privateKey,
    webhookSecrets: [WEBHOOK_SECRET],
    apiUrl: gh.apiUrl,
    gitUrl: `${gh.apiUrl}/git`,
    webUrl: 'https://github.com',
    host: '127.0.0.1',
    port: 0,
    stateDir: state,
    backend: {},
    concurrency: 1,
    logLevel: 'debug',
    ...options.settings,
  };
  const app = await composeApp(settings, {
    env,
    logger,
    worker: { pollMs: 20, backoff: () => 100 },
    ...(options.work === false ? { work: false } : {}),
    ...(options.compareMaxFiles ? { compareLimits: { files: options.compareMaxFiles, commits: 250 } } : {}),
  });
  const server = await app.start();
  return {
    gh,
    app,
    url: server.url,
    state,
    env,
    lines,
    kw: async (...argv) => {
      let out = '';
      const code = await main(argv, { cwd: state, env, stdout: (s) => void (out += s), stderr: (s) => void (out += s), isTTY: false });
      return { code, out };
    },
    deliver: async (d, o = {}) => {
      const signed = signDelivery(d, o.secret ?? WEBHOOK_SECRET, o.id ? { id: o.id } : {});
      return fetch(`${server.url}/api/github/webhooks`, { method: 'POST', headers: signed.headers, body: signed.body });
    },
    // Until nothing is queued (a retry scheduled for later counts) and nothing runs.
    idle: async () => {
      for (;;) {
        await app.worker.idle();
        const st = await app.queue.stats();
        if (st.queued === 0 && st.running === 0) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: async () => {
      await app.close(5000);
      await gh.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The canary is in no log line, no request body sent to GitHub (but the revocation's), no response and no file of the state folder. */
export function expectNoCanaryInApp(h: AppHarness, canary: string): void {
  expect(h.lines.filter((l) => l.includes(canary))).toEqual([]);
  const sent = h.gh.requests.filter((r) => r.route !== '/credentials/revoke' && JSON.stringify(r.body ?? '').includes(canary));
  expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  // What GitHub answers with the pushed content itself (a compare's patches, a file) holds it, as GitHub does.
  const carriesContent = new Set(['/repos/{owner}/{repo}/contents/{path}', '/repos/{owner}/{repo}/compare/{base}...{head}', '/repos/{owner}/{repo}/pulls/{pull_number}/files']);
  const answered = h.gh.requests.filter((r) => !carriesContent.has(r.route ?? '') && JSON.stringify(r.response ?? '').includes(canary));
  expect(answered.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  for (const f of filesUnder(h.state)) {
    // The git copies hold what was pushed, as GitHub does; everything else must not.
    if (f.includes(`${path.sep}repos${path.sep}`)) continue;
    expect(readFileSync(f).includes(canary), f).toBe(false);
  }
}
