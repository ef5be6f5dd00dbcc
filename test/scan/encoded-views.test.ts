/**
 * Decoded views add findings, never hide one: a secret base64-encoded in a Kubernetes Secret's
 * `data:`, escaped in a JSON string (a notebook), or URL-encoded in a query string is found and
 * placed on the encoded text; minified bundles work; hostile inputs finish within bounds, with a
 * counted warning where a view was cut.
 */
import { describe, expect, it } from 'vitest';
import { createRuleset } from '../../src/scan/engine.js';
import { builtinDetectors } from '../../src/scan/detectors/index.js';
import { scanUnit } from '../../src/scan/sources/read-file.js';
import { scanDecodedViews } from '../../src/scan/views/scan-views.js';
import { fingerprintSecret } from '../../src/scan/redact.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';

const ruleset = createRuleset(builtinDetectors);
const rng = createRng('encoded-views');
const token = (): string => secretGenerators['github-pat-classic']!(rng).secret;
const awsId = (): string => secretGenerators['aws-access-key-id']!(rng).secret;
const scan = (file: string, text: string | Buffer) => scanUnit({ file, content: typeof text === 'string' ? Buffer.from(text) : text }, ruleset, {});
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function one(file: string, text: string, secret: string): { startLine: number; startColumn: number } {
  const r = scan(file, text);
  const hits = r.findings.filter((f) => f.fingerprint === fingerprintSecret(secret));
  expect(hits, file).toHaveLength(1);
  return hits[0]!;
}

describe('decoded views', () => {
  it('Kubernetes Secret data: values, placed at the encoded value', () => {
    const t = token();
    const text = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: gh\ndata:\n  user: ${b64('ci-bot')}\n  token: ${b64(`${t}\n`)}\n`;
    expect(one('secret.yaml', text, t)).toMatchObject({ startLine: 7, startColumn: 10 });
  });

  it('a value encoding a whole file (env style) is scanned, and not outside a Secret', () => {
    const t = awsId();
    const body = b64(`AWS_REGION=eu-west-1\nAWS_ACCESS_KEY_ID=${t}\n`);
    expect(one('s.yaml', `kind: Secret\ndata:\n  env: "${body}"\n`, t).startLine).toBe(3);
    expect(scan('cm.yaml', `kind: ConfigMap\ndata:\n  env: ${body}\n`).findings).toEqual([]);
  });

  it('JSON strings with \\/ and \\u escapes', () => {
    const t = token();
    const hidden = `${t.slice(0, 4)}\\u00${t.charCodeAt(4).toString(16)}${t.slice(5)}`;
    const text = `{\n  "a": 1,\n  "remote": "https:\\/\\/x:${hidden}@github.com\\/acme\\/repo.git"\n}\n`;
    expect(one('config.json', text, t).startLine).toBe(3);
  });

  it('Jupyter notebook outputs and sources', () => {
    const t = awsId();
    const hidden = t.replace(/A/, '\\u0041');
    const nb = JSON.stringify({ cells: [{ cell_type: 'code', source: ['import os\n'], outputs: [{ text: ['PLACEHOLDER\n'] }] }] }, null, 1).replace('PLACEHOLDER', `key=${hidden}`);
    expect(one('nb.ipynb', nb, t).startLine).toBe(nb.slice(0, nb.indexOf('key=')).split('\n').length);
  });

  it('URL-encoded query strings', () => {
    const t = token();
    const enc = `${t.slice(0, 3)}%5F${t.slice(4)}`;
    const text = `curl 'https://api.example.com/v1?a=1&token=${enc}&b=%2F%3D%2B'\n`;
    const f = one('run.sh', text, t);
    expect(f).toMatchObject({ startLine: 1, startColumn: text.indexOf(enc) + 1 });
  });

  it('minified bundles: a secret on a 2 MB line', () => {
    const t = token();
    const filler = 'var a=function(b){return b+1};'.repeat(35_000);
    const text = `${filler}const k="${t}";${filler}\n`;
    expect(one('app.min.js', text, t)).toMatchObject({ startLine: 1, startColumn: filler.length + 10 });
  });

  it('a secret two views see is reported once', () => {
    const t = token();
    // Raw in the file, and again in an escaped JSON string on the same line.
    expect(scan('x.json', `{"u": "https:\\/\\/${t}@github.com"}\n`).findings).toHaveLength(1);
  });

  it('an allow comment on the encoded line suppresses a decoded finding', () => {
    const t = token();
    const r = scan('s.yaml', `kind: Secret\ndata:\n  token: ${b64(t)} # keywarden:allow\n`);
    expect(r.findings).toEqual([]);
  });
});

describe('hostile inputs', () => {
  it('a 20 MB base64 blob', () => {
    const blob = Buffer.alloc(20 * 1024 * 1024, 'QUFB');
    const t0 = Date.now();
    const r = scanDecodedViews(Buffer.concat([Buffer.from('kind: Secret\ndata:\n  big: '), blob, Buffer.from('\n')]), ruleset, { file: 'big.yaml' });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.cut).toBeGreaterThan(0);
  });

  it('a YAML with 100k data: entries is cut with a counted warning, and a secret early on is found', () => {
    const t = token();
    const lines = ['kind: Secret', 'data:', `  first: ${b64(t)}`];
    for (let i = 0; i < 100_000; i++) lines.push(`  k${i}: ${b64(`value-${i}`)}`);
    const t0 = Date.now();
    const r = scan('many.yaml', `${lines.join('\n')}\n`);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.findings.some((f) => f.fingerprint === fingerprintSecret(t))).toBe(true);
    const w = r.warnings.find((x) => x.code === 'KW_VIEW_PARTIAL');
    expect(w?.message).toMatch(/\d+ encoded value/);
  });

  it('deeply nested escapes decode one level and stay bounded', () => {
    const nested = `{"a": "${'\\\\'.repeat(500_000)}\\u0041"}\n`;
    const t0 = Date.now();
    const r = scan('deep.json', nested);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.scanned).toBe(true);
  });

  it('many URL escapes and many JSON strings finish in bounded time', () => {
    const text = `${'%41'.repeat(2_000_000)}\n${'"\\/",'.repeat(500_000)}\n`;
    const t0 = Date.now();
    const r = scan('noise.txt', text);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.warnings.some((w) => w.code === 'KW_VIEW_PARTIAL')).toBe(true);
  });
});
