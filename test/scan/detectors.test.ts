/**
 * The built-in detector catalogue, tested through the scan engine: generated fake secrets are
 * found with the right rule id and exact span, negatives stay silent, and every keyword really
 * precedes the secrets it is meant to find (so the prefilter never hides a true secret).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRuleset } from '../../src/scan/engine.js';
import { scanText } from '../../src/scan/scan-text.js';
import { fingerprintSecret } from '../../src/scan/redact.js';
import type { Detector, Finding } from '../../src/scan/types.js';
import { builtinDetectors, builtinTypes, getDetector } from '../../src/scan/detectors/index.js';
import {
  base62,
  crc32,
  hasSequentialRun,
  hasValidTokenChecksum,
  isHexHash,
  isKnownExample,
  isPlaceholder,
  isUuid,
  shannonEntropy,
  tokenChecksum,
} from '../../src/scan/detectors/util.js';
import { createRng, generatorTypeCount, negativeSamples, secretGenerators } from '../fixtures/secrets/generators.js';

const SAMPLES_PER_DETECTOR = 25;
const ruleset = createRuleset(builtinDetectors);

/** Wraps a generated line in a little unrelated source so positions are not trivially 0. */
function embed(line: string): { text: string; offset: number } {
  const before = 'import { run } from "./run.js";\n// deploy settings\n';
  return { text: `${before}${line}\nrun();\n`, offset: before.length };
}

