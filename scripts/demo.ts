/**
 * The main job on built-in defaults, with no cloud account and no GitHub credentials:
 * builds a sample repository with freshly generated FAKE secrets planted in a second commit,
 * runs `keywarden scan` over its tree and over the range that added them, creates two keys in
 * the embedded local keystore, and has the sample app's key policy decide what the push
 * demands (`keywarden policy eval`: violations and actions: revoke, rotate, open-pr, …).
 *
 *   npm run demo            (after npm ci)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ManagedKey } from '../src/backends/port.js';
import { policyKeysFrom } from '../src/policy/backend-keys.js';
import { findOpa } from '../src/policy/engine/opa-cli.js';
import { createRng, secretGenerators } from '../test/fixtures/secrets/generators.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.join(root, '.keywarden', 'demo', 'sample-app');
const rng = createRng(Date.now());
const gen = (id: string): string => {
  const g = secretGenerators[id];
  if (!g) throw new Error(`no generator for ${id}`);
  return g(rng).line;
};

rmSync(repo, { recursive: true, force: true });
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

writeFileSync(path.join(repo, 'src', 'config.js'), [`// quick fix, remove before merging`, gen('aws-credential-pair'), gen('github-pat-classic'), ''].join('\n'));
writeFileSync(path.join(repo, '.env'), [gen('stripe-secret-key'), gen('slack-webhook-url'), gen('postgres-connection-uri'), ''].join('\n'));
writeFileSync(path.join(repo, 'deploy', 'id_rsa'), `${gen('private-key-pem')}\n`);
writeFileSync(path.join(repo, 'src', 'fixtures.test.js'), `${gen('openai-api-key')} // keywarden:allow (documented test key)\n`);
git('add', '.');
git('commit', '-qm', 'Add payment settings');

const cli = path.join(root, 'bin', 'keywarden.js');
const run = (title: string, args: string[]): void => {
  process.stdout.write(`\n$ keywarden ${args.join(' ')}    # ${title}\n`);
  spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root });
};
run('the whole tree', ['scan', path.relative(root, repo)]);
run('only what the last commit added, with commit and author', ['scan', path.relative(root, repo), '--git', 'HEAD~1..HEAD']);

// Decide: the sample app's policy judges what the push added and the keys in the embedded local keystore.
const rel = path.relative(root, repo);
const state = path.join(root, '.keywarden', 'demo', 'state');
rmSync(state, { recursive: true, force: true });
// The local keystore's passphrase; this one is for the demo keystore only.
const env = { ...process.env, KEYWARDEN_LOCAL_PASSPHRASE: 'demo-only-passphrase' };
const keys = (...args: string[]): string => execFileSync(process.execPath, [cli, 'keys', ...args, '--backend', 'local', '--state-dir', state], { cwd: root, env, encoding: 'utf8' });
keys('create', '--spec', 'RSA_2048', '--alias', 'signing-payments', '--reason', 'demo');
keys('create', '--spec', 'AES_256', '--alias', 'app-data', '--reason', 'demo');
process.stdout.write(`\n$ keywarden keys list --state-dir ${path.relative(root, state)}    # two keys in the embedded local keystore\n`);
process.stdout.write(keys('list'));

const opa = ensureOpa();
const scanJson = spawnSync(process.execPath, [cli, 'scan', rel, '--git', 'HEAD~1..HEAD', '--format', 'json'], { cwd: root, encoding: 'utf8' });
const inventory = (JSON.parse(keys('list', '--format', 'json')) as { keys: ManagedKey[] }).keys;
const input = {
  now: new Date().toISOString(),
  repo: { name: 'sample-app', visibility: 'private', files: git('diff', '--name-only', 'HEAD~1..HEAD').split('\n').filter(Boolean) },
  event: { kind: 'push', branch: 'main' },
  findings: JSON.parse(scanJson.stdout) as unknown[],
  keys: policyKeysFrom(inventory),
};
const inputFile = path.join(root, '.keywarden', 'demo', 'input.json');
writeFileSync(inputFile, `${JSON.stringify(input, null, 2)}\n`);
process.stdout.write(`\n$ keywarden policy eval ${rel}/.github/keywarden.yml --input ${path.relative(root, inputFile)}    # what the policy demands for this push\n`);
spawnSync(process.execPath, [cli, 'policy', 'eval', path.join(rel, '.github', 'keywarden.yml'), '--input', path.relative(root, inputFile)], { stdio: 'inherit', cwd: root, env: { ...process.env, KEYWARDEN_OPA: opa } });

process.stdout.write(`\nThe sample repository is in ${rel}. Every secret in it was generated just now and is fake.\n`);

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
