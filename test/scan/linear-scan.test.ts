/**
 * The scan stays linear on hostile shapes: one line of many megabytes, dense with keywords; a
 * buffer made of secrets; key headers that never end. These tests assert outcomes only (what is
 * found, where, how many), never timings — but they are sized so that any per-hit or per-finding
 * cost proportional to the line (the quadratic paths this guards against) would make them run
 * for minutes instead of seconds.
 */
import { describe, expect, it } from 'vitest';
import { createRuleset, MAX_FINDINGS, scanBytes, type ScanBytesResult } from '../../src/scan/engine.js';
import { builtinDetectors } from '../../src/scan/detectors/index.js';
import { fingerprintSecret } from '../../src/scan/redact.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';

const MiB = 1024 * 1024;
const ruleset = createRuleset(builtinDetectors);
const rng = createRng('linear-scan');
const make = (id: string): string => secretGenerators[id]!(rng).secret;

/** Keywords of many detectors, with the operators their regexes look for; no secret in it. */
const KEYWORDS =
  'password= AKIA ghp_ -----BEGIN token secret api_key= eyJ sk_live_ xoxb- glpat- AIza hvs. npm_ ' +
  'secret_key: private_key ://user: PuTTY-User-Key-File-2: mongodb+srv:// dapi sig= q~ SG. ';