/** 1-based line and UTF-16 column of a string offset, as findings count them. */
function position(text: string, offset: number): { line: number; column: number } {
  const head = text.slice(0, offset);
  const line = head.split('\n').length;
  const column = offset - (head.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

function expectedSpan(text: string, start: number, secret: string): Pick<Finding, 'startLine' | 'startColumn' | 'endLine' | 'endColumn'> {
  const s = position(text, start);
  const e = position(text, start + secret.length);
  return { startLine: s.line, startColumn: s.column, endLine: e.line, endColumn: e.column };
}

describe('catalogue shape', () => {
  it('has unique kebab-case ids', () => {
    const ids = builtinDetectors.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
  });

  it('covers at least 30 credential types', () => {
    expect(builtinTypes().length).toBeGreaterThanOrEqual(30);
    expect(generatorTypeCount(builtinDetectors)).toBe(builtinTypes().length);
  });

  it('gives every detector lower-case ASCII keywords, a title, and a regex without the sticky flag', () => {
    for (const d of builtinDetectors) {
      expect(d.keywords.length, d.id).toBeGreaterThan(0);
      for (const k of d.keywords) {
        if (d.keywordCase !== 'exact') expect(k, d.id).toBe(k.toLowerCase());
        expect(k, d.id).toMatch(/^[\x20-\x7e]+$/);
        expect(k.length, `${d.id}: keyword "${k}" is too short to prefilter`).toBeGreaterThanOrEqual(2);
      }
      expect(d.title.length).toBeGreaterThan(3);
      expect(d.type).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      expect(d.pattern.flags).not.toContain('y');
    }
  });

  it('spells an exact-case keyword as its case-sensitive pattern does: no other case could start a match', () => {
    const exact = builtinDetectors.filter((d) => d.keywordCase === 'exact');
    expect(exact.length).toBeGreaterThan(5);
    for (const d of exact) {
      expect(d.pattern, d.id).toBeInstanceOf(RegExp);
      expect((d.pattern as RegExp).flags, d.id).not.toContain('i');
      // Each keyword, as written, is a literal of the pattern's source.
      const literal = (d.pattern as RegExp).source.replace(/\\([./~\-])/g, '$1');
      for (const k of d.keywords) for (const part of k.split(/[ "']+/).filter(Boolean)) expect(literal, `${d.id}: ${k}`).toContain(part);
    }
  });

  it('opens an exact-case detector’s window only for the keyword as written', () => {
    const fb = getDetector('facebook-access-token')!;
    const { secret } = secretGenerators['facebook-access-token']!(createRng('exact-case'));
    expect(scanText(`token = "${secret}"`, { detectors: [fb] })).toHaveLength(1);
    // The lower-case spelling can never match the pattern, and no longer opens a window for it.
    const rs = createRuleset([fb]);
    expect(rs.spellings.some((s) => s !== null)).toBe(true);
    expect(scanText(`token = "eaa${secret.slice(3)}"`, { detectors: [fb] })).toHaveLength(0);
    // A detector of any case still hits in every case.
    const { keywordCase: _exact, ...rest } = fb;
    const anyCase: Detector = { ...rest, id: 'fb-any', keywords: ['eaa'], pattern: /(?<![A-Za-z0-9_-])(EAA[A-Za-z0-9]{90,400})(?![A-Za-z0-9_-])/i };
    expect(scanText(`token = "eaa${secret.slice(3)}"`, { detectors: [anyCase] })).toHaveLength(1);
  });

  it('has a generator for every detector and a detector for every generator', () => {
    const ids = new Set(builtinDetectors.map((d) => d.id));
    expect(Object.keys(secretGenerators).filter((id) => !ids.has(id))).toEqual([]);
    expect([...ids].filter((id) => !(id in secretGenerators))).toEqual([]);
  });

  it('looks detectors up by id', () => {
    expect(getDetector('aws-access-key-id')?.type).toBe('aws-access-key');
    expect(getDetector('no-such-detector')).toBeUndefined();
  });

  it('gives the generic rule the lowest priority', () => {
    const generic = getDetector('generic-secret')!;
    expect(generic.priority).toBe(0);
    for (const d of builtinDetectors) if (d !== generic) expect(d.priority ?? 10).toBeGreaterThan(0);
  });
});

describe.each(builtinDetectors.map((d) => [d.id, d] as const))('%s', (id, detector: Detector) => {
  const generate = secretGenerators[id]!;

  it(`finds ${SAMPLES_PER_DETECTOR} generated secrets with the right rule id and exact span`, () => {
    const rng = createRng(`positives:${id}`);
    for (let i = 0; i < SAMPLES_PER_DETECTOR; i++) {
      const { secret, line } = generate(rng);
      expect(line).toContain(secret);
      const { text, offset } = embed(line);
      const start = offset + line.indexOf(secret);
      const findings = scanText(text, { ruleset, file: 'src/config.ts' });
      const fp = fingerprintSecret(secret);
      const hit = findings.find((f) => f.fingerprint === fp);
      expect(hit, `${id} missed sample ${i}: ${line.slice(0, 160)}`).toBeDefined();
      expect(hit!.ruleId).toBe(id);
      expect(hit!.type).toBe(detector.type);
      expect(hit!.file).toBe('src/config.ts');
      expect({ startLine: hit!.startLine, startColumn: hit!.startColumn, endLine: hit!.endLine, endColumn: hit!.endColumn }).toEqual(
        expectedSpan(text, start, secret),
      );
      // Nothing but the preview and the fingerprint of the secret leaves the engine (and its public
      // identity: an access key ID is public, so when it is the match, its identity is itself).
      const { identity, ...rest } = hit!;
      expect(JSON.stringify(rest)).not.toContain(secret);
      if (identity?.kind === 'aws-access-key' && id === 'aws-access-key-id') expect(identity.id).toBe(secret);
      else expect(JSON.stringify(identity ?? {})).not.toContain(secret);
      expect(hit!.redacted.length).toBeLessThan(secret.length);
    }
  });

  it('finds them with only this detector enabled too', () => {
    const rng = createRng(`alone:${id}`);
    const own = createRuleset([detector]);
    for (let i = 0; i < 5; i++) {
      const { secret, line } = generate(rng);
      const findings = scanText(embed(line).text, { ruleset: own });
      expect(findings.map((f) => f.fingerprint)).toContain(fingerprintSecret(secret));
    }
  });

  it('has a keyword in or right before every generated secret (its window covers the secret, on its line unless multiline)', () => {
    const rng = createRng(`keywords:${id}`);
    const before = detector.window?.before ?? 256;
    const after = detector.window?.after ?? (detector.multiline ? 16 * 1024 : 512);
    for (let i = 0; i < SAMPLES_PER_DETECTOR; i++) {
      const { secret, line } = generate(rng);
      const start = line.indexOf(secret);
      const end = start + secret.length;
      // An exact-case keyword hits only as written; others in any case.
      const exact = detector.keywordCase === 'exact';
      const lower = exact ? line : line.toLowerCase();
      // The engine runs the pattern in [hit - before, hit + after] around each keyword hit,
      // clipped to the hit's line for single-line detectors.
      const covered = detector.keywords.some((kw) => {
        const k = exact ? kw : kw.toLowerCase();
        for (let p = lower.indexOf(k); p !== -1; p = lower.indexOf(k, p + 1)) {
          let s = p - before;
          let e = p + after;
          if (!detector.multiline) {
            s = Math.max(s, line.lastIndexOf('\n', p) + 1);
            const nl = line.indexOf('\n', p);
            if (nl !== -1) e = Math.min(e, nl);
          }
          if (s <= start && end <= e) return true;
        }
        return false;
      });
      expect(covered, `${id}: no keyword of [${detector.keywords.join(', ')}] covers the secret in "${line.slice(0, 80)}"`).toBe(true);
    }
  });
});

describe('negatives', () => {
  it.each(negativeSamples.map((s) => [s.length > 70 ? `${s.slice(0, 70)}…` : s, s]))('%s does not fire', (_label, sample) => {
    expect(scanText(sample, { ruleset }).map((f) => f.ruleId)).toEqual([]);
  });

  it('ignores documented example keys wherever they appear', () => {
    const id = ['AKIA', 'IOSFODNN7', 'EXAMPLE'].join('');
    const secret = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/');
    const text = [`[default]`, `aws_access_key_id = ${id}`, `aws_secret_access_key = ${secret}`, `const c = { accessKeyId: "${id}", secretAccessKey: "${secret}" };`].join('\n');
    expect(scanText(text, { ruleset })).toEqual([]);
  });

  it('rejects GitHub and npm lookalikes whose checksum is wrong', () => {
    const rng = createRng('lookalikes');
    for (const id of ['github-pat-classic', 'github-oauth-token', 'npm-access-token']) {
      for (let i = 0; i < 20; i++) {
        const { secret } = secretGenerators[id]!(rng);
        // Change one character of the random part: the checksum no longer matches.
        const pos = secret.indexOf('_') + 1 + (i % 30);
        const c = secret[pos]!;
        const swapped = secret.slice(0, pos) + (c === 'a' ? 'b' : 'a') + secret.slice(pos + 1);
        expect(scanText(`const value = "${swapped}";`, { ruleset })).toEqual([]);
        expect(scanText(`const value = "${secret}";`, { ruleset }).map((f) => f.ruleId)).toEqual([id]);
      }
    }
  });

  it('lets a specific rule win over the generic rule on the same span', () => {
    const rng = createRng('priority');
    const { secret } = secretGenerators['stripe-secret-key']!(rng);
    const findings = scanText(`api_key = "${secret}"`, { ruleset });
    expect(findings.map((f) => f.ruleId)).toEqual(['stripe-secret-key']);
  });

  it('stays silent on keyword-dense ordinary code', () => {
    const code = [
      'export function login(username: string, password: string): Promise<Token> {',
      '  const token = await auth.signIn({ username, password });',
      '  if (!token) throw new Error("invalid password");',
      '  const apiKey = options.apiKey ?? process.env.API_KEY;',
      '  const secret = await readSecret(secretName);',
      '  tokens.push({ type: "punctuation", value: token.value });',
      '  headers["x-api-key"] = apiKey;',
      '  return { accessToken: token.accessToken, refreshToken: token.refreshToken };',
      '}',
      'const PASSWORD_MIN_LENGTH = 12;',
      'const tokenizer = new Tokenizer({ secret: false, password: true });',
      'password_hash = bcrypt.hashpw(password, bcrypt.gensalt())',
      '  private_key_path: /etc/ssl/private/server.key',
      'DB_PASSWORD=',
      '      - name: GITHUB_TOKEN',
      '        value: ${{ secrets.GITHUB_TOKEN }}',
    ].join('\n');
    expect(scanText(code, { ruleset }).map((f) => `${f.ruleId}@${f.startLine}`)).toEqual([]);
  });

  it('finishes on pathological inputs (no catastrophic backtracking)', () => {
    const inputs = [
      `password = "${'a1'.repeat(5000)}`,
      `${'xoxb-1234567890-'.repeat(2000)}`,
      `-----BEGIN RSA PRIVATE KEY-----\n${'A'.repeat(20_000)}`,
      `postgres://${'u'.repeat(3000)}:${'p'.repeat(3000)}`,
      `https://${':'.repeat(5000)}@`,
      `"auths": {${' "auth": "'.repeat(3000)}`,
      `eyJ${'a'.repeat(10_000)}.eyJ${'b'.repeat(10_000)}`,
      `AKIA${'A'.repeat(16)} ${'/'.repeat(10_000)}`,
      `token: ${'ab.'.repeat(5000)}`,
      `PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\n${'x'.repeat(20_000)}`,
    ];
    for (const input of inputs) expect(Array.isArray(scanText(input, { ruleset }))).toBe(true);
  });
});

describe('generators', () => {
  it('are a pure function of the seed', () => {
    const a = createRng(42);
    const b = createRng('42');
    for (const [id, g] of Object.entries(secretGenerators)) {
      expect(g(a), id).toEqual(g(b));
    }
    expect(createRng(1)()).not.toBe(createRng(2)());
  });

  it('put each secret exactly once in its line', () => {
    const rng = createRng('once');
    for (const [id, g] of Object.entries(secretGenerators)) {
      for (let i = 0; i < 10; i++) {
        const { secret, line } = g(rng);
        expect(line.indexOf(secret), id).toBe(line.lastIndexOf(secret));
      }
    }
  });

  it('secrets stay findable among arbitrary surrounding lines (property)', () => {
    const ids = Object.keys(secretGenerators);
    const filler = fc.array(fc.stringMatching(/^[ -~]{0,60}$/), { maxLength: 4 }).map((ls) => ls.join('\n'));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ids.length - 1 }), fc.integer(), filler, filler, (which, seed, before, after) => {
        const id = ids[which]!;
        const { secret, line } = secretGenerators[id]!(createRng(seed));
        const text = `${before}\n${line}\n${after}`;
        const fp = fingerprintSecret(secret);
        return scanText(text, { ruleset }).some((f) => f.fingerprint === fp);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe('util', () => {
  it('computes CRC32 and base62 as GitHub tokens need them', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
    expect(base62(0, 6)).toBe('000000');
    expect(base62(61)).toBe('z');
    expect(base62(62, 3)).toBe('010');
    expect(base62(0xffffffff)).toBe('4gfFC3');
    const random = 'A'.repeat(15) + 'b'.repeat(15);
    expect(hasValidTokenChecksum(random + tokenChecksum(random))).toBe(true);
    expect(hasValidTokenChecksum(random + '000000')).toBe(false);
  });

  it('measures Shannon entropy in bits per character', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBeCloseTo(2);
  });

  it.each([
    'xxxxxxxxxxxx',
    'XXXX-XXXX',
    '00000000',
    'your_api_key',
    'YOUR-TOKEN-HERE',
    '<token>',
    '${VAR}',
    '${{ secrets.X }}',
    '{{ var }}',
    'process.env.X',
    'changeme',
    'example-key-123',
    'aaaaaaaa',
    'abcdefghij',
    '123456789',
    '********',
    'password',
    '%API_KEY%',
    '$API_KEY',
  ])('isPlaceholder(%s)', (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });

  it.each(['Xk9#mP2$vL8q', 'f3A9zQ1wL0pR7tY2', 'wB4nVx_2Lr9Tq'])('isPlaceholder(%s) is false', (value) => {
    expect(isPlaceholder(value)).toBe(false);
  });

  it('knows documented example values, hashes and UUIDs', () => {
    expect(isKnownExample(['AKIA', 'IOSFODNN7', 'EXAMPLE'].join(''))).toBe(true);
    expect(isKnownExample(['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/'))).toBe(true);
    expect(isHexHash('d41d8cd98f00b204e9800998ecf8427e')).toBe(true);
    expect(isHexHash('da39a3ee5e6b4b0d3255bfef95601890afd80709')).toBe(true);
    expect(isHexHash('sha512-abc')).toBe(true);
    expect(isHexHash('not-a-hash')).toBe(false);
    expect(isUuid('123e4567-e89b-42d3-a456-426614174000')).toBe(true);
    expect(hasSequentialRun('xyzabcdefq', 6)).toBe(true);
    expect(hasSequentialRun('a1b2c3', 3)).toBe(false);
  });
});
