import { describe, expect, it } from 'vitest';
import { patchFile, type PatchFileResult, type PatchSite } from '../../src/remediate/index.js';
import { envExpression } from '../../src/remediate/patch-typescript.js';
import { fakePem, fakeSecret, siteOf } from './helpers.js';

function edited(r: PatchFileResult): Extract<PatchFileResult, { action: 'edit' }> {
  if (r.action !== 'edit') throw new Error(`expected an edit, got ${r.action}: ${JSON.stringify(r.sites)}`);
  return r;
}

/** Everything before `start` and after `end` of the original is byte-identical in the patched text. */
function expectKeptOutside(original: string, patched: string, start: number, end: number): void {
  expect(patched.startsWith(original.slice(0, start))).toBe(true);
  expect(patched.endsWith(original.slice(end))).toBe(true);
}

/** Patches one site and returns the result, checking the secret is gone. */
function patchOne(path: string, text: string, secret: string, site: Partial<PatchSite> = {}): Extract<PatchFileResult, { action: 'edit' }> {
  const r = edited(patchFile({ path, text, sites: [{ ...siteOf(text, secret, { type: 'stripe-key' }), ...site }] }));
  expect(r.text).not.toContain(secret);
  expect(r.method).toBe('ts-morph');
  expect(r.sites.map((s) => s.outcome)).toEqual(['replaced']);
  return r;
}

