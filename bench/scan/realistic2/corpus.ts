/**
 * The second realistic corpus: a data/ML platform with mobile apps and an ops repository
 * ("tidepool"). Airflow DAGs, Jupyter notebooks, dbt, Ansible, Helm, Kustomize, Terraform, Pulumi,
 * serverless, four CI systems, Android/iOS/Flutter/React Native, Spring Boot, .NET user secrets,
 * Go, Rust, Elixir, Laravel, WordPress, Postman collections, HAR files, shell history, SQL dumps,
 * logs, crash dumps, minified bundles and source maps.
 *
 * Written independently of corpus 1 and of the project's detectors and fixtures: the credential
 * formats come from providers' documentation (see ./secrets.ts). Generated from a seeded PRNG, so
 * a seed always writes the same bytes. The manifest has the same shape as ../realistic/corpus.ts,
 * so ../realistic/run.ts scores it unchanged.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createPrng, type Prng } from '../prng.js';
import type { Manifest, Negative, Planted } from '../realistic/corpus.js';
import {
  ALNUM, B64URL, DIGITS, HEX, LOWER, SECRET_TYPES, UPPER, b64, badChecksum, bech32, bytes, cat, chars, checksummed, ecPem, encryptedPkcs8Pem, jwt,
  opensshPem, password, pgpKey, pkcs8Pem, publicPem, puttyKey, rsaPem, sha256hex, sshPublicKey, typeOf, username, uuid, type SecretType,
} from './secrets.js';

export type { Manifest, Negative, Planted };

export const CORPUS_VERSION = 1;

const indent = (text: string, by: string): string => text.split('\n').map((l) => by + l).join('\n');
const sha = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** A piece of a line that is a planted secret: `shown` is how it appears, `value` what it is. */
interface Part {
  type: string;
  value: string;
  shown?: string;
}

/** One file being written: its lines, and where its secrets and hard negatives are. */
class Doc {
  lines: string[] = [];
  plants: Omit<Planted, 'file'>[] = [];
  negs: Omit<Negative, 'file'>[] = [];
  constructor(
    readonly file: string,
    readonly kind: string,
    readonly crlf = false,
  ) {}

  add(...texts: string[]): this {
    for (const t of texts) this.lines.push(...t.split('\n'));
    return this;
  }

  /** Adds `text` (one or more lines), which contains the secret as `shown` (default: the value). */
  secret(type: string, value: string, text: string, shown = value): this {
    const idx = text.indexOf(shown);
    if (idx < 0) throw new Error(`${this.file}: the ${type} is not in its line`);
    const before = text.slice(0, idx);
    const startOff = before.split('\n').length - 1;
    const column = idx - before.lastIndexOf('\n');
    const endOff = startOff + shown.split('\n').length - 1;
    const base = this.lines.length + 1;
    this.add(text);
    this.plants.push({ line: base + startOff, column, endLine: base + endOff, type, sha256: sha(value) });
    return this;
  }

  /** One line holding several secrets (a minified bundle, a source map). */
  multi(parts: (string | Part)[]): this {
    let line = '';
    const line0 = this.lines.length + 1;
    for (const p of parts) {
      if (typeof p === 'string') {
        line += p;
        continue;
      }
      const shown = p.shown ?? p.value;
      this.plants.push({ line: line0, column: line.length + 1, endLine: line0, type: p.type, sha256: sha(p.value) });
      line += shown;
    }
    this.lines.push(line);
    return this;
  }

  /** Adds `text`; every line of it is a hard negative of `category`. */
  neg(category: string, text: string): this {
    const n = text.split('\n').length;
    for (let i = 0; i < n; i++) this.negs.push({ line: this.lines.length + 1 + i, category });
    return this.add(text);
  }

  render(): string {
    const eol = this.crlf ? '\r\n' : '\n';
    return this.lines.join(eol) + eol;
  }
}

// ---------------------------------------------------------------------------------------------
// Names and syntax.

const words = (env: string): string[] => env.toLowerCase().split(/[_.-]+/).filter(Boolean);
const camel = (env: string): string => words(env).map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
const snake = (env: string): string => words(env).join('_');
const dotted = (env: string): string => words(env).join('.');
const kebab = (env: string): string => words(env).join('-');
const dq = (s: string): string => JSON.stringify(s);
const sq = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const yq = (s: string): string => (/^[A-Za-z0-9._/+=-]+$/.test(s) && !/^[-.]/.test(s) ? s : dq(s));

type Syntax = 'env' | 'yaml' | 'json' | 'properties' | 'toml' | 'hcl' | 'py' | 'ts' | 'go' | 'rust' | 'dart' | 'kotlin' | 'exs' | 'php' | 'shell' | 'docker' | 'groovy' | 'xcconfig' | 'ini' | 'cs';

/** `name = value` as each format writes it. */
function kv(rng: Prng, syntax: Syntax, env: string, value: string, indent = ''): string {
  switch (syntax) {
    case 'env': return rng.pick([`${env}=${value}`, `${env}="${value}"`, `${env}=${value}`]);
    case 'yaml': return `${indent}${rng.pick([snake(env), camel(env)])}: ${rng.next() < 0.3 ? dq(value) : yq(value)}`;
    case 'json': return `${indent}${dq(rng.pick([camel(env), env, snake(env)]))}: ${dq(value)},`;
    case 'properties': return `${dotted(env)}=${value}`;
    case 'toml': return `${snake(env)} = ${dq(value)}`;
    case 'hcl': return `${indent}${snake(env)} = ${dq(value)}`;
    case 'py': return rng.pick([`${indent}${env} = ${dq(value)}`, `${indent}${snake(env)} = ${sq(value)}`, `${indent}os.environ.setdefault(${dq(env)}, ${dq(value)})`]);
    case 'ts': return rng.pick([`${indent}const ${camel(env)} = ${sq(value)};`, `${indent}${camel(env)}: ${sq(value)},`, `${indent}process.env.${env} ??= ${dq(value)};`]);
    case 'go': return rng.pick([`${indent}${camel(env)} := ${dq(value)}`, `${indent}os.Setenv(${dq(env)}, ${dq(value)})`]);
    case 'rust': return `${indent}const ${env}: &str = ${dq(value)};`;
    case 'dart': return `${indent}static const String ${camel(env)} = ${sq(value)};`;
    case 'kotlin': return rng.pick([`${env}=${value}`, `${snake(env)}=${value}`]);
    case 'exs': return `${indent}${snake(env)}: ${dq(value)},`;
    case 'php': return rng.pick([`${indent}${sq(snake(env))} => ${sq(value)},`, `define(${sq(env)}, ${sq(value)});`]);
    case 'shell': return rng.pick([`export ${env}=${sq(value)}`, `export ${env}="${value}"`, `${env}=${sq(value)}`]);
    case 'docker': return rng.pick([`ENV ${env}=${value}`, `ENV ${env} ${value}`, `ARG ${env}=${value}`]);
    case 'groovy': return `${indent}${env} = ${sq(value)}`;
    case 'xcconfig': return `${env} = ${value}`;
    case 'ini': return `${snake(env)} = ${value}`;
    case 'cs': return `${indent}${dq(rng.pick([env, camel(env)]))}: ${dq(value)},`;
  }
}

// ---------------------------------------------------------------------------------------------
// Hard negatives: the values that sit in the same places as secrets and are not secrets.

interface NegValue {
  value: string;
  category: string;
}

/** Types that are not sent as bearer tokens or API keys in headers and CLI flags. */
const NOT_TOKENS = new Set(['generic-password', 'generic-secret', 'laravel-app-key', 'azure-sas-token', 'azure-storage-key']);

const NEG_NAMES = ['API_KEY', 'SECRET', 'AUTH_TOKEN', 'DB_PASSWORD', 'CLIENT_SECRET', 'ACCESS_TOKEN', 'PRIVATE_TOKEN', 'WEBHOOK_SECRET', 'SMTP_PASSWORD', 'SERVICE_KEY'];

/**
 * A hard negative for a `name = value` line. The name fits the value: a hash is called a
 * checksum, a UUID an ID, a near-miss has its provider's variable name. A 40-hex value under
 * `API_KEY` could well be a real key, so it is never labelled a negative.
 */
