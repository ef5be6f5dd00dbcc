/**
 * A realistic monorepo with planted fake credentials and hard negatives, generated from a seeded
 * PRNG: the same seed writes the same bytes. Every planted secret is recorded in the manifest by
 * file, line, column, type and SHA-256 (never the value); every hard negative by file, line and
 * category.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createPrng, type Prng } from '../prng.js';
import { B62, B64, B64URL, DIGITS, FORMAT_ONLY, HEX, LOWER, SECRET_TYPES, TYPE_BY_ID, b64, b64url, chars, j, password, username, uuid, type SecretType } from './secrets.js';

export const CORPUS_VERSION = 1;

export interface Planted {
  file: string;
  line: number;
  column: number;
  endLine: number;
  type: string;
  sha256: string;
}

export interface Negative {
  file: string;
  line: number;
  category: string;
}

export interface Manifest {
  version: number;
  seed: string;
  files: number;
  formats: string[];
  secrets: Planted[];
  negatives: Negative[];
}

const sha = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** One file being written: its lines, and where the secrets and negatives are. */
class Doc {
  lines: string[] = [];
  plants: Omit<Planted, 'file'>[] = [];
  negs: Omit<Negative, 'file'>[] = [];
  add(...texts: string[]): this {
    for (const t of texts) this.lines.push(...t.split('\n'));
    return this;
  }
  /** A line (or block) `prefix + shown + suffix`; `secret` is what `shown` encodes (default: itself). */
  put(prefix: string, shown: string, suffix: string, type: string, secret = shown): this {
    const line = this.lines.length + 1;
    const pre = prefix.split('\n');
    const startLine = line + pre.length - 1;
    const column = (pre[pre.length - 1] ?? '').length + 1;
    this.add(prefix + shown + suffix);
    const endLine = startLine + shown.split('\n').length - 1;
    if (!(this.lines[startLine - 1] ?? '').slice(column - 1).startsWith(shown.split('\n')[0] ?? '')) throw new Error(`corpus: a plant of ${type} is not where the manifest says`);
    this.plants.push({ line: startLine, column, endLine, type, sha256: sha(secret) });
    return this;
  }
  neg(text: string, category: string): this {
    this.negs.push({ line: this.lines.length + 1, category });
    return this.add(text);
  }
}

interface FileOut {
  path: string;
  doc: Doc;
  eol: '\n' | '\r\n';
  utf16?: boolean;
}

type Style = 'env' | 'yaml' | 'json' | 'props' | 'ini' | 'py' | 'js' | 'ts' | 'go' | 'java' | 'cs' | 'rb' | 'php' | 'sh' | 'make' | 'tf' | 'xml' | 'ps1';

const camel = (env: string): string => env.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (env: string): string => env.toLowerCase();
const dotted = (env: string): string => env.toLowerCase().replace(/_/g, '.');
const pascal = (env: string): string => camel(env).replace(/^./, (c) => c.toUpperCase());

/** How a value named `env` is assigned in `style`: the text before and after the value. */
function assign(style: Style, env: string, rng: Prng): [string, string] {
  switch (style) {
    case 'env': return rng.next() < 0.3 ? [`${env}="`, '"'] : [`${env}=`, ''];
    case 'yaml': return rng.next() < 0.5 ? [`  ${snake(env)}: "`, '"'] : [`  ${snake(env)}: `, ''];
    case 'json': return [`  "${camel(env)}": "`, '",'];
    case 'props': return [`app.${dotted(env)}=`, ''];
    case 'ini': return [`${snake(env)} = `, ''];
    case 'py': return rng.next() < 0.5 ? [`${env} = "`, '"'] : [`${snake(env)} = os.environ.get("${env}", "`, '")'];
    case 'js': return rng.next() < 0.5 ? [`const ${camel(env)} = '`, "';"] : [`  ${camel(env)}: "`, '",'];
    case 'ts': return [`export const ${env}: string = "`, '";'];
    case 'go': return [`\t${camel(env)} = "`, '"'];
    case 'java': return [`    private static final String ${env} = "`, '";'];
    case 'cs': return [`        private const string ${pascal(env)} = "`, '";'];
    case 'rb': return rng.next() < 0.5 ? [`${env} = '`, "'"] : [`  config.${snake(env)} = "`, '"'];
    case 'php': return rng.next() < 0.5 ? [`define('${env}', '`, "');"] : [`    '${snake(env)}' => '`, "',"];
    case 'sh': return [`export ${env}="`, '"'];
    case 'make': return [`${env} ?= `, ''];
    case 'tf': return [`  ${snake(env)} = "`, '"'];
    case 'xml': return [`    <add key="${pascal(env)}" value="`, '" />'];
    case 'ps1': return [`$env:${env} = "`, '"'];
  }
}

/** Plants `type` as an assignment in `style`; multi-line keys become `\n` escapes or a block. */
function plantAssign(d: Doc, style: Style, t: SecretType, rng: Prng): void {
  const value = t.gen(rng);
  let [pre, post] = assign(style, t.env, rng);
  if (t.multiline) {
    if (style === 'yaml') return void d.put(`  ${snake(t.env)}: |\n    `, value.replace(/\n/g, '\n    '), '', t.id, value);
    if (style === 'env' || style === 'sh') return void d.put(`${t.env}="`, value, '"', t.id, value);
    if (style === 'rb' || style === 'props' || style === 'ini' || style === 'make' || style === 'xml') [pre, post] = assign('env', t.env, rng);
    return void d.put(pre, value.replace(/\n/g, '\\n'), post, t.id, value);
  }
  d.put(pre, value, post, t.id);
}

