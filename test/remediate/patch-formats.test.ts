import { describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { patchFile, type PatchFileResult } from '../../src/remediate/index.js';
import { fakePem, fakeSecret, fakeServiceAccount, siteOf } from './helpers.js';

function edited(r: PatchFileResult): Extract<PatchFileResult, { action: 'edit' }> {
  if (r.action !== 'edit') throw new Error(`expected an edit, got ${r.action}: ${JSON.stringify(r.sites)}`);
  return r;
}

describe('patchFile: JSON', () => {
  it('the secret part of a string value becomes ${NAME}; everything else is byte-identical', () => {
    const secret = fakeSecret();
    const text = `{\n  "name": "app",\n  "stripeSecret": "${secret}",\n  "db": "postgres://u:${secret}@h/db"\n}\n`;
    const r = edited(patchFile({ path: 'config/app.json', text, sites: [siteOf(text, secret), siteOf(text, secret, { nth: 1 })] }));
    expect(r.text).toBe(`{\n  "name": "app",\n  "stripeSecret": "\${STRIPE_SECRET}",\n  "db": "postgres://u:\${STRIPE_SECRET}@h/db"\n}\n`);
    expect(r.method).toBe('text');
    expect(r.envVars).toEqual([{ name: 'STRIPE_SECRET', fingerprint: siteOf(text, secret).fingerprint, line: 3 }]);
    expect(JSON.parse(r.text)).toMatchObject({ stripeSecret: '${STRIPE_SECRET}' });
    expect(r.notes.join(' ')).toContain('JSON cannot read the environment');
  });

  it('a service-account private_key with \\n escapes (a one-line range)', () => {
    const { json, secret } = fakeServiceAccount('sa-1');
    const site = siteOf(json, secret, { type: 'gcp-service-account' });
    expect(site.startLine).toBe(site.endLine);
    const r = edited(patchFile({ path: 'deploy/service-account.json', text: json, sites: [site] }));
    const parsed = JSON.parse(r.text) as Record<string, string>;
    expect(parsed.private_key).toBe('${PRIVATE_KEY}');
    expect(parsed.client_email).toContain('iam.gserviceaccount.com');
    expect(r.text).not.toContain('BEGIN PRIVATE KEY');
  });

  it('JSONC with comments and a generic key named by its parent; a safe value is JSON-escaped', () => {
    const a = fakeSecret();
    const b = fakeSecret();
    const text = `// settings\n{\n  "stripe": { "secret": "${a}" }, /* x */\n  "keyId": "${b}",\n}\n`;
    const r = edited(
      patchFile({ path: 'settings.jsonc', text, sites: [siteOf(text, a), siteOf(text, b, { replaceWith: { kind: 'value', value: 'alias/"app"' } })] }),
    );
    expect(r.text).toBe(`// settings\n{\n  "stripe": { "secret": "\${STRIPE_SECRET}" }, /* x */\n  "keyId": "alias/\\"app\\"",\n}\n`);
  });

  it('a secret outside any string is unsupported', () => {
    const secret = fakeSecret();
    const text = `{ "a": 1 } // ${secret}\n`;
    const r = patchFile({ path: 'x.json', text, sites: [siteOf(text, secret)] });
    expect(r).toMatchObject({ action: 'none', code: 'KW_PATCH_UNSUPPORTED' });
  });
});

describe('patchFile: YAML', () => {
  it('plain, quoted and block scalars; the result still parses', () => {
    const a = fakeSecret();
    const b = fakeSecret();
    const c = fakeSecret();
    const pem = fakePem('yaml-1');
    const body = pem.split('\n').map((l) => `    ${l}`).join('\n');
    const text = `# app config\nstripe:\n  secret: ${a} # inline comment\napi:\n  token: "${b}"\n  other: 'x-${c}'\ntls:\n  key: |\n${body}\n`;
    const pemInFile = body.trimStart();
    // A PEM in a block scalar is indented: the finding's range is the block as it sits in the file.
    const sites = [siteOf(text, a), siteOf(text, b), siteOf(text, c), siteOf(text, pemInFile, { type: 'private-key' })];
    const r = edited(patchFile({ path: 'deploy/values.yaml', text, sites }));
    expect(r.text).toBe(
      `# app config\nstripe:\n  secret: \${STRIPE_SECRET} # inline comment\napi:\n  token: "\${API_TOKEN}"\n  other: 'x-\${SECRET}'\ntls:\n  key: |\n    \${TLS_KEY}\n`,
    );
    expect(parseYaml(r.text)).toEqual({
      stripe: { secret: '${STRIPE_SECRET}' },
      api: { token: '${API_TOKEN}', other: 'x-${SECRET}' },
      tls: { key: '${TLS_KEY}\n' },
    });
  });

  it('a plain scalar in a flow collection is rewritten double-quoted, so it still parses', () => {
    const a = fakeSecret();
    const text = `tokens: [one, ${a}, three]\nmap: {k: ${a}}\n`;
    const r = edited(patchFile({ path: 'x.yml', text, sites: [siteOf(text, a), siteOf(text, a, { nth: 1 })] }));
    expect(r.text).toBe('tokens: [one, "${SECRET}", three]\nmap: {k: "${SECRET}"}\n');
    expect(parseYaml(r.text)).toEqual({ tokens: ['one', '${SECRET}', 'three'], map: { k: '${SECRET}' } });
  });

  it('a safe value that plain YAML would misread is quoted; several documents', () => {
    const a = fakeSecret();
    const text = `---\nkey: ${a}\n---\nother: 1\n`;
    const r = edited(patchFile({ path: 'x.yaml', text, sites: [siteOf(text, a, { replaceWith: { kind: 'value', value: '*not-an-alias: x' } })] }));
    expect(r.text).toBe('---\nkey: "*not-an-alias: x"\n---\nother: 1\n');
    expect(parseAllDocuments(r.text).map((d) => d.toJS() as unknown)).toEqual([{ key: '*not-an-alias: x' }, { other: 1 }]);
  });
});

describe('patchFile: text formats', () => {
  const cases: Array<[string, (s: string) => string, (n: string) => string]> = [
    ['config/application.properties', (s) => `server.port=8080\nspring.datasource.password=${s}\n`, (n) => `server.port=8080\nspring.datasource.password=\${${n}}\n`],
    ['setup.cfg', (s) => `[auth]\ntoken = ${s}\n`, (n) => `[auth]\ntoken = \${${n}}\n`],
    ['config.toml', (s) => `[db]\npassword = "${s}" # prod\n`, (n) => `[db]\npassword = "\${${n}}" # prod\n`],
    ['nginx.conf', (s) => `proxy_set_header X-Key ${s};\n`, (n) => `proxy_set_header X-Key \${${n}};\n`],
    ['Dockerfile', (s) => `FROM node:20\nENV NPM_TOKEN=${s}\n`, (n) => `FROM node:20\nENV NPM_TOKEN=\${${n}}\n`],
    ['scripts/deploy.sh', (s) => `#!/bin/sh\nexport API_TOKEN="${s}"\ncurl -H "x: $API_TOKEN" x\n`, (n) => `#!/bin/sh\nexport API_TOKEN="\${${n}}"\ncurl -H "x: $API_TOKEN" x\n`],
    ['docs/notes.md', (s) => `Use \`${s}\` for the demo.\n`, (n) => `Use \`\${${n}}\` for the demo.\n`],
  ];
  const names = ['SPRING_DATASOURCE_PASSWORD', 'TOKEN', 'PASSWORD', 'GITHUB_TOKEN', 'NPM_TOKEN', 'API_TOKEN', 'GITHUB_TOKEN'];
  cases.forEach(([path, make, expected], i) => {
    it(`${path}: the secret becomes \${${names[i]}}`, () => {
      const secret = fakeSecret('ghp_');
      const text = make(secret);
      const r = edited(patchFile({ path, text, sites: [siteOf(text, secret, { type: 'github-token' })] }));
      expect(r.method).toBe('text');
      expect(r.text).toBe(expected(names[i]!));
      expect(r.envVars.map((e) => e.name)).toEqual([names[i]]);
    });
  });

  it('.env.example: a whole value is emptied and the line keeps its name', () => {
    const secret = fakeSecret();
    const text = `PORT=3000\nSTRIPE_KEY=${secret}\nDATABASE_URL=postgres://u:${secret}@h/db\n`;
    const r = edited(patchFile({ path: '.env.example', text, sites: [siteOf(text, secret), siteOf(text, secret, { nth: 1 })] }));
    expect(r.text).toBe('PORT=3000\nSTRIPE_KEY=\nDATABASE_URL=postgres://u:${SECRET}@h/db\n');
  });
});

describe('patchFile: Terraform variable files', () => {
  it('*.tfvars: the assignment is removed (a map over lines too) and TF_VAR_<name> is the reference', () => {
    const a = fakeSecret();
    const b = fakeSecret();
    const text = `region = "eu-west-1"\n\ndb_password = "${a}" # prod\nsettings = {\n  token = "${b}"\n  size  = 3\n}\nreplicas = 2\n`;
    const r = edited(patchFile({ path: 'infra/prod.auto.tfvars', text, sites: [siteOf(text, a), siteOf(text, b)] }));
    expect(r.text).toBe('region = "eu-west-1"\n\nreplicas = 2\n');
    expect(r.envVars.map((e) => e.name)).toEqual(['TF_VAR_db_password', 'TF_VAR_settings']);
    expect(r.notes.join('\n')).toContain('set TF_VAR_db_password in the environment');
  });

  it('*.tfvars with a heredoc and a safe value written in place', () => {
    const a = fakeSecret();
    const b = fakeSecret();
    const text = `cert = <<EOT\n${a}\nEOT\nkey_id = "${b}"\n`;
    const r = edited(
      patchFile({ path: 'x.tfvars', text, sites: [siteOf(text, a), siteOf(text, b, { replaceWith: { kind: 'value', value: 'arn:aws:kms:${x}' } })] }),
    );
    expect(r.text).toBe('key_id = "arn:aws:kms:$${x}"\n');
  });

  it('*.tfvars.json: the member is removed and the JSON still parses', () => {
    const a = fakeSecret();
    const text = `{\n  "region": "eu",\n  "db_password": "${a}",\n  "size": 3\n}\n`;
    const r = edited(patchFile({ path: 'prod.tfvars.json', text, sites: [siteOf(text, a)] }));
    expect(r.text).toBe('{\n  "region": "eu",\n  "size": 3\n}\n');
    expect(r.envVars.map((e) => e.name)).toEqual(['TF_VAR_db_password']);
    const last = `{\n  "region": "eu",\n  "db_password": "${a}"\n}\n`;
    const r2 = edited(patchFile({ path: 'prod.tfvars.json', text: last, sites: [siteOf(last, a)] }));
    expect(JSON.parse(r2.text)).toEqual({ region: 'eu' });
  });
});

describe('patchFile: files to remove', () => {
  const cases: Array<[string, string]> = [
    ['.env', '/.env'],
    ['services/api/.env.production', '/services/api/.env.production'],
    ['deploy/id_rsa', '/deploy/id_rsa'],
    ['certs/server.pem', '/certs/server.pem'],
    ['keys/app.p12', '/keys/app.p12'],
    ['.npmrc', '/.npmrc'],
    ['ops/.git-credentials', '/ops/.git-credentials'],
    ['terraform.tfstate', '/terraform.tfstate'],
    ['odd/[draft] *key?.pem', '/odd/\\[draft] \\*key\\?.pem'],
  ];
  for (const [path, line] of cases) {
    it(`${path}: remove, ignore ${line}`, () => {
      const secret = fakeSecret();
      const text = `KEY=${secret}\n`;
      const r = patchFile({ path, text, sites: [siteOf(text, secret)] });
      expect(r).toMatchObject({ action: 'remove', gitignore: line, sites: [{ outcome: 'removed' }] });
    });
  }

  it('a stale site does not remove a file; a path leaving the repository is refused', () => {
    const secret = fakeSecret();
    const text = `KEY=${secret}\n`;
    const stale = { ...siteOf(text, secret), fingerprint: `sha256:${'0'.repeat(64)}` };
    expect(patchFile({ path: '.env', text, sites: [stale] })).toMatchObject({ action: 'none', code: 'KW_PATCH_STALE' });
    expect(patchFile({ path: '../outside/.env', text, sites: [siteOf(text, secret)] })).toMatchObject({ action: 'none', code: 'KW_PATCH_UNSUPPORTED' });
  });
});

describe('patchFile: binary and unknown', () => {
  it('a file with NUL bytes is unsupported', () => {
    const secret = fakeSecret();
    const text = `\u0000\u0001${secret}`;
    const r = patchFile({ path: 'blob.bin', text, sites: [siteOf(text, secret)] });
    expect(r).toMatchObject({ action: 'none', code: 'KW_PATCH_UNSUPPORTED', sites: [{ outcome: 'unsupported' }] });
  });

  it('a binary key store is removed all the same', () => {
    const secret = fakeSecret();
    const text = `\u0000\u0003${secret}\u0000`;
    expect(patchFile({ path: 'android/release.jks', text, sites: [siteOf(text, secret)] })).toMatchObject({ action: 'remove', gitignore: '/android/release.jks' });
  });

  it('no sites: nothing to do', () => {
    expect(patchFile({ path: 'a.txt', text: 'x', sites: [] })).toMatchObject({ action: 'none', sites: [] });
  });
});