function negValue(rng: Prng, syntax: Syntax): NegValue & { env: string } {
  const credName = rng.pick(NEG_NAMES);
  switch (rng.int(9)) {
    case 0: {
      const env = credName;
      const slug = kebab(env);
      return { env, category: 'placeholder', value: rng.pick([`<your-${slug}>`, 'changeme', 'xxxxxxxxxxxxxxxxxxxxxxxx', 'REPLACE_ME', `your_${snake(env)}_here`, 'TODO', '********', `<${env}>`, '...']) };
    }
    case 1: {
      const env = credName;
      const refs: Record<string, string[]> = {
        env: [`\${${env}}`, `\${${env}:-}`], shell: [`\${${env}}`, `$${env}`], docker: [`\${${env}}`], yaml: [`\${${env}}`, `{{ .Values.${camel(env)} }}`, `{{ vault_${snake(env)} }}`, `\${{ secrets.${env} }}`],
        json: [`{{${camel(env)}}}`, `\${${env}}`], properties: [`\${${env}}`, `\${vault.${dotted(env)}}`], toml: [`\${${env}}`], hcl: [`\${var.${snake(env)}}`],
        py: [`{{ var.value.${snake(env)} }}`], ts: [`\${process.env.${env}}`], go: [`\${${env}}`], rust: [`\${${env}}`], dart: [`\${${env}}`], kotlin: [`\${${env}}`], exs: [`\${${env}}`],
        php: [`%env(${env})%`], groovy: [`\${env.${env}}`], xcconfig: [`$(${env})`], ini: [`%(${snake(env)})s`], cs: [`#{${env}}#`],
      };
      return { env, category: 'env-reference', value: rng.pick(refs[syntax] ?? [`\${${env}}`]) };
    }
    case 2:
      return rng.pick([
        { env: 'CONFIG_SHA256', category: 'hash', value: chars(rng, HEX, 64) },
        { env: 'GIT_COMMIT', category: 'hash', value: chars(rng, HEX, 40) },
        { env: 'ADMIN_PASSWORD_HASH', category: 'hash', value: cat('$2b', '$12$') + chars(rng, ALNUM + './', 53) },
        { env: 'ARTIFACT_MD5', category: 'hash', value: chars(rng, HEX, 32) },
      ]);
    case 3: return { env: rng.pick(['TENANT_ID', 'REQUEST_ID', 'AZURE_CLIENT_ID', 'WORKSPACE_ID', 'TRACE_ID']), category: 'uuid', value: uuid(rng) };
    case 4: {
      const [env, value] = rng.pick(DOC_EXAMPLES);
      return { env, category: 'documented-example', value };
    }
    case 5: {
      const [env, value] = nearMiss(rng);
      return { env, category: 'near-miss', value };
    }
    case 6: {
      const [env, value] = publishable(rng);
      return { env, category: 'publishable-key', value };
    }
    case 7: return { env: credName, category: 'test-fixture', value: rng.pick(['test', 'fake-token-for-tests', 'dummy', 'not-a-real-secret', 'password', 'secret', 'example']) };
    default: return { env: credName, category: 'placeholder', value: '' };
  }
}

/** Example credentials printed in providers' own documentation. */
const DOC_EXAMPLES: [string, string][] = [
  ['AWS_ACCESS_KEY_ID', cat('AKIA', 'IOSFODNN7', 'EXAMPLE')], // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
  ['AWS_SECRET_ACCESS_KEY', cat('wJalrXUtnFEMI', '/K7MDENG/bPxRfiCY', 'EXAMPLEKEY')],
  ['STRIPE_SECRET_KEY', cat('sk_', 'test_', '4eC39HqLyjWDarjtT1zdp7dc')], // Stripe's documentation test key
  ['SLACK_BOT_TOKEN', cat('xoxb-', 'not-a-real-token-this-will-not-work')], // Slack SDK docs
  ['TWILIO_ACCOUNT_SID', cat('AC', 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX')], // Twilio docs
  ['SENDGRID_API_KEY', cat('SG.', 'xxxxxxxxxxxxxxxxxxxxxx.yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy')],
  ['GITHUB_TOKEN', cat('ghp_', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')],
  ['GITLAB_TOKEN', cat('glpat-', 'xxxxxxxxxxxxxxxxxxxx')],
  ['DOPPLER_TOKEN', cat('dp.st.', 'xxxx')], // Doppler docs
  ['ANTHROPIC_API_KEY', cat('sk-ant-', 'api03-your-key-here')],
];

/** Near-misses of a format, under the provider's own variable name. */
function nearMiss(rng: Prng): [string, string] {
  switch (rng.int(6)) {
    case 0: return ['GITHUB_TOKEN', badChecksum(rng, cat('gh', 'p_'))];
    case 1: return ['NPM_TOKEN', badChecksum(rng, cat('np', 'm_'))];
    case 2: return ['GITHUB_TOKEN', checksummed(rng, cat('gh', 'p_')).slice(0, -1)]; // one character short
    case 3: return ['AWS_ACCESS_KEY_ID', cat('AK', 'IA') + chars(rng, UPPER + '234567', 15)];
    case 4: return ['GITLAB_TOKEN', cat('gl', 'pat-') + chars(rng, ALNUM, 12)];
    default: return ['SENDGRID_API_KEY', cat('S', 'G.') + chars(rng, B64URL, 21) + '.' + chars(rng, B64URL, 20)];
  }
}

/** Keys that are public by design. */
function publishable(rng: Prng): [string, string] {
  switch (rng.int(5)) {
    case 0: return ['STRIPE_PUBLISHABLE_KEY', cat('pk', '_live_') + chars(rng, ALNUM, 99)]; // https://docs.stripe.com/keys
    case 1: return ['MAPBOX_PUBLIC_TOKEN', cat('p', 'k.') + b64(JSON.stringify({ u: username(rng), a: chars(rng, LOWER + DIGITS, 25) })).replace(/=+$/, '') + '.' + chars(rng, B64URL, 22)]; // https://docs.mapbox.com/help/dive-deeper/access-tokens/
    case 2: return ['POSTHOG_PROJECT_API_KEY', cat('ph', 'c_') + chars(rng, ALNUM, 43)]; // https://posthog.com/docs/api
    case 3: return ['SUPABASE_PUBLISHABLE_KEY', cat('sb_', 'publishable_') + chars(rng, B64URL, 31)]; // https://supabase.com/docs/guides/api/api-keys
    default: return ['SOPS_AGE_RECIPIENTS', bech32('age', bytes(rng, 32))]; // an age recipient is a public key
  }
}

// ---------------------------------------------------------------------------------------------
// The generator context.

interface Ctx {
  rng: Prng;
  /** The next simple credential type, cycling through all of them. */
  next(): SecretType;
  /** The next one that is sent as a token (in a header, a CLI flag): not a password or app key. */
  nextToken(): SecretType;
  docs: Doc[];
  doc(file: string, kind: string, crlf?: boolean): Doc;
}

const SERVICES = ['ingest', 'feature-store', 'model-serving', 'labeling', 'billing', 'notifier', 'warehouse-sync', 'scheduler', 'gateway', 'annotator', 'trainer', 'exporter'];
const HOSTS = ['db.internal.tidepool.io', 'pg-prod-1.cluster-c9x.eu-west-1.rds.amazonaws.com', '10.20.4.17', 'warehouse.tidepool.local', 'mongo-0.mongo.svc.cluster.local', 'redis-master.cache.svc'];

/** Planted: one simple credential as `name = value` in the file's syntax. */
function plantKV(ctx: Ctx, d: Doc, syntax: Syntax, t: SecretType = ctx.next(), indent = ''): void {
  const value = t.make(ctx.rng);
  d.secret(t.id, value, kv(ctx.rng, syntax, envName(ctx.rng, t), value, indent));
}

const PASSWORD_NAMES = ['DB_PASSWORD', 'POSTGRES_PASSWORD', 'WAREHOUSE_PASS', 'SMTP_PASSWORD', 'REDIS_PASSWORD', 'ADMIN_PASSWORD', 'KEYSTORE_PASSWORD', 'MYSQL_ROOT_PASSWORD', 'LDAP_BIND_PW', 'RABBITMQ_DEFAULT_PASS', 'SNOWFLAKE_PASSWORD', 'AIRFLOW_DB_PASSWD'];
const SECRET_NAMES = ['SECRET_KEY', 'SECRET_KEY_BASE', 'JWT_SECRET', 'SESSION_SECRET', 'COOKIE_SECRET', 'ENCRYPTION_KEY', 'SIGNING_SECRET'];

function envName(rng: Prng, t: SecretType): string {
  if (t.id === 'generic-password') return rng.pick(PASSWORD_NAMES);
  if (t.id === 'generic-secret') return rng.pick(SECRET_NAMES);
  return t.env;
}

function negKV(ctx: Ctx, d: Doc, syntax: Syntax, indent = ''): void {
  const n = negValue(ctx.rng, syntax);
  d.neg(n.category, kv(ctx.rng, syntax, n.env, n.value, indent));
}

/** Filler lines in a file's syntax. */
function filler(ctx: Ctx, d: Doc, syntax: Syntax, n: number, indent = ''): void {
  const r = ctx.rng;
  for (let i = 0; i < n; i++) {
    const name = r.pick(['LOG_LEVEL', 'REGION', 'BATCH_SIZE', 'TIMEOUT_SECONDS', 'FEATURE_FLAGS', 'MODEL_NAME', 'BUCKET', 'PORT', 'WORKERS', 'RETRIES', 'S3_PREFIX', 'DATASET']);
    const value = r.pick(['info', 'eu-west-1', String(64 << r.int(5)), String(30 + r.int(90)), 'ranker-v2,fast-path', 'bert-base-uncased', 'tidepool-datasets', String(8000 + r.int(100)), String(1 + r.int(16)), '3', 'raw/events/', 'clickstream_daily']);
    d.add(kv(r, syntax, name, value, indent));
  }
}

// ---------------------------------------------------------------------------------------------
// Composite credentials.

const PEM_KINDS: [string, (r: Prng) => string][] = [
  ['rsa-private-key', rsaPem],
  ['ec-private-key', ecPem],
  ['pkcs8-private-key', (r) => pkcs8Pem(r, r.next() < 0.5)],
  ['encrypted-private-key', encryptedPkcs8Pem],
  ['openssh-private-key', opensshPem],
];

function dbUri(ctx: Ctx): { uri: string; value: string; shown: string } {
  const r = ctx.rng;
  const pw = password(r);
  const enc = encodeURIComponent(pw);
  const u = username(r);
  const host = r.pick(HOSTS);
  const uri = r.pick([
    `postgresql://${u}:${enc}@${host}:5432/analytics`,
    `postgres://${u}:${enc}@${host}/features?sslmode=require`,
    `mysql://${u}:${enc}@${host}:3306/labels`,
    `mongodb+srv://${u}:${enc}@cluster0.ab1cd.mongodb.net/events?retryWrites=true&w=majority`,
    `redis://default:${enc}@${host}:6379/0`,
    `rediss://:${enc}@${host}:6380`,
    `amqp://${u}:${enc}@rabbitmq.tidepool.local:5672/etl`,
    `snowflake://${u}:${enc}@tidepool-xy12345/ANALYTICS/PUBLIC?warehouse=TRANSFORMING`,
  ]);
  return { uri, value: pw, shown: enc };
}

function jdbcOrAdo(ctx: Ctx): { text: string; value: string } {
  const r = ctx.rng;
  const pw = password(r);
  const u = username(r);
  return r.pick([
    { text: `jdbc:postgresql://${r.pick(HOSTS)}:5432/warehouse?user=${u}&password=${encodeURIComponent(pw)}&ssl=true`, value: pw },
    { text: `Server=tcp:tidepool-sql.database.windows.net,1433;Initial Catalog=labels;User ID=${u};Password=${pw};Encrypt=True;`, value: pw },
    { text: `Host=${r.pick(HOSTS)};Port=5432;Database=features;Username=${u};Password=${pw}`, value: pw },
  ]);
}

function azureConn(ctx: Ctx): { text: string; value: string } {
  const key = typeOf('azure-storage-key').make(ctx.rng);
  return { text: `DefaultEndpointsProtocol=https;AccountName=tidepool${chars(ctx.rng, LOWER, 6)};AccountKey=${key};EndpointSuffix=core.windows.net`, value: key };
}

// ---------------------------------------------------------------------------------------------
// File kinds. Each writes one file, plants its secrets and its hard negatives.

type Kind = (ctx: Ctx, i: number) => void;

const svc = (ctx: Ctx, i: number): string => `${SERVICES[i % SERVICES.length]}${i >= SERVICES.length ? `-${Math.floor(i / SERVICES.length) + 1}` : ''}`;

const dotenv: Kind = (ctx, i) => {
  const r = ctx.rng;
  const file = r.pick([`services/${svc(ctx, i)}/.env`, `mobile/rn-app/.env.production`, `web/laravel-admin/.env`, `services/${svc(ctx, i)}/.env.local`, `ops/compose/${svc(ctx, i)}.env`]);
  const d = ctx.doc(file.replace('rn-app', `rn-app-${i}`).replace('laravel-admin', `laravel-admin-${i}`), 'dotenv', r.next() < 0.3);
  d.add('# generated by scripts/bootstrap-env.sh — do not commit', `APP_ENV=production`, `APP_NAME=${svc(ctx, i)}`);
  if (file.includes('laravel')) {
    const k = typeOf('laravel-app-key');
    const v = k.make(r);
    d.secret(k.id, v, `APP_KEY=${v}`);
    d.add('DB_CONNECTION=mysql', `DB_HOST=${r.pick(HOSTS)}`, 'DB_PORT=3306', 'DB_DATABASE=admin', `DB_USERNAME=${username(r)}`);
    const pw = password(r);
    d.secret('generic-password', pw, `DB_PASSWORD="${pw}"`);
  }
  for (let k = 0; k < 2 + r.int(2); k++) {
    filler(ctx, d, 'env', 1 + r.int(2));
    plantKV(ctx, d, 'env');
  }
  negKV(ctx, d, 'env');
  if (r.next() < 0.5) {
    const { uri, value, shown } = dbUri(ctx);
    d.secret('database-uri-password', value, `DATABASE_URL=${uri}`, shown);
  }
  negKV(ctx, d, 'env');
};

const notebook: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`notebooks/${r.pick(['exploration', 'experiments', 'eda'])}/${String(i + 1).padStart(2, '0')}-${r.pick(['churn-features', 'embedding-drift', 'label-audit', 'fine-tune-llm', 'warehouse-profile', 'ab-test-readout'])}.ipynb`, 'jupyter');
  const t1 = ctx.next();
  const v1 = t1.make(r);
  const t2 = ctx.next();
  const v2 = t2.make(r);
  d.add('{', ' "cells": [', '  {', '   "cell_type": "code",', `   "execution_count": ${1 + r.int(9)},`, '   "metadata": {},', '   "outputs": [],', '   "source": [', '    "import os\\n",', '    "import pandas as pd\\n",');
  d.secret(t1.id, v1, `    "os.environ[\\"${envName(r, t1)}\\"] = \\"${v1}\\"\\n",`);
  d.add('    "df = pd.read_parquet(\\"s3://tidepool-datasets/raw/events/\\")"', '   ]', '  },', '  {', '   "cell_type": "code",', `   "execution_count": ${10 + r.int(9)},`, '   "metadata": {},', '   "outputs": [', '    {', '     "name": "stdout",', '     "output_type": "stream",', '     "text": [');
  if (r.next() < 0.5) d.secret(t2.id, v2, `      "using credentials ${envName(r, t2)}=${v2}\\n"`);
  else {
    const { uri, value, shown } = dbUri(ctx);
    d.secret('database-uri-password', value, `      "engine = create_engine('${uri}')\\n"`, shown);
  }
  d.add('     ]', '    }', '   ],', '   "source": [');
  const n = negValue(r, 'py');
  d.neg(n.category, `    "client = Client(${snake(n.env)}=${JSON.stringify(JSON.stringify(n.value)).slice(1, -1)})\\n",`);
  d.neg('env-reference', `    "token = os.environ[\\"${ctx.rng.pick(NEG_NAMES)}\\"]\\n"`);
  d.add('   ]', '  }', ' ],', ' "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},', ' "nbformat": 4,', ' "nbformat_minor": 5', '}');
};

const airflowDag: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`airflow/dags/${r.pick(['load', 'sync', 'export', 'train'])}_${svc(ctx, i).replace(/-/g, '_')}.py`, 'airflow-dag');
  d.add('from datetime import datetime, timedelta', '', 'from airflow import DAG', 'from airflow.models import Connection, Variable', 'from airflow.operators.python import PythonOperator', '');
  const pw = password(r);
  d.secret('generic-password', pw, `WAREHOUSE = Connection(conn_id="warehouse", conn_type="postgres", host="${r.pick(HOSTS)}", login="${username(r)}", password="${pw}", port=5432)`);
  plantKV(ctx, d, 'py');
  negKV(ctx, d, 'py');
  d.neg('env-reference', `SLACK_CONN = Variable.get("slack_webhook_token", default_var=None)`);
  d.add('', 'default_args = {"owner": "data-platform", "retries": 2, "retry_delay": timedelta(minutes=5)}', '', `with DAG("${svc(ctx, i)}_daily", start_date=datetime(2024, 1, 1), schedule="@daily", default_args=default_args, catchup=False) as dag:`, '    PythonOperator(task_id="run", python_callable=lambda: None)');
};

