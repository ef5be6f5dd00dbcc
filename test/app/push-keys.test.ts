/**
 * The App end to end for keys it can reach besides provider credentials:
 * - a pushed SSH private key that is a deploy key of the installation's repositories: matched by
 *   public key, proven by a signature at act time, deleted and replaced (the new private key in
 *   the secret sink); a decoy that carries the deploy key's public half over another private
 *   part deletes nothing;
 * - a key of the local keystore (an exported `kwk_` token): its version revoked, a new one current.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sshpk from 'sshpk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAppHarness, expectNoCanaryInApp, type AppHarness } from '../helpers/app-harness.js';

function sshKeyPair(): { privateKey: string; publicLine: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const k = sshpk.parsePrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'pkcs8');
  return { privateKey: k.toString('openssh'), publicLine: k.toPublic().toString('ssh') };
}

/** An OpenSSH private key file whose header names `victim`'s public key but whose private part is another key's. */
function decoyFor(victimPublicLine: string): string {
  const other = sshKeyPair();
  const armoured = other.privateKey.trim().split('\n');
  const bytes = Buffer.from(armoured.slice(1, -1).join(''), 'base64');
  const otherBlob = Buffer.from(other.publicLine.split(' ')[1]!, 'base64');
  const victimBlob = Buffer.from(victimPublicLine.split(' ')[1]!, 'base64');
  const at = bytes.indexOf(otherBlob);
  victimBlob.copy(bytes, at);
  const b64 = bytes.toString('base64').replace(/.{70}/g, '$&\n');
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

describe('the App on pushes that leak a deploy key or a local key', () => {
  let h: AppHarness;
  const run = (...argv: string[]) => h.kw(...argv);

  beforeAll(async () => {
    h = await createAppHarness();
    await h.gh.createRepo('acme', 'site', { files: { 'README.md': '# site\n' } });
    await h.gh.createRepo('acme', 'deployer', { files: { 'README.md': '# deployer\n' } });
  });
  afterEach(() => h.gh.assertNoViolations());
  afterAll(async () => h?.close());

  const push = async (repo: string, files: Record<string, string>): Promise<string> => {
    const before = (await h.gh.refSha('acme', repo, 'heads/main'))!;
    const after = await h.gh.commit('acme', repo, { branch: 'main', files });
    expect((await h.deliver(await h.gh.pushEvent('acme', repo, { before, after }))).status).toBe(202);
    await h.idle();
    return after;
  };

  it('a decoy with the deploy key\'s public half deletes nothing', async () => {
    const real = sshKeyPair();
    const key = h.gh.addDeployKey('acme', 'site', { key: real.publicLine, title: 'prod deploy', read_only: false });
    await push('deployer', { 'ci/decoy_ed25519': decoyFor(real.publicLine) });
    expect([...h.gh.repoState('acme', 'site').deployKeys.keys()]).toContain(key.id);
    const check = h.gh.checkRuns('acme', 'deployer').at(-1)!;
    expect(check.output.summary).toMatch(/KW_CREDENTIAL_NOT_LIVE/);
  }, 60_000);

  it('deletes and replaces the deploy key a pushed private key is', async () => {
    const real = sshKeyPair();
    const key = h.gh.addDeployKey('acme', 'site', { key: real.publicLine, title: 'ci deploy', read_only: true });
    await push('deployer', { 'ci/id_ed25519': real.privateKey });
    const keys = [...h.gh.repoState('acme', 'site').deployKeys.values()];
    expect(keys.find((k) => k.id === key.id)).toBeUndefined();
    const replacement = keys.find((k) => k.title.includes('rotated by Keywarden'));
    expect(replacement).toBeDefined();
    expect(replacement!.read_only).toBe(true);
    const issued = readdirSync(path.join(h.state, 'issued')).filter((f) => f.startsWith('deploy-key-acme-site'));
    expect(issued).toHaveLength(1);
    const stored = JSON.parse(readFileSync(path.join(h.state, 'issued', issued[0]!), 'utf8')) as { private_key: string; public_key: string };
    expect(stored.public_key.split(' ').slice(0, 2).join(' ')).toBe(replacement!.key.split(' ').slice(0, 2).join(' '));
    // The pushed file is removed by the fix.
    const pr = [...h.gh.repoState('acme', 'deployer').pulls.values()].at(-1)!;
    expect(await h.gh.readFile('acme', 'deployer', pr.head.ref, 'ci/id_ed25519')).toBeUndefined();
    const blob = real.privateKey.split('\n')[2]!;
    expectNoCanaryInApp(h, blob);
    expect(h.lines.join('\n')).not.toContain(stored.private_key.split('\n')[2]!);
  }, 60_000);

  it('revokes the leaked version of a local key and makes a new one current', async () => {
    expect((await run('keys', 'create', '--spec', 'HMAC_256', '--alias', 'webhook-signing', '--exportable', '--reason', 'e2e')).code).toBe(0);
    const exported = await run('keys', 'export', 'webhook-signing', '--format', 'token');
    expect(exported.code, exported.out).toBe(0);
    const token = exported.out.trim();
    await push('site', { 'src/signing.ts': `export const signingKey = '${token}';\n` });
    const described = await run('keys', 'describe', 'webhook-signing', '--format', 'json');
    expect(described.code, described.out).toBe(0);
    const view = JSON.parse(described.out) as { currentVersion?: number; versions?: Array<{ version: number; state: string }> };
    expect(JSON.stringify(view)).toMatch(/revoked/i);
    const check = h.gh.checkRuns('acme', 'site').at(-1)!;
    expect(check.conclusion).toBe('failure');
    expectNoCanaryInApp(h, token);
  }, 60_000);
});
