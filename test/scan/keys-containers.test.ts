/**
 * Private keys in every container they are committed in: each generated key is found exactly once
 * (one finding of type private-key, on the right line), however it is wrapped; public keys,
 * certificates, bodiless headers and documentation placeholders stay silent.
 */
import { describe, expect, it } from 'vitest';
import { createRuleset } from '../../src/scan/engine.js';
import { builtinDetectors } from '../../src/scan/detectors/index.js';
import { scanUnit } from '../../src/scan/sources/read-file.js';
import { bytesB64, createRng, opensshKey, pem, pemBody, pgpKey, puttyKey, randomBytes, wrap, type Rng } from '../fixtures/secrets/gen-util.js';

const ruleset = createRuleset(builtinDetectors);
const esc = (s: string): string => s.replace(/\n/g, '\\n');
const rsa = (rng: Rng): string => pem('RSA PRIVATE KEY', pemBody(rng, 'rsa'));
const pkcs8 = (rng: Rng): string => pem('PRIVATE KEY', pemBody(rng, 'pkcs8'));

/** Container name → [file name, content, line the key starts on]. */
const containers: Record<string, (rng: Rng) => [string, string | Buffer, number]> = {
  'GCP service-account JSON': (rng) => [
    'sa.json',
    `{\n  "type": "service_account",\n  "project_id": "acme-prod",\n  "private_key": "${esc(pkcs8(rng))}\\n",\n  "client_email": "ci@acme-prod.iam.gserviceaccount.com"\n}\n`,
    4,
  ],
  'JSON with \\/ escapes': (rng) => ['key.json', `{"key": "${esc(pkcs8(rng)).replace(/\//g, '\\/')}"}\n`, 1],
  'Kubernetes Secret stringData': (rng) => ['k8s.yaml', `apiVersion: v1\nkind: Secret\nstringData:\n  tls.key: "${esc(rsa(rng))}"\n`, 4],
  'Terraform variable': (rng) => ['vars.tfvars', `region = "eu-west-1"\nprivate_key = "${esc(rsa(rng))}"\n`, 2],
  'GitHub Actions env': (rng) => ['ci.yml', `jobs:\n  deploy:\n    env:\n      SSH_KEY: "${esc(opensshKey(rng))}"\n`, 4],
  '.env with \\r\\n escapes': (rng) => ['.env', `APP=web\nPRIVATE_KEY="${rsa(rng).replace(/\n/g, '\\r\\n')}"\n`, 2],
  'JS concatenated literals': (rng) => ['key.js', `const key =\n  ${rsa(rng).split('\n').map((l) => JSON.stringify(`${l}\n`)).join(' +\n  ')};\n`, 2],
  'Python implicit concatenation': (rng) => ['key.py', `KEY = (\n${pkcs8(rng).split('\n').map((l) => `    "${l}\\n"`).join('\n')}\n)\n`, 2],
  'YAML block scalar': (rng) => ['values.yaml', `tls:\n  key: |\n${rsa(rng).split('\n').map((l) => `    ${l}`).join('\n')}\n  port: 443\n`, 3],
  'CRLF line endings': (rng) => ['key.pem', `${pem('EC PRIVATE KEY', pemBody(rng, 'ec')).replace(/\n/g, '\r\n')}\r\n`, 1],
  'DSA PEM': (rng) => ['dsa.pem', `# old key\n${pem('DSA PRIVATE KEY', pemBody(rng, 'dsa'))}\n`, 2],
  'PKCS#8 encrypted': (rng) => ['enc.pem', `${pem('ENCRYPTED PRIVATE KEY', pemBody(rng, 'encrypted'))}\n`, 1],
  'PKCS#8 encrypted in JSON': (rng) => ['enc.json', `{\n  "k": "${esc(pem('ENCRYPTED PRIVATE KEY', pemBody(rng, 'encrypted')))}"\n}\n`, 2],
  'OpenSSH': (rng) => ['id_ed25519', `${opensshKey(rng)}\n`, 1],
  'OpenSSH in JSON': (rng) => ['deploy.json', `{"deployKey":"${esc(opensshKey(rng))}"}\n`, 1],
  'PuTTY PPK': (rng) => ['key.ppk', `${puttyKey(rng)}\n`, 1],
  'PuTTY PPK escaped': (rng) => ['ppk.json', `{\n"ppk": "${esc(puttyKey(rng))}"}\n`, 2],
  'PGP private key block': (rng) => ['secring.asc', `${pgpKey(rng)}\n`, 1],
  'base64 of a PEM, one line': (rng) => ['key.b64', `KEY_B64=${Buffer.from(`${rsa(rng)}\n`).toString('base64')}\n`, 1],
  'base64 of a PEM, wrapped at 76': (rng) => ['key.txt', `# key\n${wrap(Buffer.from(`${pkcs8(rng)}\n`).toString('base64'), 76)}\n`, 2],
  'Kubernetes Secret data (base64 PEM)': (rng) => [
    'tls.yaml',
    `apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${bytesB64(rng, 30)}\n  tls.key: ${Buffer.from(`${rsa(rng)}\n`).toString('base64')}\n`,
    6,
  ],
  'Jupyter notebook source lines': (rng) => [
    'nb.ipynb',
    `{"cells": [{"cell_type": "code", "source": [\n${rsa(rng).split('\n').map((l) => `    "${l}\\n"`).join(',\n')}\n]}]}\n`,
    2,
  ],
  'PKCS#12 keystore by magic': (rng) => [
    'bundle.bin',
    Buffer.concat([Buffer.from([0x30, 0x82, 0x0a, 0x00, 0x02, 0x01, 0x03, 0x30, 0x82, 0x09, 0xc6, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]), randomBytes(rng, 2000)]),
    1,
  ],
  'JKS keystore by magic': (rng) => ['release.keystore', Buffer.concat([Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]), randomBytes(rng, 1500)]), 1],
  '.pfx by extension': (rng) => ['client.pfx', Buffer.concat([Buffer.from([0, 1, 2, 3]), randomBytes(rng, 800)]), 1],
};