const dbtProfiles: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`analytics/dbt${i ? `-${i}` : ''}/profiles.yml`, 'dbt-profiles');
  d.add('tidepool:', '  target: prod', '  outputs:', '    dev:', '      type: snowflake', '      account: xy12345.eu-west-1', `      user: "{{ env_var('DBT_USER') }}"`);
  d.neg('env-reference', `      password: "{{ env_var('DBT_PASSWORD') }}"`);
  d.add('      role: TRANSFORMER', '      database: ANALYTICS', '      warehouse: TRANSFORMING', '      schema: dbt_dev', '    prod:', '      type: snowflake', '      account: xy12345.eu-west-1', `      user: ${username(r).toUpperCase()}`);
  const pw = password(r);
  d.secret('generic-password', pw, `      password: ${dq(pw)}`);
  d.add('      role: TRANSFORMER', '      database: ANALYTICS', '      warehouse: TRANSFORMING', '      schema: marts', '      threads: 8');
  if (i % 2 === 1) {
    const pem = pkcs8Pem(r);
    d.add('    prod_keypair:', '      type: snowflake', '      account: xy12345.eu-west-1', '      user: DBT_SVC');
    const ind = indent(pem, '        ');
    d.secret('pkcs8-private-key', pem, `      private_key: |\n${ind}`, ind.trimStart());
  }
};

const ansibleVars: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`ops/ansible/${r.pick(['group_vars', 'host_vars'])}/${r.pick(['all', 'airflow', 'gpu_workers', 'postgres', 'bastion'])}${i}.yml`, 'ansible-vars');
  d.add('---', `ansible_user: ${r.pick(['ubuntu', 'ec2-user', 'deploy'])}`);
  const pw = password(r);
  d.secret('generic-password', pw, `ansible_become_password: ${yq(pw)}`);
  filler(ctx, d, 'yaml', 2);
  plantKV(ctx, d, 'yaml');
  if (r.next() < 0.5) {
    d.add('postgres_users:', `  - name: ${username(r)}`);
    const p2 = password(r);
    d.secret('generic-password', p2, `    password: ${dq(p2)}`);
    d.add('    priv: ALL');
  }
  negKV(ctx, d, 'yaml');
  // An ansible-vault encrypted value is ciphertext, not a leak.
  d.add('smtp_relay_password: !vault |');
  d.neg('encrypted', ['          $ANSIBLE_VAULT;1.1;AES256', ...Array.from({ length: 4 }, () => '          ' + chars(r, HEX, 80))].join('\n'));
};

const ansibleInventory: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`ops/ansible/inventories/${r.pick(['prod', 'staging', 'lab'])}-${i}/hosts.ini`, 'ansible-inventory');
  d.add('[gpu_workers]');
  for (let k = 0; k < 3; k++) d.add(`gpu-${k + 1}.tidepool.local ansible_host=10.30.${i}.${10 + k}`);
  d.add('', '[legacy_windows]');
  const pw = password(r);
  d.secret('generic-password', pw, `win-report-01 ansible_host=10.30.${i}.40 ansible_user=Administrator ansible_password=${pw} ansible_connection=winrm`);
  d.add('', '[all:vars]');
  d.neg('env-reference', `ansible_ssh_pass="{{ lookup('env', 'SSH_PASS') }}"`);
};

