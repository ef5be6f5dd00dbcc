/**
 * The npm package, as a user gets it: `npm pack`, installed into an empty project, run on a PATH
 * with neither the OPA CLI nor Go, so policies are built by the built-in builder it ships
 * (dist-wasm/opa-build.wasm). Checks:
 *
 * 1. the tarball: has the CLI, the builder, the default policy and the schemas; has no sources,
 *    tests, test helpers (`*.case.*`), fixtures or tools; is under MAX_PACKED_MB;
 * 2. `keywarden policy validate` and `keywarden policy eval` on the example policy: built by the
 *    builder (the build cache says `1.22.3+wasm`), the same decision as this checkout's CLI;
 * 3. `keywarden scan` on freshly generated FAKE secrets: found, and never printed;
 * 4. `keywarden keys create` / `keys list` on the local keystore, and `keywarden respond --dry-run`
 *    on a scratch repository (the built-in default policy, built by the builder);
 * 4b. `keywarden check` (the bundled CLI, dist/bundle/) on the inspector's fixtures: the same report
 *    as this checkout's unbundled CLI (dist/cli/);
 * 5. `keywarden app` (what `npm start` runs): refuses to start without a webhook secret, and with
 *    one listens and answers /healthz and /readyz until SIGTERM;
 * 6. no command prints an ExperimentalWarning.
 *
 *   scripts/pack-smoke            (after scripts/setup-tools; needs the npm registry or its cache)
 *   scripts/pack-smoke --keep     keep the temporary folder
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { accessSync, constants, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRng, secretGenerators } from '../test/fixtures/secrets/generators.js';

const MAX_PACKED_MB = 15;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const work = mkdtempSync(path.join(tmpdir(), 'keywarden-pack-smoke-'));
const log = (s: string): void => void process.stderr.write(`pack-smoke: ${s}\n`);
let failures = 0;
const check = (ok: boolean, what: string, detail = ''): void => {
  if (ok) log(`ok   ${what}`);
  else {
    failures++;
    log(`FAIL ${what}${detail ? `\n${detail.slice(0, 4000)}` : ''}`);
  }
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

try {
  if (!existsSync(path.join(root, 'dist-wasm', 'opa-build.wasm'))) throw new Error('dist-wasm/opa-build.wasm is missing: run scripts/setup-tools first.');

  // 1. The tarball. `npm pack` runs `prepare` (the TypeScript build) first.
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as Array<{
    filename: string;
    size: number;
    unpackedSize: number;
    files: Array<{ path: string }>;
  }>;
  const pack = packed[0]!;
  const tgz = path.join(work, pack.filename);
  const files = pack.files.map((f) => f.path);
  log(`tarball ${pack.filename}: ${(pack.size / 1e6).toFixed(1)} MB packed, ${(pack.unpackedSize / 1e6).toFixed(1)} MB unpacked, ${files.length} files`);
  for (const f of ['bin/keywarden.js', 'dist/cli/main.js', 'dist/bundle/main.js', 'dist-wasm/opa-build.wasm', 'policies/default.yml', 'schemas/input.schema.json']) check(files.includes(f), `the tarball has ${f}`);
  const unwanted = files.filter((f) => /^(src|test|tests|fixtures|bench|scripts|tools|docs|\.tools|\.ci|\.keywarden|\.cache)\//.test(f) || /\.(case|test)\.|\.pem$|\.key$|(^|\/)\.env/.test(f));
  check(unwanted.length === 0, 'the tarball has no sources, tests, test helpers, fixtures or tools', unwanted.join('\n'));
  check(pack.size < MAX_PACKED_MB * 1e6, `the tarball is under ${MAX_PACKED_MB} MB`);

  // 2. An empty project, the package installed from the tarball.
  const project = path.join(work, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), `${JSON.stringify({ name: 'keywarden-pack-smoke', version: '1.0.0', private: true }, null, 2)}\n`);
  log('npm install <tarball> (prefers the local npm cache)');
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tgz], { cwd: project, stdio: ['ignore', 'inherit', 'inherit'] });

  // A PATH without the OPA CLI or Go: every folder that has either (or is .tools) is dropped.
  const has = (dir: string, name: string): boolean => {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => d && !d.includes('.tools') && !has(d, 'opa') && !has(d, 'go'))
    .join(path.delimiter);
  const home = path.join(work, 'home');
  const cache = path.join(work, 'cache');
  mkdirSync(home);
  // No KEYWARDEN_* from the caller's environment; a fresh build cache, so every policy is built here.
  const env: NodeJS.ProcessEnv = { PATH, HOME: home, KEYWARDEN_CACHE_DIR: cache, NO_COLOR: '1', npm_config_update_notifier: 'false', LANG: 'C.UTF-8' };
  for (const tool of ['opa', 'go']) check(spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status !== 0, `no ${tool} on the stripped PATH`);
  const warned: string[] = [];
  const keywarden = (args: string[], cwd = project, extra: NodeJS.ProcessEnv = {}): Run => {
    const r = spawnSync('npx', ['--no', 'keywarden', ...args], { cwd, env: { ...env, ...extra }, encoding: 'utf8', timeout: 300_000 });
    if (/ExperimentalWarning/.test(r.stderr)) warned.push(`keywarden ${args.join(' ')}: ${r.stderr}`);
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  // 3. policy validate and eval: the example policy, built by the builder, decides as this checkout does.
  copyFileSync(path.join(root, 'test/fixtures/policy/full.yml'), path.join(project, 'policy.yml'));
  copyFileSync(path.join(root, 'test/fixtures/policy/input.json'), path.join(project, 'input.json'));
  const validate = keywarden(['policy', 'validate', 'policy.yml']);
  check(validate.code === 0 && /policy\.yml: OK/.test(validate.stdout), 'keywarden policy validate', validate.stdout + validate.stderr);
  const t0 = Date.now();
  const evaluated = keywarden(['policy', 'eval', 'policy.yml', '-i', 'input.json', '-f', 'json']);
  log(`policy eval from the package, cold: ${Date.now() - t0} ms (npx, the builder's compile, version, capabilities, check, build)`);
  const reference = spawnSync(process.execPath, [path.join(root, 'bin/keywarden.js'), 'policy', 'eval', 'policy.yml', '-i', 'input.json', '-f', 'json'], {
    cwd: project,
    env: { ...process.env, KEYWARDEN_CACHE_DIR: 'off' },
    encoding: 'utf8',
  });
  const decision = (() => {
    try {
      return JSON.parse(evaluated.stdout) as { violations: Array<{ rule: string }> };
    } catch {
      return undefined;
    }
  })();
  check(evaluated.code === 1 && (decision?.violations.length ?? 0) > 0, 'keywarden policy eval: violations found (exit 1)', evaluated.stdout + evaluated.stderr);
  check(reference.status === 1 && evaluated.stdout === reference.stdout, 'keywarden policy eval: the same decision as this checkout’s CLI', `${evaluated.stdout.slice(0, 800)}\n---\n${reference.stdout.slice(0, 800)}${reference.stderr}`);
  const probes = existsSync(cache) ? readdirSync(cache).filter((f) => f.startsWith('opa-probe-')) : [];
  const versions = probes.map((f) => (JSON.parse(readFileSync(path.join(cache, f), 'utf8')) as { version?: string }).version);
  check(versions.length > 0 && versions.every((v) => v === '1.22.3+wasm'), 'the policy was built by the built-in builder (1.22.3+wasm)', JSON.stringify(versions));

  // 4. scan: freshly generated FAKE secrets are found and never printed.
  const rng = createRng(`pack-smoke-${Date.now()}`);
  const fakes = ['aws-access-key-id', 'github-pat-classic', 'stripe-secret-key'].map((id) => ({ id, ...secretGenerators[id]!(rng) }));
  const fixture = path.join(work, 'fixture');
  mkdirSync(path.join(fixture, 'src'), { recursive: true });
  writeFileSync(path.join(fixture, 'src', 'settings.js'), `${fakes.map((f) => f.line).join('\n')}\n`);
  const scan = keywarden(['scan', fixture, '-f', 'json', '--no-progress']);
  const found = (() => {
    try {
      return new Set((JSON.parse(scan.stdout) as Array<{ ruleId: string }>).map((f) => f.ruleId));
    } catch {
      return new Set<string>();
    }
  })();
  check(scan.code === 1 && fakes.every((f) => found.has(f.id)), 'keywarden scan finds the fake secrets (exit 1)', `${[...found].join(', ')}\n${scan.stdout.slice(0, 1500)}${scan.stderr}`);
  // An AWS access key ID is an identifier, not a secret: the report names it (`identity.id`).
  const secrets = fakes.filter((f) => f.id !== 'aws-access-key-id');
  check(secrets.every((f) => !scan.stdout.includes(f.secret) && !scan.stderr.includes(f.secret)), 'keywarden scan prints no secret');

  // 5. keys on the local keystore, and respond --dry-run with the built-in default policy.
  const state = path.join(work, 'state');
  const keysEnv = { KEYWARDEN_LOCAL_PASSPHRASE: 'pack-smoke-only-passphrase', KEYWARDEN_STATE_DIR: state };
  const created = keywarden(['keys', 'create', '--spec', 'HMAC_256', '--alias', 'pack-smoke', '--reason', 'pack smoke'], project, keysEnv);
  check(created.code === 0, 'keywarden keys create (local keystore)', created.stdout + created.stderr);
  const listed = keywarden(['keys', 'list', '-f', 'json'], project, keysEnv);
  check(listed.code === 0 && listed.stdout.includes('pack-smoke'), 'keywarden keys list', listed.stdout + listed.stderr);
  const repo = path.join(work, 'repo');
  mkdirSync(repo);
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Smoke', GIT_AUTHOR_EMAIL: 'smoke@example.test', GIT_COMMITTER_NAME: 'Smoke', GIT_COMMITTER_EMAIL: 'smoke@example.test' } });
  git('init', '-q', '-b', 'main');
  writeFileSync(path.join(repo, 'README.md'), '# scratch\n');
  git('add', '.');
  git('commit', '-qm', 'init');
  writeFileSync(path.join(repo, 'settings.js'), `${fakes[1]!.line}\n`);
  git('add', '.');
  git('commit', '-qm', 'leak');
  const responded = keywarden(['respond', repo, '--git', 'HEAD~1..HEAD', '--dry-run', '-f', 'json'], project, keysEnv);
  check([0, 1].includes(responded.code) && /github-pat-classic/.test(responded.stdout) && !responded.stdout.includes(fakes[1]!.secret), 'keywarden respond --dry-run (the default policy, built by the builder)', responded.stdout.slice(0, 1500) + responded.stderr);

  // 4b. check: the bundled CLI from the package reports as this checkout's unbundled one.
  const infra = path.join(work, 'infra');
  cpSync(path.join(root, 'test/fixtures/inspect'), infra, { recursive: true });
  // The AWS KMS baseline pack (the default policy has no key rules for declared keys).
  mkdirSync(path.join(infra, '.github'));
  writeFileSync(path.join(infra, '.github', 'keywarden.yml'), 'version: 1\nextends: [keywarden:aws-kms-baseline]\n');
  const checked = keywarden(['check', infra, '-f', 'json']);
  const unbundled = spawnSync(process.execPath, ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(pathToFileURL(path.join(root, 'dist/cli/main.js')).href)}); process.exitCode = await main(process.argv.slice(1));`, 'check', infra, '-f', 'json'], {
    cwd: project,
    env: { ...process.env, KEYWARDEN_CACHE_DIR: 'off' },
    encoding: 'utf8',
  });
  const checkReport = (() => {
    try {
      return JSON.parse(checked.stdout) as { violations: unknown[] };
    } catch {
      return undefined;
    }
  })();
  check(checked.code === 1 && (checkReport?.violations.length ?? 0) > 0, 'keywarden check: violations found in the fixtures (exit 1)', checked.stdout.slice(0, 1500) + checked.stderr);
  check(unbundled.status === 1 && checked.stdout === unbundled.stdout, 'keywarden check: the same report as this checkout’s unbundled CLI', `${checked.stdout.slice(0, 800)}\n---\n${unbundled.stdout.slice(0, 800)}${unbundled.stderr}`);

  // 6. The GitHub App from the package: no secret, no start; with one, it serves until SIGTERM.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const appEnv = { APP_ID: '12345', PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), KEYWARDEN_STATE_DIR: path.join(work, 'app-state'), HOST: '127.0.0.1', PORT: '0' };
  const refused = keywarden(['app'], project, appEnv);
  check(refused.code === 2 && /WEBHOOK_SECRET must be set/.test(refused.stderr), 'keywarden app refuses to start without a webhook secret', refused.stdout + refused.stderr);
  const served = await new Promise<{ health: number; ready: number; exit: number | null; out: string }>((resolve) => {
    // The installed bin itself (npx would take the signal and not pass it on).
    const p = spawn(process.execPath, [path.join(project, 'node_modules', 'keywarden', 'bin', 'keywarden.js'), 'app'], { cwd: project, env: { ...env, ...appEnv, WEBHOOK_SECRET: 'pack-smoke-webhook-secret-0123' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let asked = false;
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1];
      if (!url || asked) return;
      asked = true;
      void (async () => {
        const health = (await fetch(`${url}/healthz`)).status;
        const ready = (await fetch(`${url}/readyz`)).status;
        p.once('exit', (code) => {
          clearTimeout(timer);
          resolve({ health, ready, exit: code, out });
        });
        p.kill('SIGTERM');
      })();
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
  });
  check(served.health === 200 && served.ready === 200, 'keywarden app serves /healthz and /readyz', served.out.slice(0, 2000));
  check(served.exit === 0, 'keywarden app stops on SIGTERM', served.out.slice(-2000));
  if (/ExperimentalWarning/.test(served.out)) warned.push(`keywarden app: ${served.out.slice(0, 500)}`);

  check(warned.length === 0, 'no ExperimentalWarning printed', warned.join('\n'));
} catch (e) {
  failures++;
  log(`FAIL ${e instanceof Error ? e.message : String(e)}`);
} finally {
  if (keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
log(failures === 0 ? 'passed' : `${failures} check(s) failed`);
process.exitCode = failures === 0 ? 0 : 1;
