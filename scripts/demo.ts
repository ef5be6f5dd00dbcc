/**
 * The main job on built-in defaults, with no cloud account and no GitHub credentials:
 * builds a sample repository with freshly generated FAKE secrets planted in a second commit,
 * then runs `keywarden scan` over its tree and over the range that added them.
 *
 *   npm run demo            (after npm ci)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
process.stdout.write(`\nThe sample repository is in ${path.relative(root, repo)}. Every secret in it was generated just now and is fake.\n`);