const helmValues: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`deploy/helm/${svc(ctx, i)}/values${r.pick(['', '-prod', '-staging'])}.yaml`, 'helm-values');
  d.add(`replicaCount: ${1 + r.int(4)}`, 'image:', `  repository: ghcr.io/tidepool/${svc(ctx, i)}`, `  tag: "1.${r.int(30)}.${r.int(10)}"`, '', 'env:');
  plantKV(ctx, d, 'yaml', undefined, '  ');
  negKV(ctx, d, 'yaml', '  ');
  filler(ctx, d, 'yaml', 2, '  ');
  d.add('', 'secrets:');
  plantKV(ctx, d, 'yaml', undefined, '  ');
  d.add('', 'postgresql:', '  auth:', `    username: ${username(r)}`);
  const pw = password(r);
  d.secret('generic-password', pw, `    password: ${yq(pw)}`);
  d.neg('env-reference', `    existingSecret: "{{ .Release.Name }}-db"`);
};

const kustomize: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`deploy/kustomize/overlays/${r.pick(['prod', 'staging', 'eu'])}-${i}/kustomization.yaml`, 'kustomize');
  d.add('apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources:', '  - ../../base', 'secretGenerator:', `  - name: ${svc(ctx, i)}-secrets`, '    literals:');
  const t = ctx.next();
  const v = t.make(r);
  d.secret(t.id, v, `      - ${envName(r, t)}=${v}`);
  const pw = password(r);
  d.secret('generic-password', pw, `      - ${r.pick(PASSWORD_NAMES)}=${pw}`);
  d.neg('placeholder', `      - ${r.pick(NEG_NAMES)}=REPLACE_ME`);
};

const k8sSecret: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`deploy/k8s/${svc(ctx, i)}/secret.yaml`, 'k8s-secret');
  d.add('apiVersion: v1', 'kind: Secret', 'metadata:', `  name: ${svc(ctx, i)}`, '  namespace: data-platform', 'type: Opaque', 'data:');
  const t = ctx.next();
  const v = t.make(r);
  d.secret(t.id, v, `  ${envName(r, t)}: ${b64(v)}`, b64(v));
  const pw = password(r);
  d.secret('generic-password', pw, `  ${r.pick(PASSWORD_NAMES)}: ${b64(pw)}`, b64(pw));
  d.neg('base64-nonsecret', `  LOG_LEVEL: ${b64(r.pick(['info', 'debug', 'warn']))}`);
  d.neg('base64-nonsecret', `  CONFIG_JSON: ${b64(JSON.stringify({ region: 'eu-west-1', batch: 512, features: ['a', 'b'] }))}`);
  if (r.next() < 0.5) {
    d.add('stringData:');
    plantKV(ctx, d, 'yaml', undefined, '  ');
  }
};

const terraform: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`infra/terraform/modules/${r.pick(['observability', 'edge', 'warehouse', 'ml-infra', 'dns'])}-${i}/providers.tf`, 'terraform');
  const choices: [string, string, string][] = [
    ['datadog', 'datadog-api-key', 'api_key'],
    ['cloudflare', 'cloudflare-api-token', 'api_token'],
    ['github', 'github-pat', 'token'],
    ['digitalocean', 'digitalocean-pat', 'token'],
    ['fastly', 'fastly-api-token', 'api_key'],
    ['newrelic', 'newrelic-user-api-key', 'api_key'],
    ['pagerduty', 'pagerduty-api-key', 'token'],
    ['databricks', 'databricks-token', 'token'],
    ['grafana', 'grafana-service-account-token', 'auth'],
    ['vault', 'vault-service-token', 'token'],
  ];
  d.add('terraform {', '  required_version = ">= 1.6"', '}', '');
  for (const [prov, id, attr] of [r.pick(choices), r.pick(choices)]) {
    const v = typeOf(id).make(r);
    d.add(`provider "${prov}" {`);
    if (prov === 'datadog') {
      d.secret(id, v, `  ${attr} = ${dq(v)}`);
      const a = typeOf('datadog-app-key').make(r);
      d.secret('datadog-app-key', a, `  app_key = ${dq(a)}`);
    } else d.secret(id, v, `  ${attr}${' '.repeat(Math.max(1, 8 - attr.length))}= ${dq(v)}`);
    d.add('}', '');
  }
  d.add('provider "aws" {', '  region = "eu-west-1"');
  negKV(ctx, d, 'hcl', '  ');
  d.add('}');
};

const tfvars: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`infra/terraform/envs/${r.pick(['prod', 'staging', 'sandbox'])}-${i}.auto.tfvars`, 'tfvars');
  d.add(`environment = "${r.pick(['prod', 'staging'])}"`, 'region      = "eu-west-1"');
  plantKV(ctx, d, 'hcl');
  const pw = password(r);
  d.secret('generic-password', pw, `rds_master_password = ${dq(pw)}`);
  negKV(ctx, d, 'hcl');
};

const pulumiTs: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`infra/pulumi/${r.pick(['platform', 'mlops', 'edge'])}-${i}/index.ts`, 'pulumi-ts');
  d.add('import * as pulumi from "@pulumi/pulumi";', 'import * as aws from "@pulumi/aws";', '');
  const ak = typeOf('aws-access-key-id').make(r);
  const sk = typeOf('aws-secret-access-key').make(r);
  d.add('const legacy = new aws.Provider("legacy-account", {', '    region: "us-east-1",');
  d.secret('aws-access-key-id', ak, `    accessKey: "${ak}",`);
  d.secret('aws-secret-access-key', sk, `    secretKey: "${sk}",`);
  d.add('});', '');
  d.neg('env-reference', 'const cfg = new pulumi.Config();');
  d.neg('env-reference', 'const dbPassword = cfg.requireSecret("dbPassword");');
  plantKV(ctx, d, 'ts');
  d.add('export const bucket = new aws.s3.Bucket("datasets", {}, { provider: legacy }).id;');
};

const pulumiYaml: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`infra/pulumi/${r.pick(['platform', 'mlops', 'edge'])}-${i}/Pulumi.${r.pick(['prod', 'staging'])}.yaml`, 'pulumi-config');
  d.add('config:', '  aws:region: eu-west-1');
  const t = ctx.next();
  const v = t.make(r);
  d.secret(t.id, v, `  tidepool:${camel(envName(r, t))}: ${yq(v)}`);
  // Pulumi's own encrypted config values are ciphertext.
  d.add('  tidepool:dbPassword:');
  d.neg('encrypted', `    secure: v1:${chars(r, B64URL.slice(0, 62) + '+/', 16)}:${b64(bytes(r, 48))}`);
  const pw = password(r);
  d.secret('generic-password', pw, `  tidepool:grafanaAdminPassword: ${yq(pw)}`);
};

const serverless: Kind = (ctx, i) => {
  const d = ctx.doc(`functions/${svc(ctx, i)}/serverless.yml`, 'serverless');
  d.add(`service: ${svc(ctx, i)}`, 'frameworkVersion: "3"', 'provider:', '  name: aws', '  runtime: python3.11', '  region: eu-west-1', '  environment:');
  plantKV(ctx, d, 'yaml', undefined, '    ');
  plantKV(ctx, d, 'yaml', undefined, '    ');
  d.neg('env-reference', `    DB_PASSWORD: \${ssm:/tidepool/${svc(ctx, i)}/db-password}`);
  d.add('functions:', '  handler:', '    handler: handler.main');
};

const ghActions: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`.github/workflows/${r.pick(['train', 'deploy', 'nightly-etl', 'publish', 'mobile-release'])}-${i}.yml`, 'github-actions');
  d.add(`name: ${svc(ctx, i)}`, 'on:', '  push:', '    branches: [main]', 'jobs:', '  run:', '    runs-on: ubuntu-latest', '    env:');
  d.neg('env-reference', `      ${r.pick(NEG_NAMES)}: \${{ secrets.${r.pick(NEG_NAMES)} }}`);
  plantKV(ctx, d, 'yaml', undefined, '      ');
  d.add('    steps:', '      - uses: actions/checkout@v4', '      - name: Notify');
  const t = ctx.nextToken();
  const v = t.make(r);
  d.secret(t.id, v, `        run: curl -sf -H "Authorization: Bearer ${v}" https://api.tidepool.io/v1/deployments`);
};

const gitlabCi: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`${svc(ctx, i)}/.gitlab-ci.yml`, 'gitlab-ci');
  d.add('stages: [test, deploy]', 'variables:', '  PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"');
  plantKV(ctx, d, 'yaml', undefined, '  ');
  d.add('deploy:', '  stage: deploy', '  script:');
  const pw = password(r);
  d.secret('generic-password', pw, `    - docker login -u ${username(r)} -p '${pw}' registry.tidepool.io`);
  d.neg('env-reference', '    - echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"');
};

const circleci: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`mobile/${r.pick(['ios', 'android'])}-${i}/.circleci/config.yml`, 'circleci');
  d.add('version: 2.1', 'jobs:', '  build:', '    docker:', '      - image: cimg/android:2024.01', '    environment:');
  plantKV(ctx, d, 'yaml', undefined, '      ');
  negKV(ctx, d, 'yaml', '      ');
  d.add('    steps:', '      - checkout');
};