const FILLER: [string, string][] = [
  ['PORT', '8080'], ['LOG_LEVEL', 'info'], ['AWS_REGION', 'eu-west-1'], ['REQUEST_TIMEOUT_MS', '3000'], ['SERVICE_NAME', 'billing-api'],
  ['CACHE_TTL', '600'], ['FEATURE_NEW_CHECKOUT', 'true'], ['MAX_CONNECTIONS', '50'], ['REDIS_HOST', 'redis.internal'], ['SENTRY_ENVIRONMENT', 'production'],
  ['BUCKET_NAME', 'acme-assets-prod'], ['QUEUE_URL', 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs'], ['OTEL_SERVICE_NAME', 'orders'],
];

function filler(d: Doc, style: Style, rng: Prng, n: number): void {
  for (let i = 0; i < n; i++) {
    const [k, v] = rng.pick(FILLER);
    const [pre, post] = assign(style, k, rng);
    d.add(pre + v + post);
  }
}

const AWS_DOC_ID = j('AKIA', 'IOSFODNN7', 'EXAMPLE');
const AWS_DOC_SECRET = j('wJalrXUtnFEMI', '/K7MDENG/', 'bPxRfiCY', 'EXAMPLEKEY');
const STRIPE_DOC_TEST = j('sk_', 'test_', '4eC39HqLyjWDarjtT1zdp7dc');

/** A hard negative value: [name, value, category]. */
function negative(rng: Prng): [string, string, string] {
  const options: (() => [string, string, string])[] = [
    () => ['AWS_ACCESS_KEY_ID', AWS_DOC_ID, 'documented-example'],
    () => ['AWS_SECRET_ACCESS_KEY', AWS_DOC_SECRET, 'documented-example'],
    () => ['STRIPE_SECRET_KEY', STRIPE_DOC_TEST, 'documented-example'],
    () => [rng.pick(['API_KEY', 'OPENAI_API_KEY', 'GITHUB_TOKEN']), rng.pick(['<your-api-key>', 'your_api_key_here', 'REPLACE_ME', 'xxxxxxxxxxxxxxxxxxxxxxxx', 'TODO']), 'placeholder'],
    () => [rng.pick(['DB_PASSWORD', 'ADMIN_PASSWORD', 'SECRET']), rng.pick(['changeme', 'password', '********', '']), 'placeholder'],
    () => [rng.pick(['API_KEY', 'STRIPE_SECRET_KEY', 'SENDGRID_API_KEY']), rng.pick(['${API_KEY}', '${STRIPE_SECRET_KEY:?}', '$(cat /run/secrets/api_key)', '{{ .Values.apiKey }}']), 'env-reference'],
    () => [rng.pick(['ARTIFACT_SHA256', 'CHECKSUM']), chars(rng, HEX, 64), 'hash'],
    () => [rng.pick(['GIT_COMMIT', 'BUILD_SHA']), chars(rng, HEX, 40), 'hash'],
    () => ['PASSWORD_HASH', `$2b$12$${chars(rng, B62 + './', 53)}`, 'hash'],
    () => [rng.pick(['TENANT_ID', 'REQUEST_ID', 'CLIENT_ID']), uuid(rng), 'uuid'],
    () => ['STRIPE_PUBLISHABLE_KEY', j('pk_', 'live_') + chars(rng, B62, 99), 'publishable-key'],
    () => ['MAPBOX_TOKEN', `pk.${b64url(JSON.stringify({ u: 'acme', a: chars(rng, LOWER + DIGITS, 12) }))}.${chars(rng, B64URL, 22)}`, 'publishable-key'],
  ];
  return rng.pick(options)();
}

function plantNegative(d: Doc, style: Style, rng: Prng): void {
  const [k, v, cat] = negative(rng);
  const [pre, post] = assign(style, k, rng);
  d.neg(pre + v + post, cat);
}

const LICENSE_HEADER = ['// Copyright (c) Acme Corp.', '// SPDX-License-Identifier: Apache-2.0'];

interface Ctx {
  rng: Prng;
  /** The next generic credential type to plant. */
  next(): SecretType;
  type(id: string): SecretType;
  file(p: string, d: Doc, opts?: { crlf?: boolean; utf16?: boolean }): void;
}

/** A file of assignments in one style: filler, some secrets, a hard negative or two. */
function configFile(c: Ctx, p: string, style: Style, head: string[], tail: string[], secrets: number, opts?: { crlf?: boolean; utf16?: boolean }): void {
  const d = new Doc().add(...head);
  for (let i = 0; i < secrets; i++) {
    filler(d, style, c.rng, 1 + c.rng.int(3));
    plantAssign(d, style, c.next(), c.rng);
    if (c.rng.next() < 0.5) plantNegative(d, style, c.rng);
  }
  filler(d, style, c.rng, 2);
  d.add(...tail);
  c.file(p, d, opts);
}

function dbUri(rng: Prng, pw: string, encode: boolean): string {
  const scheme = rng.pick(['postgres', 'postgresql', 'mysql', 'mongodb+srv', 'redis', 'rediss', 'amqp', 'mariadb', 'mssql']);
  const host = rng.pick(['db.internal', 'prod-db.cluster-c9xk.eu-west-1.rds.amazonaws.com', 'cache.acme.io', 'cluster0.ab12c.mongodb.net', '10.0.3.17']);
  const shown = encode ? encodeURIComponent(pw) : pw;
  return scheme === 'redis' || scheme === 'rediss' ? `${scheme}://:${shown}@${host}:6379/0` : `${scheme}://${username(rng)}:${shown}@${host}/app`;
}

/** Plants a DB URI; the column points at the URI, the hash is of the password. */
function putDbUri(d: Doc, pre: string, post: string, rng: Prng): void {
  const pw = password(rng) + (rng.next() < 0.3 ? '@/' : '');
  const uri = dbUri(rng, pw, true);
  d.put(pre, uri, post, 'db-uri-password', pw);
}

const SERVICES = ['billing', 'orders', 'auth', 'search', 'notifications', 'gateway', 'reporting', 'inventory', 'payments', 'users', 'media', 'analytics'];

function build(c: Ctx): void {
  const { rng } = c;
  const svcs = SERVICES;
  // ---- .env files
  for (const s of svcs) {
    configFile(c, `services/${s}/.env`, 'env', ['# local overrides — do not commit'], [], 3 + rng.int(2), { crlf: rng.next() < 0.25 });
    if (rng.next() < 0.6) {
      const d = new Doc().add('NODE_ENV=production');
      putDbUri(d, 'DATABASE_URL=', '', rng);
      filler(d, 'env', rng, 2);
      plantAssign(d, 'env', c.next(), rng);
      d.neg('SENDGRID_API_KEY=${SENDGRID_API_KEY}', 'env-reference');
      c.file(`services/${s}/.env.production`, d);
    }
    if (rng.next() < 0.6) configFile(c, `services/${s}/.env.staging`, 'env', ['# staging'], [], 2);
    c.file(`services/${s}/.env.example`, new Doc().add('PORT=8080').neg('STRIPE_SECRET_KEY=<your-stripe-secret-key>', 'placeholder').neg('DATABASE_URL=postgres://user:password@localhost:5432/app', 'placeholder').neg('OPENAI_API_KEY=', 'placeholder'));
  }
  // ---- docker-compose, Dockerfile
  {
    const d = new Doc().add("version: '3.9'", 'services:');
    for (const s of svcs.slice(0, 6)) {
      d.add(`  ${s}:`, `    image: ghcr.io/acme/${s}:1.4.2`, '    environment:');
      const t = c.next();
      if (!t.multiline) d.put(`      - ${t.env}=`, t.gen(rng), '', t.id);
      d.add('      - LOG_LEVEL=info');
      if (rng.next() < 0.5) d.neg('      - API_KEY=${API_KEY}', 'env-reference');
    }
    d.add('  db:', '    image: postgres:16', '    environment:');
    d.put('      POSTGRES_PASSWORD: ', password(rng), '', 'generic-password');
    d.add('  mongo:', '    image: mongo:7', '    environment:');
    putDbUri(d, '      ME_CONFIG_MONGODB_URL: "', '"', rng);
    c.file('docker-compose.yml', d);
  }
  for (const s of svcs.slice(0, 8)) {
    const d = new Doc().add('FROM node:20-alpine AS build', 'WORKDIR /app', 'ARG NPM_TOKEN', 'COPY package*.json ./');
    if (rng.next() < 0.6) {
      const t = c.next();
      if (!t.multiline) d.put(`ENV ${t.env}=`, t.gen(rng), '', t.id);
    }
    if (rng.next() < 0.4) d.put(`RUN curl -fsSL -u ${username(rng)}:`, password(rng), ' https://artifacts.acme.io/tools.tgz | tar xz', 'curl-user-password');
    d.add('RUN npm ci --omit=dev', 'COPY . .', 'CMD ["node", "dist/index.js"]');
    c.file(`services/${s}/Dockerfile`, d);
  }
  // ---- Kubernetes
  for (const s of svcs) {
    const d = new Doc().add('apiVersion: apps/v1', 'kind: Deployment', 'metadata:', `  name: ${s}`, 'spec:', '  replicas: 3', '  template:', '    spec:', '      containers:', `        - name: ${s}`, `          image: ghcr.io/acme/${s}:2.0.1`, '          env:');
    for (let i = 0; i < 1 + rng.int(2); i++) {
      const t = c.next();
      d.add(`            - name: ${t.env}`);
      if (t.multiline) d.put('              value: "', t.gen(rng).replace(/\n/g, '\\n'), '"', t.id);
      else { const v = t.gen(rng); d.put('              value: "', v, '"', t.id, v); }
    }
    d.add('            - name: DB_PASSWORD', '              valueFrom:', '                secretKeyRef:', `                  name: ${s}-db`, '                  key: password');
    c.file(`deploy/k8s/${s}/deployment.yaml`, d);
    if (rng.next() < 0.7) {
      const sd = new Doc().add('apiVersion: v1', 'kind: Secret', 'metadata:', `  name: ${s}-secrets`, 'type: Opaque', 'data:');
      for (let i = 0; i < 2; i++) {
        const t = c.next();
        const v = t.gen(rng);
        sd.put(`  ${snake(t.env)}: `, b64(v), '', t.id, v);
      }
      const pw = password(rng);
      sd.put('  password: ', b64(pw), '', 'generic-password', pw);
      sd.add('stringData:');
      const t = c.next();
      if (t.multiline) plantAssign(sd, 'yaml', t, rng);
      else sd.put(`  ${snake(t.env)}: "`, t.gen(rng), '"', t.id);
      c.file(`deploy/k8s/${s}/secret.yaml`, sd);
    }
  }
  // ---- Helm
  for (const s of svcs) configFile(c, `deploy/helm/${s}/values.yaml`, 'yaml', ['replicaCount: 2', 'image:', `  repository: ghcr.io/acme/${s}`, '  tag: "3.1.0"', 'config:'], ['resources:', '  limits:', '    cpu: 500m'], 2);
  // ---- Terraform
  {
    const d = new Doc().add('terraform {', '  required_version = ">= 1.6"', '}', '', 'provider "aws" {', '  region     = "eu-west-1"');
    d.put('  access_key = "', c.type('aws-access-key-id').gen(rng), '"', 'aws-access-key-id');
    d.put('  secret_key = "', c.type('aws-secret-access-key').gen(rng), '"', 'aws-secret-access-key');
    d.add('}', '', 'resource "aws_db_instance" "main" {', '  engine   = "postgres"', '  username = "app"');
    d.put('  password = "', password(rng), '"', 'generic-password');
    d.add('}', '', 'provider "cloudflare" {');
    d.put('  api_token = "', c.type('cloudflare-api-token').gen(rng), '"', 'cloudflare-api-token');
    d.add('}', '', 'provider "digitalocean" {');
    d.put('  token = "', c.type('digitalocean-token').gen(rng), '"', 'digitalocean-token');
    d.add('}', 'provider "datadog" {');
    d.put('  api_key = "', c.type('datadog-api-key').gen(rng), '"', 'datadog-api-key');
    d.add('  app_key = var.datadog_app_key', '}');
    c.file('infra/terraform/main.tf', d);
    const v = new Doc().add('variable "db_password" {', '  type      = string', '  sensitive = true');
    v.put('  default   = "', password(rng), '"', 'generic-password');
    v.add('}', 'variable "region" {', '  default = "eu-west-1"', '}');
    v.neg('variable "api_key" { default = "" }', 'placeholder');
    c.file('infra/terraform/variables.tf', v);
    for (const env of ['prod', 'staging']) configFile(c, `infra/terraform/${env}.tfvars`, 'ini', [`environment = "${env}"`], [], 3);
    const st = new Doc().add('{', '  "version": 4,', '  "terraform_version": "1.7.5",', `  "serial": ${rng.int(900)},`, `  "lineage": "${uuid(rng)}",`, '  "resources": [', '    {', '      "type": "aws_iam_access_key",', '      "name": "ci",', '      "instances": [', '        {', '          "attributes": {');
    st.put('            "id": "', c.type('aws-access-key-id').gen(rng), '",', 'aws-access-key-id');
    st.put('            "secret": "', c.type('aws-secret-access-key').gen(rng), '",', 'aws-secret-access-key');
    st.add('            "status": "Active",', '            "user": "ci"', '          }', '        }', '      ]', '    },', '    {', '      "type": "random_password",', '      "name": "db",', '      "instances": [', '        {', '          "attributes": {');
    st.put('            "result": "', password(rng), '",', 'generic-password');
    st.add('            "length": 24', '          }', '        }', '      ]', '    }', '  ]', '}');
    c.file('infra/terraform/terraform.tfstate', st);
  }
  // ---- CloudFormation
  {
    const d = new Doc().add("AWSTemplateFormatVersion: '2010-09-09'", 'Parameters:', '  DBPassword:', '    Type: String', '    NoEcho: true');
    d.put('    Default: ', password(rng), '', 'generic-password');
    d.add('Resources:', '  Database:', '    Type: AWS::RDS::DBInstance', '    Properties:', '      Engine: mysql', '      MasterUsername: admin');
    d.put('      MasterUserPassword: ', password(rng), '', 'generic-password');
    d.add('  Fn:', '    Type: AWS::Lambda::Function', '    Properties:', '      Environment:', '        Variables:');
    const t = c.next();
    if (!t.multiline) d.put(`          ${t.env}: `, t.gen(rng), '', t.id);
    d.neg('          DB_PASSWORD: !Ref DBPassword', 'env-reference');
    c.file('infra/cloudformation/stack.yaml', d);
  }
  // ---- GitHub Actions
  for (const name of ['ci', 'release', 'deploy']) {
    const d = new Doc().add(`name: ${name}`, 'on: [push]', 'jobs:', '  build:', '    runs-on: ubuntu-latest', '    env:');
    d.neg('      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}', 'env-reference');
    if (name !== 'ci') {
      const t = c.next();
      if (!t.multiline) d.put(`      ${t.env}: `, t.gen(rng), '', t.id);
    }
    d.add('    steps:', '      - uses: actions/checkout@v4', '      - run: npm ci && npm test');
    if (name === 'deploy') d.put('      - run: curl -sf -H "Authorization: Bearer ', c.type('bearer-token').gen(rng), '" https://deploy.acme.io/hooks/prod', 'bearer-token');
    c.file(`.github/workflows/${name}.yml`, d);
  }
  // ---- dotfiles
  {
    const n = new Doc().add('registry=https://registry.npmjs.org/', '@acme:registry=https://npm.pkg.github.com/');
    n.put('//registry.npmjs.org/:_authToken=', c.type('npm-token').gen(rng), '', 'npm-token');
    n.put('//npm.pkg.github.com/:_authToken=', c.type('github-pat-classic').gen(rng), '', 'github-pat-classic');
    const up = `${username(rng)}:${password(rng)}`;
    n.put('//artifacts.acme.io/npm/:_auth=', b64(up), '', 'npmrc-auth', up);
    n.add('always-auth=true');
    c.file('.npmrc', n);
    c.file('services/web/.npmrc', new Doc().neg('//registry.npmjs.org/:_authToken=${NPM_TOKEN}', 'env-reference'));
    const p = new Doc().add('[distutils]', 'index-servers =', '    pypi', '    internal', '', '[pypi]', 'username = __token__');
    p.put('password = ', c.type('pypi-token').gen(rng), '', 'pypi-token');
    p.add('', '[internal]', 'repository = https://pypi.acme.io/simple', `username = ${username(rng)}`);
    p.put('password = ', password(rng), '', 'generic-password');
    c.file('tools/.pypirc', p);
    const nr = new Doc();
    nr.put('machine api.heroku.com login ops@acme.io password ', c.type('heroku-api-key').gen(rng), '', 'heroku-api-key');
    nr.add('machine ftp.acme.io', `  login ${username(rng)}`);
    nr.put('  password ', password(rng), '', 'netrc-password');
    c.file('ops/.netrc', nr);
    const gc = new Doc();
    gc.put(`https://${username(rng)}:`, c.type('github-pat-classic').gen(rng), '@github.com', 'github-pat-classic');
    gc.put('https://x-access-token:', c.type('github-app-installation-token').gen(rng), '@github.com', 'github-app-installation-token');
    gc.put(`https://oauth2:`, c.type('gitlab-pat').gen(rng), '@gitlab.com', 'gitlab-pat');
    c.file('ops/.git-credentials', gc);
    const aws = new Doc().add('[default]');
    aws.put('aws_access_key_id = ', c.type('aws-access-key-id').gen(rng), '', 'aws-access-key-id');
    aws.put('aws_secret_access_key = ', c.type('aws-secret-access-key').gen(rng), '', 'aws-secret-access-key');
    aws.add('', '[temp]');
    aws.put('aws_access_key_id = ', c.type('aws-temporary-access-key-id').gen(rng), '', 'aws-temporary-access-key-id');
    aws.put('aws_secret_access_key = ', c.type('aws-secret-access-key').gen(rng), '', 'aws-secret-access-key');
    aws.put('aws_session_token = ', c.type('aws-session-token').gen(rng), '', 'aws-session-token');
    aws.add('', '[docs]').neg(`aws_access_key_id = ${AWS_DOC_ID}`, 'documented-example').neg(`aws_secret_access_key = ${AWS_DOC_SECRET}`, 'documented-example');
    c.file('ops/home/.aws/credentials', aws);
    const dk = new Doc().add('{', '  "auths": {', '    "https://index.docker.io/v1/": {');
    const dup = `acmebot:${c.type('dockerhub-pat').gen(rng)}`;
    dk.put('      "auth": "', b64(dup), '"', 'docker-config-auth', dup);
    dk.add('    },', '    "ghcr.io": {');
    const gup = `acme:${c.type('github-pat-classic').gen(rng)}`;
    dk.put('      "auth": "', b64(gup), '"', 'docker-config-auth', gup);
    dk.add('    }', '  },', '  "credsStore": "desktop"', '}');
    c.file('ops/home/.docker/config.json', dk);
  }
  // ---- Java / Spring / .NET / Android
  {
    const p = new Doc().add('spring.application.name=orders', 'server.port=8080');
    const jdbcPw = password(rng);
    p.put('spring.datasource.url=jdbc:postgresql://db.internal:5432/orders?user=orders&password=', jdbcPw, '', 'db-uri-password');
    p.put('spring.datasource.password=', password(rng), '', 'generic-password');
    p.put('spring.mail.password=', c.type('sendgrid-api-key').gen(rng), '', 'sendgrid-api-key');
    filler(p, 'props', rng, 3);
    plantAssign(p, 'props', c.next(), rng);
    c.file('services/orders/src/main/resources/application.properties', p, { crlf: true });
    const y = new Doc().add('spring:', '  datasource:', '    url: jdbc:mysql://db.internal:3306/billing', '    username: billing');
    y.put('    password: ', password(rng), '', 'generic-password');
    y.add('  security:', '    oauth2:', '      client:', '        registration:', '          google:', `            client-id: ${chars(rng, DIGITS, 12)}-${chars(rng, LOWER + DIGITS, 32)}.apps.googleusercontent.com`);
    y.put('            client-secret: ', j('GOC', 'SPX-') + chars(rng, B64URL, 28), '', 'generic-client-secret');
    y.add('app:');
    plantAssign(y, 'yaml', c.next(), rng);
    c.file('services/billing/src/main/resources/application.yml', y);
    const a = new Doc().add('{', '  "Logging": { "LogLevel": { "Default": "Information" } },', '  "ConnectionStrings": {');
    const cpw = password(rng);
    a.put('    "Default": "Server=tcp:acme-sql.database.windows.net,1433;Database=app;User ID=app;Password=', cpw, ';Encrypt=True;"', 'connection-string-password');
    a.put('    "Storage": "', c.type('azure-storage-connection-string').gen(rng), '"', 'azure-storage-connection-string');
    a.add('  },', '  "AzureAd": {', '    "Instance": "https://login.microsoftonline.com/",', `    "TenantId": "${uuid(rng)}",`, `    "ClientId": "${uuid(rng)}",`);
    a.put('    "ClientSecret": "', c.type('azure-entra-client-secret').gen(rng), '"', 'azure-entra-client-secret');
    a.add('  }', '}');
    c.file('services/reporting/appsettings.json', a, { crlf: true });
    const w = new Doc().add('<?xml version="1.0" encoding="utf-8"?>', '<configuration>', '  <connectionStrings>');
    w.put('    <add name="Main" connectionString="Data Source=sql01;Initial Catalog=Legacy;User Id=sa;Password=', password(rng), ';" providerName="System.Data.SqlClient" />', 'connection-string-password');
    w.add('  </connectionStrings>', '  <appSettings>');
    for (let i = 0; i < 2; i++) plantAssign(w, 'xml', c.next(), rng);
    w.neg('    <add key="Password" value="" />', 'placeholder');
    w.add('  </appSettings>', '</configuration>');
    c.file('legacy/portal/web.config', w, { crlf: true });
    const sx = new Doc().add('<?xml version="1.0" encoding="utf-8"?>', '<resources>', '    <string name="app_name">Acme</string>');
    sx.put('    <string name="google_maps_key">', c.type('google-api-key').gen(rng), '</string>', 'google-api-key');
    sx.neg('    <string name="password">Password</string>', 'i18n');
    sx.neg('    <string name="password_hint">Enter your password</string>', 'i18n');
    sx.add('</resources>');
    c.file('mobile/android/app/src/main/res/values/strings.xml', sx);
  }
  // ---- Python / Django / Rails / PHP
  {
    const d = new Doc().add('import os', 'from pathlib import Path', '', 'BASE_DIR = Path(__file__).resolve().parent.parent');
    d.put("SECRET_KEY = '", c.type('django-secret-key').gen(rng), "'", 'django-secret-key');
    d.add('DEBUG = False', "ALLOWED_HOSTS = ['acme.io']", 'DATABASES = {', "    'default': {", "        'ENGINE': 'django.db.backends.postgresql',", "        'NAME': 'app',", "        'USER': 'app',");
    d.put("        'PASSWORD': '", password(rng), "',", 'generic-password');
    d.add("        'HOST': 'db.internal',", '    }', '}');
    d.put("EMAIL_HOST_PASSWORD = '", c.type('mailgun-api-key').gen(rng), "'", 'mailgun-api-key');
    d.neg("AWS_SECRET_ACCESS_KEY = os.environ['AWS_SECRET_ACCESS_KEY']", 'env-reference');
    c.file('services/search/app/settings.py', d);
    const r = new Doc().add('default: &default', '  adapter: postgresql', '  pool: 5', '', 'development:', '  <<: *default', '  database: app_dev', '  password: postgres', '', 'production:', '  <<: *default', '  database: app_prod', '  username: app');
    r.put('  password: ', password(rng), '', 'generic-password');
    c.file('services/users/config/database.yml', r);
    const cr = new Doc().add('production:');
    cr.put('  secret_key_base: ', c.type('rails-secret-key-base').gen(rng), '', 'rails-secret-key-base');
    c.file('services/users/config/secrets.yml', cr);
    const ph = new Doc().add('<?php', "define('DB_NAME', 'wordpress');", "define('DB_USER', 'wp');");
    ph.put("define('DB_PASSWORD', '", password(rng), "');", 'generic-password');
    ph.add("define('DB_HOST', 'localhost');");
    ph.put("define('AUTH_KEY', '", chars(rng, B62 + '!@#$%^&*()-_[]{}<>~+=,.;:/?|', 64), "');", 'generic-client-secret');
    ph.add('$config = [');
    for (let i = 0; i < 2; i++) plantAssign(ph, 'php', c.next(), rng);
    ph.add('];');
    c.file('legacy/blog/wp-config.php', ph);
  }
  // ---- Source code in many languages
  const langs: [Style, string, string[], string[]][] = [
    ['py', 'py', ['import os', 'import requests', ''], ['', 'def client():', '    return requests.Session()']],
    ['js', 'js', ["'use strict';", "const axios = require('axios');", ''], ['', 'module.exports = { axios };']],
    ['ts', 'ts', ["import { Client } from './client.js';", ''], ['', 'export const client = new Client();']],
    ['go', 'go', ['package config', '', 'const ('], [')']],
    ['java', 'java', ['package io.acme.config;', '', 'public final class Keys {'], ['}']],
    ['cs', 'cs', ['namespace Acme.Config', '{', '    public static class Keys', '    {'], ['    }', '}']],
    ['rb', 'rb', ["require 'net/http'", '', 'Acme.configure do |config|'], ['end']],
    ['php', 'php', ['<?php', 'return ['], ['];']],
    ['sh', 'sh', ['#!/usr/bin/env bash', 'set -euo pipefail'], ['', 'exec node dist/index.js']],
  ];
  for (const s of svcs) {
    for (const [style, ext, head, tail] of rng.shuffle(langs).slice(0, 4)) {
      const name = rng.pick(['config', 'settings', 'client', 'keys', 'constants', 'secrets', 'integrations']);
      const header = style === 'py' || style === 'rb' || style === 'sh' ? ['# Copyright (c) Acme Corp.'] : style === 'php' ? [] : LICENSE_HEADER;
      configFile(c, `services/${s}/src/${name}.${ext}`, style, [...(style === 'php' ? [] : header), ...head], tail, 1 + rng.int(3));
    }
  }
  // split across concatenation, on one line and across two
  for (let i = 0; i < 6; i++) {
    const t = c.type(rng.pick(['github-pat-classic', 'stripe-secret-key', 'slack-bot-token', 'openai-api-key', 'sendgrid-api-key', 'npm-token']));
    const v = t.gen(rng);
    const cut = 8 + rng.int(8);
    const d = new Doc().add(...LICENSE_HEADER, "import { request } from './http.js';", '');
    if (i % 2 === 0) d.put(`const ${camel(t.env)} = "`, `${v.slice(0, cut)}" + "${v.slice(cut)}`, '";', t.id, v);
    else d.put(`const ${camel(t.env)} =\n  '`, `${v.slice(0, cut)}' +\n  '${v.slice(cut)}`, "';", t.id, v);
    d.add('', `export const call = () => request({ token: ${camel(t.env)} });`);
    c.file(`packages/sdk-${i}/src/auth.ts`, d);
  }
  // ---- shell + curl, Makefile
  for (let i = 0; i < 5; i++) {
    const d = new Doc().add('#!/usr/bin/env bash', 'set -euo pipefail', '');
    d.put(j('curl -sS -u', ' admin:'), password(rng), ' https://jenkins.acme.io/job/deploy/build', 'curl-user-password');
    d.put('curl -H "Authorization: Bearer ', c.type('bearer-token').gen(rng), '" https://api.acme.io/v1/health', 'bearer-token');
    const up = `${username(rng)}:${password(rng)}`;
    d.put('curl -H "Authorization: Basic ', b64(up), '" https://registry.acme.io/v2/_catalog', 'generic-password', up);
    const pw = password(rng);
    d.put(`git clone https://${username(rng)}:`, pw, '@git.acme.io/platform/infra.git', 'basic-auth-url');
    d.put('curl -X POST -H "Content-type: application/json" --data \'{"text":"deployed"}\' ', c.type('slack-webhook-url').gen(rng), '', 'slack-webhook-url');
    d.neg('curl -H "Authorization: Bearer $API_TOKEN" https://api.acme.io/v1/me', 'env-reference');
    d.neg('curl -u "$USER:$PASS" https://example.com', 'env-reference');
    c.file(`scripts/ops-${i}.sh`, d);
  }
  configFile(c, 'Makefile', 'make', ['.PHONY: build deploy', ''], ['', 'deploy:', '\t./scripts/deploy.sh'], 3);
  // ---- Jupyter notebooks
  for (let i = 0; i < 4; i++) {
    const d = new Doc().add('{', ' "cells": [', '  {', '   "cell_type": "code",', '   "execution_count": 1,', '   "metadata": {},', '   "outputs": [],', '   "source": [', '    "import openai\\n",');
    const t = c.next();
    const v = t.gen(rng);
    d.put(`    "${camel(t.env)} = \\"`, t.multiline ? v.replace(/\n/g, '\\\\n') : v, '\\"\\n",', t.id, v);
    d.put('    "client = OpenAI(api_key=\\"', c.type('openai-api-key').gen(rng), '\\")"', 'openai-api-key');
    d.add('   ]', '  }', ' ],', ' "metadata": { "kernelspec": { "name": "python3" } },', ' "nbformat": 4,', ' "nbformat_minor": 5', '}');
    c.file(`notebooks/analysis-${i}.ipynb`, d);
  }
  // ---- minified bundle: one long line, several secrets
  {
    const d = new Doc();
    let line = '!function(){"use strict";var e={};';
    const plants: [number, string, string][] = [];
    for (let i = 0; i < 6; i++) {
      line += `function t${i}(n){return n*${i}}var a${i}="${chars(rng, LOWER, 12)}";`;
      const t = c.type(rng.pick(['google-api-key', 'stripe-secret-key', 'sendgrid-api-key', 'slack-webhook-url', 'github-pat-fine-grained', 'anthropic-api-key', 'linear-api-key']));
      const v = t.gen(rng);
      line += `e.${camel(t.env)}="`;
      plants.push([line.length + 1, t.id, v]);
      line += `${v}";`;
    }
    line += `e.publishableKey="${j('pk_', 'live_')}${chars(rng, B62, 24)}";window.__CFG__=e}();`;
    d.add('/*! acme-web v4.2.0 */', line);
    for (const [col, type, v] of plants) d.plants.push({ line: 2, column: col, endLine: 2, type, sha256: sha(v) });
    c.file('apps/web/dist/assets/index-4f2a9c.min.js', d);
  }
  // ---- GCP service-account JSON
  for (let i = 0; i < 3; i++) {
    const key = c.type('gcp-service-account-key').gen(rng);
    const proj = `acme-${chars(rng, LOWER, 6)}`;
    const d = new Doc().add('{', '  "type": "service_account",', `  "project_id": "${proj}",`, `  "private_key_id": "${chars(rng, HEX, 40)}",`);
    d.put('  "private_key": "', key.replace(/\n/g, '\\n') + '\\n', '",', 'gcp-service-account-key', key);
    d.add(`  "client_email": "deployer@${proj}.iam.gserviceaccount.com",`, `  "client_id": "${chars(rng, DIGITS, 21)}",`, '  "auth_uri": "https://accounts.google.com/o/oauth2/auth",', '  "token_uri": "https://oauth2.googleapis.com/token"', '}');
    c.file(`infra/gcp/${proj}-sa.json`, d);
  }
  // ---- PEM and key files
  const keyFiles = [
    ['private-key-openssh', 'ops/keys/id_rsa'],
    ['private-key-openssh', 'ops/keys/deploy_ed25519'],
    ['private-key-pkcs8', 'services/gateway/certs/server.key'],
    ['private-key-rsa', 'services/auth/keys/jwt-signing.pem'],
    ['private-key-ec', 'services/payments/keys/ec.pem'],
    ['private-key-putty', 'ops/keys/bastion.ppk'],
  ] as const;
  for (const [id, p] of keyFiles) {
    const v = c.type(id).gen(rng);
    c.file(p, new Doc().put('', v, '', id), { crlf: p.endsWith('.ppk') });
  }
  {
    const cert = new Doc().add(j('-----BEGIN ', 'CERTIFICATE-----'));
    const body = chars(rng, B64, 1100);
    for (let k = 0; k < body.length; k += 64) cert.neg(body.slice(k, k + 64), 'public-key');
    cert.add(j('-----END ', 'CERTIFICATE-----'));
    c.file('services/gateway/certs/ca.pem', cert);
    const pub = new Doc().neg(`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${chars(rng, B64, 43)} deploy@acme`, 'public-key');
    c.file('ops/keys/deploy_ed25519.pub', pub);
    const pk = new Doc().add(j('-----BEGIN ', 'PUBLIC KEY-----'));
    for (let k = 0; k < 6; k++) pk.neg(chars(rng, B64, 64), 'public-key');
    pk.add(j('-----END ', 'PUBLIC KEY-----'));
    c.file('services/auth/keys/jwt-signing.pub.pem', pk);
  }
  // ---- docs
  for (let i = 0; i < 4; i++) {
    const d = new Doc().add(`# ${rng.pick(SERVICES)} service`, '', '## Quick start', '', '```sh');
    d.neg('export OPENAI_API_KEY=<your-api-key>', 'placeholder');
    d.neg(`export AWS_ACCESS_KEY_ID=${AWS_DOC_ID}`, 'documented-example');
    d.neg(`curl https://api.stripe.com/v1/charges -u ${STRIPE_DOC_TEST}:`, 'documented-example');
    d.add('```', '', 'For the staging environment use:', '', '```');
    const t = c.next();
    if (!t.multiline) d.put(`${t.env}=`, t.gen(rng), '', t.id);
    d.add('```', '', 'The password field in the login form is labelled "Password".');
    c.file(`docs/${i === 0 ? 'README' : `guide-${i}`}.md`, d);
  }
  // ---- UTF-16 PowerShell
  {
    const d = new Doc().add('# Windows deploy helper', 'Set-StrictMode -Version Latest');
    for (let i = 0; i < 2; i++) plantAssign(d, 'ps1', c.next(), rng);
    d.add('Write-Host "done"');
    c.file('ops/windows/deploy.ps1', d, { utf16: true, crlf: true });
  }
  // ---- lock files, fixtures, i18n (negatives)
  {
    const d = new Doc().add('{', '  "name": "acme-web",', '  "lockfileVersion": 3,', '  "packages": {');
    for (const pkg of ['react', 'axios', 'lodash', 'zod', 'express', 'pino']) {
      d.add(`    "node_modules/${pkg}": {`, `      "version": "${1 + rng.int(9)}.${rng.int(20)}.${rng.int(10)}",`, `      "resolved": "https://registry.npmjs.org/${pkg}/-/${pkg}-1.0.0.tgz",`);
      d.neg(`      "integrity": "sha512-${chars(rng, B64, 86)}=="`, 'lockfile');
      d.add('    },');
    }
    d.add('    "": {}', '  }', '}');
    c.file('apps/web/package-lock.json', d);
    const y = new Doc().add('# yarn lockfile v1', '');
    for (const pkg of ['chalk', 'debug', 'ms']) {
      y.add(`${pkg}@^4.0.0:`, '  version "4.1.2"', `  resolved "https://registry.yarnpkg.com/${pkg}/-/${pkg}-4.1.2.tgz#${chars(rng, HEX, 40)}"`);
      y.neg(`  integrity sha512-${chars(rng, B64, 86)}==`, 'lockfile');
      y.add('');
    }
    c.file('apps/admin/yarn.lock', y);
    const g = new Doc();
    for (const m of ['github.com/aws/aws-sdk-go-v2 v1.30.3', 'golang.org/x/crypto v0.25.0', 'github.com/stretchr/testify v1.9.0']) {
      g.neg(`${m} h1:${chars(rng, B64, 43)}=`, 'lockfile');
      g.neg(`${m}/go.mod h1:${chars(rng, B64, 43)}=`, 'lockfile');
    }
    c.file('services/gateway/go.sum', g);
    const f = new Doc().add('# Test fixture: fake credentials for the parser tests. Not real keys.', 'FAKE_CREDENTIALS = {');
    f.neg(`    "github": "${j('gh', 'p_')}${'0'.repeat(36)}",`, 'test-fixture');
    f.neg(`    "slack": "${j('xo', 'xb-')}000000000000-000000000000-${'x'.repeat(24)}",`, 'test-fixture');
    f.neg(`    "aws": "${j('AKIA', 'EXAMPLE', 'EXAMPLE1')}",`, 'test-fixture');
    f.neg('    "password": "test-password",', 'test-fixture');
    f.add('}');
    c.file('services/search/tests/fixtures/fake_credentials.py', f);
    const i18n = new Doc().add('{');
    i18n.neg('  "password": "Password",', 'i18n');
    i18n.neg('  "password_confirm": "Confirm password",', 'i18n');
    i18n.neg('  "api_key": "API key",', 'i18n');
    i18n.neg('  "secret": "Secret",', 'i18n');
    i18n.add('  "login": "Sign in"', '}');
    for (const lang of ['en', 'de', 'fr']) c.file(`apps/web/src/locales/${lang}.json`, i18n);
  }
  // ---- filler: code and docs with no secret, some with hard negatives
  const fillerExt: [Style, string][] = [['ts', 'ts'], ['js', 'js'], ['py', 'py'], ['go', 'go'], ['java', 'java'], ['rb', 'rb'], ['yaml', 'yaml'], ['json', 'json']];
  for (const s of svcs) {
    for (let i = 0; i < 12; i++) {
      const [style, ext] = rng.pick(fillerExt);
      const d = new Doc();
      if (style === 'ts' || style === 'js' || style === 'go' || style === 'java') d.add(...LICENSE_HEADER);
      for (let k = 0; k < 10 + rng.int(30); k++) {
        if (rng.next() < 0.06) plantNegative(d, style, rng);
        else d.add(fillerLine(style, rng));
      }
      c.file(`services/${s}/src/lib/mod${i}.${ext}`, d);
    }
  }
}

function fillerLine(style: Style, rng: Prng): string {
  const id = `${rng.pick(['user', 'order', 'item', 'cart', 'token', 'session', 'price'])}${rng.pick(['Count', 'Id', 'Total', 'Limit', 'Name'])}`;
  const n = rng.int(1000);
  switch (style) {
    case 'py': return rng.pick([`${id.toLowerCase()} = ${n}`, `def get_${id.toLowerCase()}(x):`, `    return x + ${n}`, `# ${id} handling`]);
    case 'go': return rng.pick([`var ${id} = ${n}`, `func get${id}() int { return ${n} }`, `// ${id} handling`]);
    case 'java': return rng.pick([`    int ${id} = ${n};`, `    // ${id} handling`, `    public int get${id}() { return ${n}; }`]);
    case 'rb': return rng.pick([`${id.toLowerCase()} = ${n}`, `def ${id.toLowerCase()}; ${n}; end`]);
    case 'yaml': return rng.pick([`${id}: ${n}`, `# ${id}`, `${id}Name: ${rng.pick(SERVICES)}`]);
    case 'json': return `"${id}${n}": ${n},`;
    default: return rng.pick([`export function ${id}(x: number) { return x * ${n}; }`, `const ${id} = ${n};`, `// ${id} handling`, `  if (${id} > ${n}) return;`]);
  }
}

export interface GenerateResult {
  manifest: Manifest;
  bytes: number;
}

/** Writes the corpus under `dir` (replacing it) and returns the manifest (also written by the caller). */
export function generateCorpus(dir: string, seed: string): GenerateResult {
  const rng = createPrng('realistic-corpus', seed);
  const generic = SECRET_TYPES.filter((t) => !FORMAT_ONLY.has(t.id));
  let queue: SecretType[] = [];
  const files: FileOut[] = [];
  const ctx: Ctx = {
    rng,
    next() {
      if (queue.length === 0) queue = rng.shuffle(generic);
      return queue.pop()!;
    },
    type(id) {
      const t = TYPE_BY_ID.get(id);
      if (!t) throw new Error(`unknown secret type ${id}`);
      return t;
    },
    file(p, doc, opts) {
      files.push({ path: p, doc, eol: opts?.crlf ? '\r\n' : '\n', ...(opts?.utf16 ? { utf16: true } : {}) });
    },
  };
  build(ctx);
  rmSync(dir, { recursive: true, force: true });
  const manifest: Manifest = { version: CORPUS_VERSION, seed, files: files.length, formats: [], secrets: [], negatives: [] };
  const formats = new Set<string>();
  let bytes = 0;
  for (const f of files) {
    const full = path.join(dir, f.path);
    mkdirSync(path.dirname(full), { recursive: true });
    const text = f.doc.lines.join(f.eol) + f.eol;
    const buf = f.utf16 ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]) : Buffer.from(text, 'utf8');
    writeFileSync(full, buf);
    bytes += buf.length;
    const base = path.basename(f.path);
    formats.add(base.startsWith('.') || !base.includes('.') ? base : base.slice(base.lastIndexOf('.')));
    for (const p of f.doc.plants) manifest.secrets.push({ file: f.path, ...p });
    for (const n of f.doc.negs) manifest.negatives.push({ file: f.path, ...n });
  }
  manifest.formats = [...formats].sort();
  return { manifest, bytes };
}
