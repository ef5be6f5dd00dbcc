/**
 * The main job on built-in defaults, with no cloud account and no GitHub credentials — the whole
 * loop, through the same commands a user runs:
 *
 * 1. a sample repository with a key policy; a signing key issued by the embedded local keystore
 *    (`keywarden keys create --exportable`, `keywarden keys export`) is pasted into a TypeScript
 *    config by mistake and committed, together with freshly generated FAKE credentials;
 * 2. `keywarden respond --git HEAD~1..HEAD`: the findings, the decision with the policy line that
 *    caused it, the leaked key version revoked, the key rotated, the remediation branch committed;
 * 3. the branch's diff (the secret gone, the code reading process.env), the keystore after, and
 *    `keywarden audit verify` passing.
 *
 *   npm run demo            (after npm ci)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOpa } from '../src/policy/engine/opa-cli.js';
import { createRng, secretGenerators } from '../test/fixtures/secrets/generators.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.join(root, '.keywarden', 'demo');
const repo = path.join(demo, 'sample-app');
const state = path.join(demo, 'state');
const rng = createRng(Date.now());
const gen = (id: string): string => {
  const g = secretGenerators[id];
  if (!g) throw new Error(`no generator for ${id}`);
  return g(rng).line;
};

const opa = ensureOpa();
rmSync(demo, { recursive: true, force: true });
cpSync(path.join(root, 'fixtures', 'sample-app'), repo, { recursive: true });
mkdirSync(path.join(repo, 'deploy'), { recursive: true });
const git = (...args: string[]): string =>
  execFileSync('git', args, {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Demo Dev', GIT_AUTHOR_EMAIL: 'dev@example.test', GIT_COMMITTER_NAME: 'Demo Dev', GIT_COMMITTER_EMAIL: 'dev@example.test' },
  });
git('init', '-q', '-b', 'main');
git('add', '.');
git('commit', '-qm', 'Initial commit');

// The embedded local keystore; this passphrase is for the demo keystore only.
const env = { ...process.env, KEYWARDEN_LOCAL_PASSPHRASE: 'demo-only-passphrase', KEYWARDEN_STATE_DIR: state, KEYWARDEN_OPA: opa, KEYWARDEN_CACHE_DIR: path.join(root, '.cache', 'keywarden', 'policy') };
const cli = path.join(root, 'bin', 'keywarden.js');
const rel = path.relative(root, repo);
const quiet = (...args: string[]): string => execFileSync(process.execPath, [cli, ...args], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const show = (title: string, args: string[], shown = args): number => {
  process.stdout.write(`\n$ keywarden ${shown.join(' ')}    # ${title}\n`);
  return spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root, env }).status ?? 1;
};

show('a signing key in the embedded local keystore, exportable', ['keys', 'create', '--spec', 'HMAC_256', '--alias', 'payments-signing', '--exportable', '--reason', 'demo']);
process.stdout.write('\n$ keywarden keys export payments-signing > …    # the key, as a developer would copy it\n');
const token = quiet('keys', 'export', 'payments-signing', '--format', 'token').trim();

// The mistake: the key pasted into a TypeScript config, plus the fake credentials of a busy afternoon.
writeFileSync(
  path.join(repo, 'src', 'config.ts'),
  ['// Payment settings. TODO: take the key out before merging.', 'export const config = {', "  region: 'eu-west-1',", `  signingKey: '${token}',`, '};', ''].join('\n'),
);
writeFileSync(path.join(repo, 'src', 'legacy.js'), ['// quick fix, remove before merging', gen('aws-credential-pair'), gen('github-pat-classic'), ''].join('\n'));
writeFileSync(path.join(repo, '.env'), [gen('stripe-secret-key'), gen('slack-webhook-url'), gen('postgres-connection-uri'), ''].join('\n'));
writeFileSync(path.join(repo, 'deploy', 'id_rsa'), `${gen('private-key-pem')}\n`);
writeFileSync(path.join(repo, 'src', 'fixtures.test.js'), `${gen('openai-api-key')} // keywarden:allow (documented test key)\n`);
git('add', '.');
git('commit', '-qm', 'Add payment settings');
process.stdout.write(`\n$ git -C ${rel} log --oneline    # the leak is committed\n${git('log', '--oneline')}`);

const code = show('the whole loop on what the last commit added', ['respond', rel, '--git', 'HEAD~1..HEAD']);
const branch = git('for-each-ref', '--format=%(refname:short)', 'refs/heads/keywarden/').trim().split('\n')[0];
if (branch) {
  process.stdout.write(`\n$ git -C ${rel} diff --stat main ${branch}    # the remediation branch\n${git('diff', '--stat', 'main', branch)}`);
  process.stdout.write(`\n$ git -C ${rel} diff main ${branch} -- src/config.ts .env.example\n${git('diff', 'main', branch, '--', 'src/config.ts', '.env.example')}`);
}
show('the leaked version is revoked, a new one is current', ['keys', 'list']);
show('every key operation and the decision are in the tamper-evident audit log', ['audit', 'verify']);
show('the remediation branch scans clean of what was fixed', ['scan', rel, '--git', `main..${branch ?? 'main'}`]);

process.stdout.write(`\nThe sample repository is in ${rel}, its keystore and audit log in ${path.relative(root, state)}. Every secret in it was generated just now and is fake.\n`);
process.exitCode = code === 1 ? 0 : 1;

/** The OPA CLI builds the policy to wasm; install the pinned one into .tools/bin when it is missing (needs Go). */
function ensureOpa(): string {
  try {
    return findOpa();
  } catch {
    process.stdout.write('\nInstalling the pinned OPA CLI into .tools/bin (scripts/setup-tools --only opa) …\n');
    execFileSync('bash', [path.join(root, 'scripts', 'setup-tools'), '--only', 'opa'], { cwd: root, stdio: 'inherit' });
    return findOpa();
  }
}