const jenkinsfile: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`ops/jenkins/${svc(ctx, i)}/Jenkinsfile`, 'jenkinsfile', r.next() < 0.4);
  d.add('pipeline {', '  agent any', '  environment {');
  plantKV(ctx, d, 'groovy', undefined, '    ');
  d.neg('env-reference', `    REGISTRY_CREDS = credentials('registry-creds')`);
  d.add('  }', '  stages {', "    stage('Publish') {", '      steps {');
  const pw = password(r);
  d.secret('curl-user-password', pw, `        sh "curl -u ${username(r)}:${pw} -T build/app.tar.gz https://nexus.tidepool.local/repository/releases/"`);
  d.add('      }', '    }', '  }', '}');
};

const gradleProps: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`mobile/android-${i}/gradle.properties`, 'gradle-properties');
  d.add('org.gradle.jvmargs=-Xmx4g', 'android.useAndroidX=true', 'kotlin.code.style=official', 'RELEASE_STORE_FILE=../keystore/release.jks');
  const pw = password(r);
  d.secret('generic-password', pw, `RELEASE_STORE_PASSWORD=${pw}`);
  const pw2 = password(r);
  d.secret('generic-password', pw2, `RELEASE_KEY_PASSWORD=${pw2}`);
  plantKV(ctx, d, 'kotlin');
  negKV(ctx, d, 'kotlin');
};

const plist: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`mobile/ios-${i}/Tidepool/Config${r.pick(['', '-Release'])}.plist`, 'ios-plist');
  d.add('<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">', '<plist version="1.0">', '<dict>', '\t<key>CFBundleName</key>', '\t<string>Tidepool</string>');
  const t = ctx.next();
  const v = t.make(r);
  d.add(`\t<key>${envName(r, t)}</key>`);
  d.secret(t.id, v, `\t<string>${v.replace(/&/g, '&amp;')}</string>`, v.replace(/&/g, '&amp;'));
  d.add('\t<key>API_BASE_URL</key>', '\t<string>https://api.tidepool.io</string>', '\t<key>SENTRY_DSN_NOTE</key>');
  d.neg('placeholder', '\t<string>set in CI</string>');
  d.add('</dict>', '</plist>');
};

const xcconfig: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`mobile/ios-${i}/Configs/${r.pick(['Release', 'Staging'])}.xcconfig`, 'xcconfig');
  d.add('PRODUCT_BUNDLE_IDENTIFIER = io.tidepool.app', 'API_HOST = api.tidepool.io');
  plantKV(ctx, d, 'xcconfig');
  negKV(ctx, d, 'xcconfig');
};

const flutter: Kind = (ctx, i) => {
  const d = ctx.doc(`mobile/flutter-${i}/lib/env/env.dart`, 'flutter');
  d.add('// ignore_for_file: constant_identifier_names', 'class Env {', "  static const String apiBase = 'https://api.tidepool.io';");
  plantKV(ctx, d, 'dart', undefined, '  ');
  negKV(ctx, d, 'dart', '  ');
  d.add('}');
};

const springYaml: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`services/${svc(ctx, i)}-jvm/src/main/resources/application${r.pick(['', '-prod'])}.yml`, 'spring-yaml');
  d.add('spring:', '  datasource:');
  const { text, value } = jdbcOrAdo(ctx);
  if (text.startsWith('jdbc')) d.secret('database-uri-password', value, `    url: ${text}`, encodeURIComponent(value));
  else {
    d.add(`    url: jdbc:postgresql://${r.pick(HOSTS)}:5432/app`, `    username: ${username(r)}`);
    d.secret('generic-password', value, `    password: ${yq(value)}`);
  }
  d.add('  mail:', '    host: smtp.sendgrid.net', '    username: apikey');
  const sg = typeOf('sendgrid-api-key').make(r);
  d.secret('sendgrid-api-key', sg, `    password: ${sg}`);
  d.add('management:', '  endpoints:', '    web:', '      exposure:', '        include: health,info');
  negKV(ctx, d, 'yaml');
};

const springProps: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`services/${svc(ctx, i)}-jvm/src/main/resources/application.properties`, 'spring-properties', r.next() < 0.5);
  d.add('server.port=8080', 'spring.jpa.hibernate.ddl-auto=validate');
  const pw = password(r);
  d.secret('generic-password', pw, `spring.datasource.password=${pw}`);
  plantKV(ctx, d, 'properties');
  d.neg('env-reference', 'spring.rabbitmq.password=${RABBITMQ_PASSWORD}');
};

const dotnetSecrets: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`services/${svc(ctx, i)}-dotnet/usersecrets/${uuid(r)}/secrets.json`, 'dotnet-user-secrets');
  d.add('{');
  const { text, value } = jdbcOrAdo(ctx);
  if (text.startsWith('jdbc')) d.secret('database-uri-password', value, `  "ConnectionStrings:Warehouse": ${dq(text)},`, encodeURIComponent(value));
  else d.secret('connection-string-password', value, `  "ConnectionStrings:Warehouse": ${dq(text)},`);
  const az = azureConn(ctx);
  d.secret('azure-storage-key', az.value, `  "Storage:ConnectionString": ${dq(az.text)},`);
  const t = ctx.next();
  const v = t.make(r);
  d.secret(t.id, v, `  "${r.pick(['Integrations', 'Providers'])}:${camel(envName(r, t))}": ${dq(v)},`);
  d.neg('uuid', `  "AzureAd:ClientId": "${uuid(r)}",`);
  const e = typeOf('azure-entra-client-secret').make(r);
  d.secret('azure-entra-client-secret', e, `  "AzureAd:ClientSecret": ${dq(e)}`);
  d.add('}');
};

const goSource: Kind = (ctx, i) => {
  const d = ctx.doc(`services/${svc(ctx, i)}-go/internal/config/defaults.go`, 'go');
  d.add('package config', '', 'import "os"', '', 'func init() {');
  plantKV(ctx, d, 'go', undefined, '\t');
  negKV(ctx, d, 'go', '\t');
  d.add('}', '', `var dsn = ${dq('postgres://app@localhost:5432/app?sslmode=disable')}`);
};

const rustSource: Kind = (ctx, i) => {
  const r = ctx.rng;
  if (i % 2 === 0) {
    const d = ctx.doc(`tools/cargo-home-${i}/credentials.toml`, 'cargo-credentials');
    const v = typeOf('crates-io-token').make(r);
    d.add('[registry]');
    d.secret('crates-io-token', v, `token = ${dq(v)}`);
    d.add('', '[registries.tidepool]');
    d.neg('env-reference', 'credential-provider = "cargo:token-from-stdout op read op://eng/cargo/token"');
    return;
  }
  const d = ctx.doc(`tools/featurectl-${i}/src/secrets.rs`, 'rust');
  d.add('//! Defaults for local runs.', '');
  plantKV(ctx, d, 'rust');
  negKV(ctx, d, 'rust');
};

const elixir: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`services/${svc(ctx, i)}-ex/config/${r.pick(['prod.secret.exs', 'runtime.exs'])}`, 'elixir');
  d.add('import Config', '', `config :tidepool, Tidepool.Repo,`, `  username: "${username(r)}",`);
  const pw = password(r);
  d.secret('generic-password', pw, `  password: ${dq(pw)},`);
  d.add(`  hostname: "${r.pick(HOSTS)}",`, '  pool_size: 10', '', 'config :tidepool, TidepoolWeb.Endpoint,');
  const skb = chars(r, ALNUM + '+/', 64);
  d.secret('generic-secret', skb, `  secret_key_base: ${dq(skb)}`);
  d.add('', 'config :tidepool, :integrations,');
  plantKV(ctx, d, 'exs', undefined, '  ');
  d.neg('env-reference', '  sentry_dsn: System.get_env("SENTRY_DSN")');
};

const wordpress: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`web/blog-${i}/wp-config.php`, 'wordpress', true);
  d.add('<?php', "define( 'DB_NAME', 'blog' );", `define( 'DB_USER', '${username(r)}' );`);
  const pw = password(r);
  d.secret('generic-password', pw, `define( 'DB_PASSWORD', '${pw}' );`);
  d.add("define( 'DB_HOST', 'localhost' );");
  const salt = chars(r, ALNUM + '!@#%^&*()-_[]{}<>~+=,.;:/?|', 64);
  d.secret('wordpress-salt', salt, `define( 'AUTH_KEY',         '${salt}' );`);
  d.neg('placeholder', "define( 'SECURE_AUTH_KEY',  'put your unique phrase here' );");
  d.add('$table_prefix = \'wp_\';', "require_once ABSPATH . 'wp-settings.php';");
};

const postman: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`docs/api/postman/${svc(ctx, i)}.postman_collection.json`, 'postman');
  const t = ctx.nextToken();
  const v = t.make(r);
  d.add('{', '  "info": {', `    "name": "${svc(ctx, i)} API",`, '    "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"', '  },', '  "auth": {', '    "type": "bearer",', '    "bearer": [');
  d.secret(t.id, v, `      { "key": "token", "value": ${dq(v)}, "type": "string" }`);
  d.add('    ]', '  },', '  "variable": [');
  d.neg('env-reference', '    { "key": "baseUrl", "value": "{{host}}/v1" },');
  const t2 = ctx.next();
  const v2 = t2.make(r);
  d.secret(t2.id, v2, `    { "key": "${camel(envName(r, t2))}", "value": ${dq(v2)} },`);
  d.neg('placeholder', '    { "key": "apiKey", "value": "<set-in-environment>" }');
  d.add('  ],', '  "item": []', '}');
};