describe('private keys in containers', () => {
  it('covers at least 15 container forms', () => {
    expect(Object.keys(containers).length).toBeGreaterThanOrEqual(15);
  });

  for (const [name, make] of Object.entries(containers)) {
    it(`finds a key once: ${name}`, () => {
      const rng = createRng(`keys-containers:${name}`);
      for (let i = 0; i < 3; i++) {
        const [file, content, line] = make(rng);
        const r = scanUnit({ file, content: typeof content === 'string' ? Buffer.from(content) : content }, ruleset, {});
        const keys = r.findings.filter((f) => f.type === 'private-key' || f.ruleId === 'gcp-service-account');
        expect(keys.map((f) => `${f.ruleId}@${f.startLine}`), name).toHaveLength(1);
        expect(keys[0]!.startLine, name).toBe(line);
        expect(r.findings.length, `${name}: ${r.findings.map((f) => f.ruleId).join(',')}`).toBe(1);
      }
    });
  }
});

describe('hard negatives', () => {
  const rng = createRng('keys-negatives');
  const negatives: Record<string, string> = {
    'public key PEM': pem('PUBLIC KEY', pemBody(rng, 'pkcs8')),
    'RSA public key PEM': pem('RSA PUBLIC KEY', pemBody(rng, 'rsa')),
    certificate: pem('CERTIFICATE', pemBody(rng, 'rsa')),
    'ssh public key': `ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ${bytesB64(rng, 256).replace(/[+/=]/g, 'x')} deploy@ci\n`,
    'header with no body': '-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n',
    'documentation placeholder': '-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n',
    'escaped placeholder': '{"private_key": "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n"}\n',
    'placeholder body': `-----BEGIN PRIVATE KEY-----\n${'x'.repeat(64)}\n${'.'.repeat(64)}\n-----END PRIVATE KEY-----\n`,
    'base64 of a certificate': Buffer.from(pem('CERTIFICATE', pemBody(rng, 'rsa'))).toString('base64'),
    'text .keystore file': 'storePassword=changeit\nkeyAlias=release\n',
  };
  for (const [name, text] of Object.entries(negatives)) {
    it(`stays silent: ${name}`, () => {
      const file = name === 'text .keystore file' ? 'android.keystore' : 'neg.txt';
      const r = scanUnit({ file, content: Buffer.from(text) }, ruleset, {});
      expect(r.findings.filter((f) => f.type === 'private-key').map((f) => f.ruleId)).toEqual([]);
    });
  }
});