function repeatTo(unit: string, bytes: number): string {
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

function scan(text: string, options: { inlineAllow?: boolean } = {}): ScanBytesResult {
  return scanBytes(Buffer.from(text, 'utf8'), ruleset, { file: 'x', ...options });
}

/** Where each finding is, as `fingerprint@line:column`. */
function places(r: ScanBytesResult): string[] {
  return r.findings.map((f) => `${f.fingerprint}@${f.startLine}:${f.startColumn}-${f.endLine}:${f.endColumn}`);
}

describe('one long line', () => {
  it('finds a secret planted at the end of an 8 MB line of repeated keywords, and nothing else', () => {
    const token = make('github-pat-classic');
    const text = `${repeatTo(KEYWORDS, 8 * MiB)} ${token}`;
    const r = scan(text);
    expect(places(r)).toEqual([`${fingerprintSecret(token)}@1:${text.length - token.length + 1}-1:${text.length + 1}`]);
    expect(r.dropped).toBe(0);
  });

  it('finds a secret at the end of 8 MB of one byte with no newline', () => {
    const token = make('aws-access-key-id');
    const text = `${'a'.repeat(8 * MiB)} ${token}`;
    expect(places(scan(text))).toEqual([`${fingerprintSecret(token)}@1:${text.length - token.length + 1}-1:${text.length + 1}`]);
  });

  it('finds every secret on a 6 MB keyword-dense line exactly where it is, across the pieces a long window is cut into', () => {
    const kinds = ['github-pat-classic', 'aws-access-key-id', 'slack-bot-token', 'stripe-secret-key', 'gitlab-pat', 'npm-access-token', 'google-api-key', 'jwt'];
    const parts: string[] = [];
    const want: string[] = [];
    let column = 1;
    // Odd gaps, so secrets land at every distance from the piece borders.
    for (let i = 0; column < 6 * MiB; i++) {
      const filler = `${repeatTo(KEYWORDS, 9_000 + ((i * 7_919) % 40_000))} `;
      const token = make(kinds[i % kinds.length]!);
      parts.push(filler, token, ' ');
      want.push(`${fingerprintSecret(token)}@1:${column + filler.length}-1:${column + filler.length + token.length}`);
      column += filler.length + token.length + 1;
    }
    const r = scan(parts.join(''));
    expect(want.length).toBeGreaterThan(200);
    expect(places(r)).toEqual(want);
  });

  it('counts columns in UTF-16 units on a long line of multi-byte text', () => {
    const parts: string[] = [];
    const want: string[] = [];
    let text = '';
    for (let i = 0; text.length < 3 * MiB; i++) {
      const token = make('github-pat-classic');
      const filler = `${'ключ €𝄞 '.repeat(200 + (i % 50))}token = `;
      parts.push(filler, token, ' ');
      const start = text.length + filler.length;
      text += filler + token + ' ';
      want.push(`${fingerprintSecret(token)}@1:${start + 1}-1:${start + token.length + 1}`);
    }
    expect(places(scan(parts.join('')))).toEqual(want);
  });

  it('honours an allow comment at the end of a long line holding 50,000 secrets', () => {
    const tokens = Array.from({ length: 50_000 }, () => make('npm-access-token'));
    const r = scan(`${tokens.join(' ')} // keywarden:allow`);
    expect(r.findings).toHaveLength(0);
    expect(r.suppressed).toBe(50_000);
  });
});

describe('a buffer made of secrets', () => {
  it(`reports at most ${MAX_FINDINGS} findings, the most severe first, and counts the rest`, () => {
    // 40,000 medium-severity JWTs on one line, then 25 critical tokens on the next.
    const jwts = Array.from({ length: 40_000 }, () => make('jwt'));
    const critical = Array.from({ length: 25 }, () => make('github-pat-classic'));
    const r = scan(`${jwts.join(' ')}\n${critical.join(' ')}\n`);
    expect(r.findings).toHaveLength(MAX_FINDINGS);
    expect(r.dropped).toBe(40_025 - MAX_FINDINGS);
    const crit = r.findings.filter((f) => f.severity === 'critical');
    expect(crit.map((f) => f.fingerprint)).toEqual(critical.map(fingerprintSecret));
    expect(crit.every((f) => f.startLine === 2)).toBe(true);
    // Kept in file order.
    const order = r.findings.map((f) => f.startLine * 1e9 + f.startColumn);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});

describe('key headers that never end', () => {
  it('finds a PGP key block after 4 MB of PGP BEGIN lines with no END', () => {
    const key = make('private-key-pgp');
    const head = '-----BEGIN PGP PRIVATE KEY BLOCK-----\n'.repeat(Math.ceil((4 * MiB) / 38));
    const r = scan(`${head}${key}\n`);
    expect(r.findings.map((f) => [f.ruleId, f.fingerprint, f.startLine])).toEqual([['private-key-pgp', fingerprintSecret(key), head.split('\n').length]]);
  });

  it('finds a PuTTY key after 4 MB of PuTTY headers with no MAC', () => {
    const key = make('private-key-putty');
    const unit = 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: x\n';
    const head = unit.repeat(Math.ceil((4 * MiB) / unit.length));
    const r = scan(`${head}${key}\n`);
    expect(r.findings.map((f) => [f.ruleId, f.fingerprint, f.startLine])).toEqual([['private-key-putty', fingerprintSecret(key), head.split('\n').length]]);
  });

  it('finds PEM keys after 8 MB of BEGIN lines and base64 bodies with no END', () => {
    const key = make('private-key-pem');
    const unit = `-----BEGIN RSA PRIVATE KEY-----\n${'MIIEowIBAAKCAQEA'.repeat(4)}\n`;
    const head = unit.repeat(Math.ceil((8 * MiB) / unit.length));
    const r = scan(`${head}${key}\n`);
    expect(r.findings.map((f) => [f.ruleId, f.fingerprint, f.startLine])).toEqual([['private-key-pem', fingerprintSecret(key), head.split('\n').length]]);
  });

  it('finds a 1Password token after a 4 MB run of `ops_ey` and padding', () => {
    const line = secretGenerators['onepassword-service-account-token']!(rng);
    const run = repeatTo(`ops_ey${'='.repeat(40)}`, 4 * MiB);
    const r = scan(`${run}\n${line.line}\n`);
    expect(r.findings.map((f) => [f.ruleId, f.fingerprint, f.startLine])).toEqual([['onepassword-service-account-token', fingerprintSecret(line.secret), 2]]);
  });
});

describe('many lines', () => {
  it('finds the secret on the last of 20 MB of keyword lines', () => {
    const lines = ['const token = getToken(1);', 'password = "abc"', '# secret: read from the vault', 'AKIA is not a key, nor is ghp_', 'api_key: ${API_KEY}'];
    const body = repeatTo(`${lines.join('\n')}\n`, 20 * MiB);
    const token = make('github-pat-classic');
    const text = `${body}GITHUB_TOKEN=${token}\n`;
    const r = scan(text);
    expect(r.findings.map((f) => [f.fingerprint, f.startLine])).toEqual([[fingerprintSecret(token), body.split('\n').length]]);
  });
});