const har: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`qa/captures/${r.pick(['login-flow', 'checkout', 'upload'])}-${i}.har`, 'har');
  const tok = jwt(r);
  const pw = password(r);
  d.add('{', '  "log": {', '    "version": "1.2",', '    "creator": { "name": "Firefox", "version": "124.0" },', '    "entries": [', '      {', '        "request": {', '          "method": "POST",', '          "url": "https://api.tidepool.io/v1/session",', '          "headers": [');
  d.secret('jwt-bearer-token', tok, `            { "name": "Authorization", "value": "Bearer ${tok}" },`);
  d.neg('uuid', `            { "name": "X-Request-Id", "value": "${uuid(r)}" }`);
  d.add('          ],', '          "postData": {', '            "mimeType": "application/x-www-form-urlencoded",');
  d.secret('generic-password', pw, `            "text": "username=${username(r)}%40tidepool.io&password=${encodeURIComponent(pw)}&remember=1"`, encodeURIComponent(pw));
  d.add('          }', '        },', '        "response": { "status": 200, "headers": [] }', '      }', '    ]', '  }', '}');
};

const readme: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`${r.pick(['docs/runbooks', 'docs/howto', 'services/' + svc(ctx, i)])}/${r.pick(['README', 'ONCALL', 'debugging', 'api-access'])}-${i}.md`, 'markdown');
  d.add(`# ${svc(ctx, i)}: calling the API by hand`, '', 'Grab a token from the vault first. For a quick check:', '', '```sh');
  const t = ctx.nextToken();
  const v = t.make(r);
  d.secret(t.id, v, `curl -s https://api.${r.pick(['tidepool.io', 'partner.example.net'])}/v2/status -H "${r.pick(['Authorization: Bearer ', 'X-Api-Key: ', 'Authorization: Token '])}${v}"`);
  d.neg('placeholder', 'curl -s https://api.tidepool.io/v2/status -H "Authorization: Bearer <TOKEN>"');
  d.add('```', '', 'Or with basic auth against the staging registry:', '', '```sh');
  const pw = password(r);
  const u = username(r);
  if (r.next() < 0.5) d.secret('curl-user-password', pw, `curl -u ${u}:${pw} https://registry.staging.tidepool.io/v2/_catalog`);
  else {
    const basic = b64(`${u}:${pw}`);
    d.secret('basic-auth-header', basic, `curl -H "Authorization: Basic ${basic}" https://registry.staging.tidepool.io/v2/_catalog`);
  }
  d.add('```', '');
  d.neg('documented-example', `The AWS docs use \`${cat('AKIA', 'IOSFODNN7', 'EXAMPLE')}\` as the example key ID; never paste a real one here.`);
};

const shellHistory: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`ops/forensics/${r.pick(['bastion', 'gpu-3', 'airflow-worker'])}-${i}/${r.pick(['.bash_history', '.zsh_history'])}`, 'shell-history');
  d.add('cd /srv/airflow', 'git pull --rebase', 'htop');
  plantKV(ctx, d, 'shell');
  const pw = password(r);
  d.secret('generic-password', pw, r.pick([`mysql -h ${r.pick(HOSTS)} -u root -p'${pw}' labels`, `PGPASSWORD='${pw}' psql -h ${r.pick(HOSTS)} -U ${username(r)} analytics`, `sshpass -p '${pw}' ssh deploy@10.30.1.5`]));
  const t = ctx.nextToken();
  const v = t.make(r);
  const cmd = t.id.startsWith('github-') ? `echo '${v}' | gh auth login --with-token`
    : t.id.startsWith('vault-') ? `vault login ${v}`
      : r.pick([`http POST https://api.tidepool.io/v1/jobs "Authorization:Bearer ${v}"`, `./bin/sync --token ${v} --dry-run`, `curl -H "X-Api-Key: ${v}" https://api.tidepool.io/v1/health`]);
  d.secret(t.id, v, cmd);
  d.neg('env-reference', 'export AWS_PROFILE=etl-temp');
  d.add('kubectl -n data-platform get pods', 'exit');
};

const sqlDump: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`db/dumps/${r.pick(['labels', 'features', 'admin'])}-${2024 + i}-schema.sql`, 'sql-dump');
  d.add('-- PostgreSQL database dump', '-- Dumped from database version 15.4', '');
  const { uri, value, shown } = dbUri(ctx);
  d.secret('database-uri-password', value, `-- source: ${uri}`, shown);
  d.add('SET statement_timeout = 0;', '');
  const pw = password(r);
  d.secret('generic-password', pw, `CREATE ROLE ${username(r).replace(/-/g, '_')} WITH LOGIN PASSWORD '${pw}';`);
  d.neg('hash', `ALTER ROLE reporting WITH PASSWORD 'SCRAM-SHA-256$4096:${b64(bytes(r, 16))}$${b64(bytes(r, 32))}:${b64(bytes(r, 32))}';`);
  d.add('CREATE TABLE public.labels (id bigint NOT NULL, name text);');
  d.neg('hash', `INSERT INTO public.users (id, email, password_hash) VALUES (1, 'ops@tidepool.io', '${cat('$2b', '$12$')}${chars(r, ALNUM + './', 53)}');`);
};

const logFile: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`logs/${r.pick(['gateway', 'ingest', 'model-serving'])}-${i}.log`, 'log');
  const ts = (): string => `2024-0${1 + r.int(9)}-1${r.int(9)}T0${r.int(9)}:${10 + r.int(49)}:${10 + r.int(49)}.${100 + r.int(899)}Z`;
  d.add(`${ts()} INFO  starting worker pid=${1000 + r.int(9000)}`);
  const tok = jwt(r);
  d.secret('jwt-bearer-token', tok, `${ts()} DEBUG outgoing request POST /v1/predict headers={"Authorization": "Bearer ${tok}", "Content-Type": "application/json"}`);
  d.neg('hash', `${ts()} INFO  model checksum sha256=${sha256hex(String(r.next()))}`);
  const t = ctx.next();
  const v = t.make(r);
  d.secret(t.id, v, `${ts()} WARN  retrying with fallback credential ${envName(r, t).toLowerCase()}=${v}`);
  d.neg('uuid', `${ts()} INFO  request_id=${uuid(r)} status=200 latency_ms=${r.int(900)}`);
  if (r.next() < 0.5) {
    const basic = b64(`${username(r)}:${password(r)}`);
    d.secret('basic-auth-header', basic, `${ts()} DEBUG > Authorization: Basic ${basic}`);
  }
};

const crashDump: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`support/crash-reports/${r.pick(['trainer', 'ios', 'exporter'])}-${i}.crash.txt`, 'crash-dump');
  d.add('Exception: RuntimeError: CUDA out of memory', 'Traceback (most recent call last):', '  File "/srv/trainer/main.py", line 88, in <module>', '', '--- process environment ---', 'HOME=/home/trainer', 'PATH=/usr/local/bin:/usr/bin');
  plantKV(ctx, d, 'env');
  plantKV(ctx, d, 'env');
  d.neg('hash', `CUDA_DRIVER_SHA=${chars(r, HEX, 40)}`);
  d.add('PYTHONUNBUFFERED=1', '--- end ---');
};

const blockScalar: Kind = (ctx, i) => {
  const r = ctx.rng;
  const [type, make] = PEM_KINDS[i % PEM_KINDS.length]!;
  const pem = make(r);
  const d = ctx.doc(`deploy/config/${svc(ctx, i)}-tls${i}.yaml`, 'yaml-block-scalar');
  d.add('tls:', '  enabled: true', '  certificate: |');
  d.neg('public-key', publicPem(r, true).split('\n').map((l) => '    ' + l).join('\n'));
  const ind = indent(pem, '    ');
  d.secret(type, pem, `  key: |\n${ind}`, ind.trimStart());
  d.add('extraEnv: |');
  const t = ctx.next();
  const v = t.make(r);
  d.secret(t.id, v, `  ${envName(r, t)}=${v}`);
  d.add('  LOG_LEVEL=info');
};

const bundle: Kind = (ctx, _i) => {
  const r = ctx.rng;
  const d = ctx.doc(`web/dashboard/dist/assets/index-${chars(r, HEX, 8)}.js`, 'minified-bundle');
  d.add('/*! tidepool dashboard | (c) Tidepool */');
  const parts: (string | Part)[] = [`(()=>{"use strict";var e={${chars(r, LOWER, 1)}:${r.int(99)}};`];
  for (let k = 0; k < 4; k++) {
    const t = ctx.next();
    const v = t.make(r);
    parts.push(`const ${chars(r, LOWER, 1)}${k}={${camel(envName(r, t))}:"`, { type: t.id, value: v }, `",timeout:${r.int(9000)}};`);
  }
  parts.push(`var pk="${publishable(r)[1]}";function n(t){return fetch(t)}})();`);
  d.multi(parts);
  d.negs.push({ line: d.lines.length, category: 'publishable-key' });
  d.add('//# sourceMappingURL=index.js.map');
};

const sourceMap: Kind = (ctx, _i) => {
  const r = ctx.rng;
  const d = ctx.doc(`web/dashboard/dist/assets/index-${chars(r, HEX, 8)}.js.map`, 'source-map');
  const parts: (string | Part)[] = ['{"version":3,"file":"index.js","sources":["../../src/config.ts"],"sourcesContent":["// runtime config\\n'];
  for (let k = 0; k < 3; k++) {
    const t = ctx.next();
    const v = t.make(r);
    parts.push(`export const ${camel(envName(r, t))} = \\"`, { type: t.id, value: v }, '\\";\\n');
  }
  parts.push(`"],"names":[],"mappings":"${chars(r, ALNUM + ';,', 120)}"}`);
  d.multi(parts);
};