describe('patchFile: TypeScript and JavaScript', () => {
  it('const key = "…": the literal becomes the environment expression, named after the variable', () => {
    const secret = fakeSecret('sk_live_');
    const text = `// header comment\nconst stripeSecret = '${secret}'; // trailing comment\n\nexport { stripeSecret };\n`;
    const r = patchOne('src/pay.ts', text, secret);
    expect(r.envVars).toEqual([{ name: 'STRIPE_SECRET', fingerprint: siteOf(text, secret).fingerprint, line: 2 }]);
    const start = text.indexOf(`'${secret}'`);
    expectKeptOutside(text, r.text, start, start + secret.length + 2);
    expect(r.text).toContain(`const stripeSecret = ${envExpression('STRIPE_SECRET', "'")}; // trailing comment`);
  });

  it('object property { secret: "…" } and a generic name nested in a named object', () => {
    const secret = fakeSecret();
    const text = `export const config = {\n  stripe: { secret: "${secret}" },\n  port: 8080,\n};\n`;
    const r = patchOne('config.ts', text, secret);
    expect(r.envVars.map((e) => e.name)).toEqual(['STRIPE_SECRET']);
    const start = text.indexOf(`"${secret}"`);
    expectKeptOutside(text, r.text, start, start + secret.length + 2);
  });

  it('new Client({ apiKey: "…" }) is API_KEY; new OpenAI({ apiKey }) is OPENAI_API_KEY', () => {
    const a = fakeSecret('sk-');
    const b = fakeSecret('sk-');
    const text = `const one = new Client({ apiKey: "${a}" });\nconst two = new OpenAI({ apiKey: "${b}" });\n`;
    const r = edited(patchFile({ path: 'ai.js', text, sites: [siteOf(text, a, { type: 'openai-api-key' }), siteOf(text, b, { type: 'openai-api-key' })] }));
    expect(r.envVars.map((e) => [e.name, e.line])).toEqual([
      ['API_KEY', 1],
      ['OPENAI_API_KEY', 2],
    ]);
    expect(r.text).not.toContain(a);
    expect(r.text).not.toContain(b);
  });

  it('a default parameter function f(token = "…")', () => {
    const secret = fakeSecret('ghp_');
    const text = `export function call(url: string, token = '${secret}'): string {\n  return url + token;\n}\n`;
    const r = patchOne('gh.ts', text, secret, { type: 'github-token' });
    expect(r.envVars.map((e) => e.name)).toEqual(['TOKEN']);
    expect(r.text).toContain(`token = ${envExpression('TOKEN', "'")}): string {`);
  });

  it('a template literal `Bearer ${x}…`: only the secret part becomes ${…}', () => {
    const secret = fakeSecret('ghp_');
    const text = 'export const auth = (user: string) => `Bearer ${user}:' + secret + '`;\n';
    const r = patchOne('auth.ts', text, secret, { type: 'github-token' });
    expect(r.envVars.map((e) => e.name)).toEqual(['GITHUB_TOKEN']);
    expect(r.text).toBe('export const auth = (user: string) => `Bearer ${user}:${' + envExpression('GITHUB_TOKEN', "'", false) + '}`;\n');
  });

  it('a class property', () => {
    const secret = fakeSecret();
    const text = `export class Payments {\n  private readonly secretKey = "${secret}";\n  secret = "${secret}";\n}\n`;
    const r = edited(patchFile({ path: 'p.ts', text, sites: [siteOf(text, secret), siteOf(text, secret, { nth: 1 })] }));
    // Two sites with one fingerprint in one file get one name.
    expect(r.envVars).toHaveLength(1);
    // `secretKey` says little on its own: the class names it.
    expect(r.envVars[0]!.name).toBe('PAYMENTS_SECRET_KEY');
    expect(r.text.split('PAYMENTS_SECRET_KEY').length - 1).toBe(4);
    expect(r.sites.map((s) => s.outcome)).toEqual(['replaced', 'replaced']);
  });

  it('export default { … }', () => {
    const secret = fakeSecret();
    const text = `export default {\n  // the token\n  slackToken: '${secret}',\n};\n`;
    const r = patchOne('slack.mjs', text, secret);
    expect(r.envVars.map((e) => e.name)).toEqual(['SLACK_TOKEN']);
    expect(r.text).toContain('  // the token\n');
  });

  it('a string that contains the secret becomes a template literal with the secret part only', () => {
    const secret = fakeSecret('pw', 20);
    const text = `const url = 'postgres://u:${secret}@h/db?x=\`y\`&z=\${w}';\n`;
    const r = patchOne('db.cjs', text, secret, { type: 'database-uri' });
    expect(r.envVars.map((e) => e.name)).toEqual(['DATABASE_PASSWORD']);
    expect(r.text).toBe('const url = `postgres://u:${' + envExpression('DATABASE_PASSWORD', "'", false) + '}@h/db?x=\\`y\\`&z=\\${w}`;\n');
    // The template keeps the rest of the string's value.
    const value = new Function('process', `${r.text.replace('const url =', 'return')}`)({ env: { DATABASE_PASSWORD: 'P' } }) as string;
    expect(value).toBe('postgres://u:P@h/db?x=`y`&z=${w}');
  });

  it('the expression throws loudly when the variable is unset and reads it when set', () => {
    const secret = fakeSecret();
    const text = `module.exports = { token: '${secret}' };\n`;
    const r = patchOne('t.cjs', text, secret);
    const run = (env: Record<string, string>) => {
      const module = { exports: {} as Record<string, string> };
      new Function('module', 'process', r.text)(module, { env });
      return module.exports.token;
    };
    expect(run({ TOKEN: 'from-env' })).toBe('from-env');
    expect(() => run({})).toThrow('Missing environment variable TOKEN');
  });

  it('a PEM block in a template literal (a multi-line site), whole and with text around it', () => {
    const pem = fakePem('ts-pem-1');
    const pem2 = fakePem('ts-pem-2');
    const text = `export const signingKey = \`${pem}\`;\nexport const other = \`# staging\n${pem2}\n\`;\n`;
    const r = edited(
      patchFile({ path: 'keys.ts', text, sites: [siteOf(text, pem, { type: 'private-key' }), siteOf(text, pem2, { type: 'private-key' })] }),
    );
    expect(r.text).toBe(
      `export const signingKey = ${envExpression('SIGNING_KEY', "'")};\nexport const other = \`# staging\n\${${envExpression('PRIVATE_KEY', "'", false)}}\n\`;\n`,
    );
    expect(r.envVars.map((e) => [e.name, e.line])).toEqual([
      ['SIGNING_KEY', 1],
      ['PRIVATE_KEY', 3],
    ]);
  });

  it('JSX attribute and JSX text', () => {
    const a = fakeSecret();
    const b = fakeSecret();
    const text = `export const App = () => <Maps apiKey="${a}" label="key ${b}">${b}</Maps>;\n`;
    const r = edited(patchFile({ path: 'app.tsx', text, sites: [siteOf(text, a), siteOf(text, b), siteOf(text, b, { nth: 1 })] }));
    // The file quotes with ", so the expression does too.
    expect(r.text).toContain(`apiKey={${envExpression('API_KEY', '"', false)}}`);
    expect(r.text).toContain('label={`key ${' + envExpression('SECRET', '"', false) + '}`}');
    expect(r.text).toContain(`>{${envExpression('SECRET', '"', false)}}</Maps>`);
  });

  it('"…" as const loses its assertion; a secret in a comment becomes the redacted preview', () => {
    const a = fakeSecret();
    const b = fakeSecret('AKIA', 16);
    const text = `export const key = '${a}' as const;\n/* rotated: ${b} */\n// old ${b}\n`;
    const sites = [siteOf(text, a), siteOf(text, b, { type: 'aws-access-key' }), siteOf(text, b, { type: 'aws-access-key', nth: 1 })];
    const r = edited(patchFile({ path: 'k.ts', text, sites }));
    expect(r.text).toBe(`export const key = ${envExpression('KEY', "'")};\n/* rotated: ${sites[1]!.redacted} */\n// old ${sites[1]!.redacted}\n`);
    expect(r.envVars.map((e) => e.name)).toEqual(['KEY']);
  });

  it('replaceWith value: a safe literal, escaped for the quote it goes in', () => {
    const secret = fakeSecret();
    const text = `export const keyId = '${secret}';\nexport const url = "https://x/${secret}";\n`;
    const replaceWith = { kind: 'value' as const, value: "alias/app's-key" };
    const r = edited(patchFile({ path: 'v.ts', text, sites: [siteOf(text, secret, { replaceWith }), siteOf(text, secret, { replaceWith, nth: 1 })] }));
    expect(r.text).toBe(`export const keyId = 'alias/app\\'s-key';\nexport const url = "https://x/alias/app's-key";\n`);
    expect(r.envVars).toEqual([]);
  });

  it('names stay unique against takenEnvNames and reuse knownEnvNames', () => {
    const a = fakeSecret();
    const b = fakeSecret();
    const c = fakeSecret();
    const text = `const apiKey = '${a}';\nconst other = { apiKey: '${b}' };\nconst third = { apiKey: '${c}' };\n`;
    const sites = [siteOf(text, a), siteOf(text, b), siteOf(text, c)];
    const r = edited(
      patchFile({ path: 'n.ts', text, sites, takenEnvNames: new Set(['API_KEY']), knownEnvNames: new Map([[sites[2]!.fingerprint, 'SHARED_KEY']]) }),
    );
    expect(r.envVars.map((e) => e.name)).toEqual(['API_KEY_2', 'OTHER_API_KEY', 'SHARED_KEY']);
  });

  it('constant contexts are unsupported and left alone', () => {
    const secret = fakeSecret();
    const text = `type T = '${secret}';\nenum E { A = '${secret}' }\nexport const o = { '${secret}': 1 };\n`;
    const sites = [siteOf(text, secret), siteOf(text, secret, { nth: 1 }), siteOf(text, secret, { nth: 2 })];
    const r = patchFile({ path: 'c.ts', text, sites });
    expect(r.action).toBe('none');
    expect(r.sites.map((s) => s.outcome)).toEqual(['unsupported', 'unsupported', 'unsupported']);
    expect(r.action === 'none' && r.code).toBe('KW_PATCH_UNSUPPORTED');
  });

  it('a stale site (the fingerprint does not match the text) is reported and the file is unchanged', () => {
    const secret = fakeSecret();
    const text = `const token = '${secret}';\n`;
    const other = { ...siteOf(text, secret), fingerprint: siteOf(`x${fakeSecret()}`, 'x').fingerprint };
    const r = patchFile({ path: 'a.ts', text, sites: [other] });
    expect(r).toMatchObject({ action: 'none', code: 'KW_PATCH_STALE', sites: [{ outcome: 'stale', code: 'KW_PATCH_STALE', line: 1 }] });
    // Outdated positions: the line changed since the scan.
    const shifted = `/* x */ ${text}`;
    const r2 = patchFile({ path: 'a.ts', text: shifted, sites: [siteOf(text, secret)] });
    expect(r2).toMatchObject({ action: 'none', code: 'KW_PATCH_STALE' });
    expect(r2.sites[0]!.outcome).toBe('stale');
    // A range that does not fit the text at all: unsupported.
    const r4 = patchFile({ path: 'a.ts', text: 'x\n', sites: [siteOf(text, secret)] });
    expect(r4).toMatchObject({ action: 'none', code: 'KW_PATCH_UNSUPPORTED', sites: [{ outcome: 'unsupported' }] });
    // One good site and one stale: the good one is patched, the stale one reported.
    const r3 = edited(patchFile({ path: 'a.ts', text, sites: [siteOf(text, secret), other] }));
    expect(r3.sites.map((s) => s.outcome)).toEqual(['replaced', 'stale']);
  });

  it('a file that does not parse gets the text method and a KW_PATCH_UNPARSEABLE note', () => {
    const secret = fakeSecret();
    const text = `const ok = 1;\nfunction (\nconst token = '${secret}';\n`;
    const r = edited(patchFile({ path: 'broken.ts', text, sites: [siteOf(text, secret, { type: 'github-token' })] }));
    expect(r.method).toBe('text');
    expect(r.notes.some((n) => n.startsWith('KW_PATCH_UNPARSEABLE'))).toBe(true);
    expect(r.text).toBe(`const ok = 1;\nfunction (\nconst token = '\${TOKEN}';\n`);
  });
});