const keyFile: Kind = (ctx, i) => {
  const r = ctx.rng;
  const choices: [string, string, () => string][] = [
    [`ops/keys/deploy-${i}.pem`, 'rsa-private-key', () => rsaPem(r)],
    [`ops/bastion-${i}/id_ed25519`, 'openssh-private-key', () => opensshPem(r)],
    [`ops/windows-${i}/jump.ppk`, 'putty-private-key', () => puttyKey(r)],
    [`release/signing-${i}.asc`, 'pgp-private-key', () => pgpKey(r)],
    [`mobile/ios-${i}/AuthKey_${chars(r, UPPER + DIGITS, 10)}.p8`, 'pkcs8-private-key', () => pkcs8Pem(r, true)],
    [`services/gateway/certs/server-${i}.key`, 'ec-private-key', () => ecPem(r)],
    [`ops/keys/backup-${i}.key`, 'encrypted-private-key', () => encryptedPkcs8Pem(r)],
  ];
  const [file, type, make] = choices[i % choices.length]!;
  const pem = make();
  const d = ctx.doc(file, 'key-file');
  d.secret(type, pem, pem);
  if (i % 3 === 0) {
    const p = ctx.doc(file.replace(/\.[a-z0-9]+$|$/, '.pub'), 'public-key');
    p.neg('public-key', sshPublicKey(r));
  }
};

const gcpServiceAccount: Kind = (ctx, i) => {
  const r = ctx.rng;
  const pem = pkcs8Pem(r);
  const d = ctx.doc(`${r.pick(['airflow/keys', 'notebooks/.secrets', 'infra/bootstrap'])}/${r.pick(['bq-loader', 'vertex-trainer', 'gcs-reader'])}-${i}.json`, 'gcp-service-account');
  const project = `tidepool-${r.pick(['ml', 'data', 'prod'])}-${r.int(900) + 100}`;
  d.add('{', '  "type": "service_account",', `  "project_id": "${project}",`);
  d.neg('hash', `  "private_key_id": "${chars(r, HEX, 40)}",`);
  const shown = JSON.stringify(pem).slice(1, -1);
  d.secret('gcp-service-account-key', pem, `  "private_key": "${shown}\\n",`, shown);
  d.add(`  "client_email": "loader@${project}.iam.gserviceaccount.com",`, `  "client_id": "${chars(r, DIGITS, 21)}",`, '  "auth_uri": "https://accounts.google.com/o/oauth2/auth",', '  "token_uri": "https://oauth2.googleapis.com/token"', '}');
};

const dockerConfig: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`ops/ci-runner-${i}/.docker/config.json`, 'docker-config');
  const auth = b64(`${username(r)}:${r.next() < 0.5 ? password(r) : typeOf('dockerhub-pat').make(r)}`);
  d.add('{', '  "auths": {', '    "https://index.docker.io/v1/": {');
  d.secret('docker-config-auth', auth, `      "auth": "${auth}"`);
  d.add('    },', '    "ghcr.io": {');
  d.neg('placeholder', '      "auth": ""');
  d.add('    }', '  },', '  "credsStore": "desktop"', '}');
};

const awsCredentials: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`ops/forensics/laptop-${i}/.aws/credentials`, 'aws-credentials');
  d.add('[default]');
  const ak = typeOf('aws-access-key-id').make(r);
  const sk = typeOf('aws-secret-access-key').make(r);
  d.secret('aws-access-key-id', ak, `aws_access_key_id = ${ak}`);
  d.secret('aws-secret-access-key', sk, `aws_secret_access_key = ${sk}`);
  d.add('', '[etl-temp]');
  const tk = cat('AS', 'IA') + chars(r, UPPER + '234567', 16);
  const ts = typeOf('aws-secret-access-key').make(r);
  const st = typeOf('aws-session-token').make(r);
  d.secret('aws-sts-access-key-id', tk, `aws_access_key_id = ${tk}`);
  d.secret('aws-secret-access-key', ts, `aws_secret_access_key = ${ts}`);
  d.secret('aws-session-token', st, `aws_session_token = ${st}`);
  d.add('', '[docs-example]');
  d.neg('documented-example', `aws_access_key_id = ${cat('AKIA', 'IOSFODNN7', 'EXAMPLE')}`);
  d.neg('documented-example', `aws_secret_access_key = ${cat('wJalrXUtnFEMI', '/K7MDENG/bPxRfiCY', 'EXAMPLEKEY')}`);
};

const kubeconfig: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`ops/kube/${r.pick(['gpu-cluster', 'etl-cluster'])}-${i}.kubeconfig`, 'kubeconfig');
  const pem = rsaPem(r);
  d.add('apiVersion: v1', 'kind: Config', 'clusters:', '- cluster:');
  d.neg('public-key', `    certificate-authority-data: ${b64(publicPem(r, true))}`);
  d.add(`    server: https://10.40.${i}.1:6443`, '  name: gpu', 'users:', '- name: admin', '  user:');
  d.neg('public-key', `    client-certificate-data: ${b64(publicPem(r, true))}`);
  d.secret('kubeconfig-client-key', pem, `    client-key-data: ${b64(pem)}`, b64(pem));
};

const registryRc: Kind = (ctx, i) => {
  const r = ctx.rng;
  switch (i % 4) {
    case 0: {
      const d = ctx.doc(`web/dashboard-${i}/.npmrc`, 'npmrc');
      const v = typeOf('npm-access-token').make(r);
      d.add('@tidepool:registry=https://registry.npmjs.org/');
      d.secret('npm-access-token', v, `//registry.npmjs.org/:_authToken=${v}`);
      d.neg('env-reference', '//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}');
      break;
    }
    case 1: {
      const d = ctx.doc(`tools/pypi-${i}/.pypirc`, 'pypirc');
      const v = typeOf('pypi-api-token').make(r);
      d.add('[distutils]', 'index-servers = pypi', '', '[pypi]', 'username = __token__');
      d.secret('pypi-api-token', v, `password = ${v}`);
      break;
    }
    case 2: {
      const d = ctx.doc(`ops/forensics/laptop-${i}/.netrc`, 'netrc');
      const pw = password(r);
      d.secret('generic-password', pw, `machine nexus.tidepool.local login ${username(r)} password ${pw}`);
      const v = typeOf('github-pat').make(r);
      d.secret('github-pat', v, `machine api.github.com login ci-bot password ${v}`);
      break;
    }
    default: {
      const d = ctx.doc(`ops/forensics/laptop-${i}/.git-credentials`, 'git-credentials');
      const v = typeOf('gitlab-pat').make(r);
      d.secret('gitlab-pat', v, `https://oauth2:${v}@gitlab.tidepool.io`);
      const pw = password(r);
      d.secret('generic-password', pw, `https://${username(r)}:${encodeURIComponent(pw)}@bitbucket.org`, encodeURIComponent(pw));
    }
  }
};

const pySettings: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`services/${svc(ctx, i)}/${r.pick(['settings/production.py', 'app/config.py', 'src/constants.py'])}`, 'python');
  d.add('import os', '', 'DEBUG = False', 'ALLOWED_HOSTS = ["api.tidepool.io"]');
  plantKV(ctx, d, 'py');
  negKV(ctx, d, 'py');
  plantKV(ctx, d, 'py');
  if (r.next() < 0.5) {
    const { uri, value, shown } = dbUri(ctx);
    d.secret('database-uri-password', value, `CELERY_BROKER_URL = "${uri}"`, shown);
  }
  d.neg('i18n', 'PASSWORD_LABEL = _("Password")');
};

const tsConfig: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`${r.pick(['web/dashboard/src', 'mobile/rn-app/src', 'services/gateway/src'])}/config/${r.pick(['integrations', 'defaults', 'providers'])}-${i}.ts`, 'typescript');
  d.add("import { z } from 'zod';", '', 'export const config = {');
  plantKV(ctx, d, 'ts', undefined, '  ');
  negKV(ctx, d, 'ts', '  ');
  plantKV(ctx, d, 'ts', undefined, '  ');
  d.add('};');
  if (r.next() < 0.4) {
    // A key split across a concatenation, as people do to dodge a linter.
    const t = ctx.next();
    const v = t.make(r);
    const cut = 4 + r.int(Math.max(1, v.length - 8));
    const text = `export const ${camel(envName(r, t))} = '${v.slice(0, cut)}' + '${v.slice(cut)}';`;
    d.secret(t.id, v, text, v.slice(0, cut));
  }
};

const compose: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`ops/compose/${r.pick(['local', 'lab', 'demo'])}-${i}/docker-compose.yml`, 'docker-compose');
  d.add('services:', '  airflow:', '    image: apache/airflow:2.9.1', '    environment:');
  const { uri, value, shown } = dbUri(ctx);
  d.secret('database-uri-password', value, `      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: ${uri}`, shown);
  const fk = b64(bytes(r, 32)).replace(/\+/g, '-').replace(/\//g, '_');
  d.secret('generic-secret', fk, `      AIRFLOW__CORE__FERNET_KEY: ${fk}`);
  d.add('  postgres:', '    image: postgres:16', '    environment:');
  const pw = password(r);
  d.secret('generic-password', pw, `      POSTGRES_PASSWORD: ${yq(pw)}`);
  negKV(ctx, d, 'yaml', '      ');
  d.add('  mlflow:', '    image: ghcr.io/mlflow/mlflow:v2.12.1', '    environment:');
  plantKV(ctx, d, 'yaml', undefined, '      ');
};

const dockerfile: Kind = (ctx, i) => {
  const d = ctx.doc(`services/${svc(ctx, i)}/Dockerfile`, 'dockerfile');
  d.add('FROM python:3.11-slim', 'WORKDIR /app', 'COPY requirements.txt .');
  plantKV(ctx, d, 'docker');
  d.add('RUN pip install --no-cache-dir -r requirements.txt');
  negKV(ctx, d, 'docker');
  d.add('COPY . .', 'CMD ["python", "-m", "app"]');
};

const sopsFile: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`deploy/secrets/${svc(ctx, i)}.enc.yaml`, 'sops');
  d.neg('encrypted', `db_password: ENC[AES256_GCM,data:${b64(bytes(r, 18))},iv:${b64(bytes(r, 32))},tag:${b64(bytes(r, 16))},type:str]`);
  d.neg('encrypted', `api_token: ENC[AES256_GCM,data:${b64(bytes(r, 30))},iv:${b64(bytes(r, 32))},tag:${b64(bytes(r, 16))},type:str]`);
  d.add('sops:', '    age:');
  d.neg('public-key', `        - recipient: ${bech32('age', bytes(r, 32))}`);
  d.add('    version: 3.8.1');
  if (i % 2 === 0) {
    // The operator's age identity left next to the encrypted file.
    const k = ctx.doc(`deploy/secrets/keys-${i}.txt`, 'age-identity');
    const v = typeOf('age-secret-key').make(r);
    k.add(`# created: 2024-0${1 + r.int(9)}-1${r.int(9)}T10:00:00Z`);
    k.neg('public-key', `# public key: ${bech32('age', bytes(r, 32))}`);
    k.secret('age-secret-key', v, v);
  }
};

// Files that only hold hard negatives.
const lockFiles: Kind = (ctx, i) => {
  const r = ctx.rng;
  switch (i % 5) {
    case 0: {
      const d = ctx.doc(`web/dashboard-${i}/package-lock.json`, 'lockfile');
      d.add('{', '  "name": "dashboard",', '  "lockfileVersion": 3,', '  "packages": {');
      for (const p of ['react', 'zod', 'vite', 'axios']) {
        d.add(`    "node_modules/${p}": {`, `      "version": "${1 + r.int(9)}.${r.int(20)}.${r.int(9)}",`, `      "resolved": "https://registry.npmjs.org/${p}/-/${p}-1.0.0.tgz",`);
        d.neg('lock-file', `      "integrity": "sha512-${b64(bytes(r, 64))}"`);
        d.add('    },');
      }
      d.add('  }', '}');
      break;
    }
    case 1: {
      const d = ctx.doc(`services/gateway-${i}/go.sum`, 'lockfile');
      for (const m of ['github.com/aws/aws-sdk-go-v2 v1.25.0', 'golang.org/x/crypto v0.21.0', 'github.com/stripe/stripe-go/v76 v76.20.0']) d.neg('lock-file', `${m} h1:${b64(bytes(r, 32))}`);
      break;
    }
    case 2: {
      const d = ctx.doc(`tools/featurectl-${i}/Cargo.lock`, 'lockfile');
      for (const p of ['serde', 'tokio', 'reqwest']) {
        d.add('[[package]]', `name = "${p}"`, 'version = "1.0.0"', 'source = "registry+https://github.com/rust-lang/crates.io-index"');
        d.neg('lock-file', `checksum = "${chars(r, HEX, 64)}"`);
        d.add('');
      }
      break;
    }
    case 3: {
      const d = ctx.doc(`analytics/poetry-${i}.lock`, 'lockfile');
      d.add('[[package]]', 'name = "pandas"', 'version = "2.2.1"', 'files = [');
      for (let k = 0; k < 3; k++) d.neg('lock-file', `    {file = "pandas-2.2.1-cp311-cp311-manylinux_2_17_x86_64.whl", hash = "sha256:${chars(r, HEX, 64)}"},`);
      d.add(']');
      break;
    }
    default: {
      const d = ctx.doc(`mobile/rn-app-${i}/yarn.lock`, 'lockfile');
      for (const p of ['react-native', 'hermes-engine']) {
        d.add(`${p}@^0.73.0:`, '  version "0.73.4"', `  resolved "https://registry.yarnpkg.com/${p}/-/${p}-0.73.4.tgz#${chars(r, HEX, 40)}"`);
        d.neg('lock-file', `  integrity sha512-${b64(bytes(r, 64))}`);
      }
    }
  }
};

const testFixture: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`services/${svc(ctx, i)}/tests/fixtures/fake_credentials_${i}.py`, 'test-fixture');
  d.add('"""Obviously fake values for unit tests. None of these work anywhere."""');
  d.neg('test-fixture', `FAKE_GITHUB_TOKEN = "${cat('gh', 'p_')}${'0'.repeat(36)}"`);
  d.neg('test-fixture', `FAKE_SLACK_TOKEN = "${cat('xo', 'xb-')}000000000000-0000000000000-${'a'.repeat(24)}"`);
  d.neg('test-fixture', `FAKE_AWS_KEY = "${cat('AK', 'IA')}${'A'.repeat(16)}"`);
  d.neg('test-fixture', `TEST_PASSWORD = "password123"`);
  d.neg('near-miss', `BAD_CHECKSUM = "${badChecksum(r, cat('gh', 'p_'))}"`);
};

const exampleDocs: Kind = (ctx, i) => {
  const r = ctx.rng;
  const d = ctx.doc(`docs/integrations/${r.pick(['stripe', 'mapbox', 'posthog', 'supabase', 'algolia', 'aws'])}-${i}.md`, 'markdown');
  d.add('# Client-side keys', '', 'These keys are public by design and ship in the app bundle:', '');
  d.neg('publishable-key', `- publishable: \`${publishable(r)[1]}\``);
  d.neg('publishable-key', `- ALGOLIA_SEARCH_ONLY_KEY=${chars(r, HEX, 32)} (search-only, safe in the browser)`);
  d.add('', 'The server-side keys live in Vault. Example from the provider docs:', '');
  d.neg('documented-example', `    ${r.pick(DOC_EXAMPLES)[1]}`);
  d.neg('public-key', `Deploy key: ${sshPublicKey(r)}`);
  d.add('', 'Public key for verifying webhook signatures:', '');
  d.neg('public-key', publicPem(r));
  d.neg('uuid', `Tenant: ${uuid(r)}`);
};

// How many of each file kind: ~250 files.
const PLAN: [Kind, number][] = [
  [dotenv, 14], [notebook, 10], [airflowDag, 8], [dbtProfiles, 3], [ansibleVars, 6], [ansibleInventory, 3], [helmValues, 7], [kustomize, 4], [k8sSecret, 5],
  [terraform, 7], [tfvars, 4], [pulumiTs, 3], [pulumiYaml, 4], [serverless, 4], [ghActions, 6], [gitlabCi, 4], [circleci, 3], [jenkinsfile, 4],
  [gradleProps, 3], [plist, 3], [xcconfig, 3], [flutter, 3], [springYaml, 3], [springProps, 3], [dotnetSecrets, 3], [goSource, 4], [rustSource, 4], [elixir, 3],
  [wordpress, 2], [postman, 4], [har, 4], [readme, 8], [shellHistory, 5], [sqlDump, 3], [logFile, 5], [crashDump, 4], [blockScalar, 5], [bundle, 3], [sourceMap, 3],
  [keyFile, 9], [gcpServiceAccount, 3], [dockerConfig, 3], [awsCredentials, 3], [kubeconfig, 2], [registryRc, 8], [pySettings, 8], [tsConfig, 7], [compose, 4], [dockerfile, 5],
  [sopsFile, 4], [lockFiles, 10], [testFixture, 3], [exampleDocs, 5],
];

export interface GenerateResult {
  manifest: Manifest;
  bytes: number;
}

/** Writes the corpus under `dir` (replacing it) and returns the manifest (the caller writes it). */
export function generateCorpus(dir: string, seed: string): GenerateResult {
  const rng = createPrng('realistic-corpus-2', seed);
  let queue: SecretType[] = [];
  // Types nextToken() skips are handed out first by next(), so every type keeps its share.
  const deferred: SecretType[] = [];
  const docs: Doc[] = [];
  const used = new Set<string>();
  const ctx: Ctx = {
    rng,
    next() {
      if (deferred.length > 0) return deferred.shift()!;
      if (queue.length === 0) queue = rng.shuffle(SECRET_TYPES);
      return queue.pop()!;
    },
    nextToken() {
      for (;;) {
        if (queue.length === 0) queue = rng.shuffle(SECRET_TYPES);
        const t = queue.pop()!;
        if (!NOT_TOKENS.has(t.id)) return t;
        deferred.push(t);
      }
    },
    docs,
    doc(file, kind, crlf = false) {
      let f = file;
      for (let n = 2; used.has(f); n++) f = file.replace(/(\.[^./]+)?$/, (ext) => `-${n}${ext}`);
      used.add(f);
      const d = new Doc(f, kind, crlf);
      docs.push(d);
      return d;
    },
  };
  for (const [kind, n] of PLAN) for (let i = 0; i < n; i++) kind(ctx, i);

  rmSync(dir, { recursive: true, force: true });
  let total = 0;
  const secrets: Planted[] = [];
  const negatives: Negative[] = [];
  for (const d of docs) {
    const out = path.join(dir, d.file);
    mkdirSync(path.dirname(out), { recursive: true });
    const text = d.render();
    writeFileSync(out, text);
    total += Buffer.byteLength(text);
    for (const p of d.plants) secrets.push({ file: d.file, ...p });
    for (const n of d.negs) negatives.push({ file: d.file, ...n });
  }
  const formats = [...new Set(docs.map((d) => d.kind))].sort();
  return { manifest: { version: CORPUS_VERSION, seed, files: docs.length, formats, secrets, negatives }, bytes: total };
}
