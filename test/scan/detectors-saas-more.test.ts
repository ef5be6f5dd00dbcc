/**
 * The business SaaS, payments and messaging detectors (saas-more.ts) on near-misses: a token one
 * character short, placeholders, documented example keys, a wrong prefix or no provider name next
 * to an unprefixed value, and public keys of the same providers. Then a few realistic files.
 * detectors.test.ts already proves every generated secret is found with its exact span.
 */
import { describe, expect, it } from 'vitest';
import { saasMoreDetectors } from '../../src/scan/detectors/saas-more.js';
import { createRuleset } from '../../src/scan/engine.js';
import { fingerprintSecret } from '../../src/scan/redact.js';
import { scanText } from '../../src/scan/scan-text.js';
import type { Detector } from '../../src/scan/types.js';
import { ALNUM, B64URL, HEX, LOWER, DIGITS, rand, uuid } from '../fixtures/secrets/gen-util.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';

const SAMPLES = 8;
const mine = createRuleset(saasMoreDetectors);

/** Formats with a length range: dropping one character can leave a valid, shorter token. */
const LENGTH_RANGE = new Set([
  'adyen-api-key',
  'chargebee-api-key',
  'lemon-squeezy-api-key',
  'monday-api-token',
  'calendly-token',
  'wrike-token',
  'typeform-token',
  'dropbox-access-token',
  'smartsheet-token',
  'sanity-api-token',
  'arcgis-api-key',
  'facebook-access-token',
  'instagram-access-token',
  'twitter-bearer-token',
  'twitter-api-secret',
  'reddit-client-secret',
  'pinterest-access-token',
  'workos-api-key',
  'onesignal-api-key',
  'stytch-secret',
  'foursquare-api-key',
  'asana-token',
  'harvest-token',
  'zapier-webhook-url',
  'mandrill-api-key',
  'clickatell-api-key',
  'line-channel-access-token',
  'clickup-api-token',
  'salesforce-access-token',
  'mailchimp-api-key',
  'infisical-service-token',
]);

function found(ruleset: ReturnType<typeof createRuleset>, text: string, id: string): boolean {
  return scanText(text, { ruleset }).some((f) => f.ruleId === id);
}

/** The line with the secret's span replaced. */
function swap(line: string, secret: string, replacement: string): string {
  const at = line.indexOf(secret);
  return line.slice(0, at) + replacement + line.slice(at + secret.length);
}

describe.each(saasMoreDetectors.map((d) => [d.id, d] as const))('%s', (id, detector: Detector) => {
  const own = createRuleset([detector]);
  const generate = secretGenerators[id]!;

  it('has a revocation docs link and keywords', () => {
    expect(detector.docs).toMatch(/^https:\/\//);
    expect(detector.keywords.length).toBeGreaterThan(0);
  });

  it('ignores the token one character short', () => {
    if (LENGTH_RANGE.has(id)) return;
    const rng = createRng(`short:${id}`);
    for (let i = 0; i < SAMPLES; i++) {
      const { secret, line } = generate(rng);
      const mid = Math.floor(secret.length / 2);
      const short = secret.slice(0, mid) + secret.slice(mid + 1);
      expect(found(own, swap(line, secret, short), id), `${id}: ${short.length} chars`).toBe(false);
    }
  });

  it('ignores placeholders and documented-example values in the same place', () => {
    const rng = createRng(`placeholder:${id}`);
    for (let i = 0; i < SAMPLES; i++) {
      const { secret, line } = generate(rng);
      const third = Math.floor(secret.length / 3);
      const masked = secret.slice(0, third) + 'x'.repeat(third) + secret.slice(2 * third);
      const example = secret.slice(0, third) + 'EXAMPLE' + secret.slice(third + 7);
      for (const value of [masked, example, '<your-key>', '${API_KEY}', '{{ secret }}', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx']) {
        expect(found(own, swap(line, secret, value), id), `${id}: ${value.slice(0, 24)}`).toBe(false);
      }
    }
  });

  it('needs its prefix, or the provider name next to an unprefixed value', () => {
    const rng = createRng(`anchor:${id}`);
    for (let i = 0; i < SAMPLES; i++) {
      const { secret, line } = generate(rng);
      // An exact-case keyword is compared as written, the rest in lower case.
      const fold = (s: string): string => (detector.keywordCase === 'exact' ? s : s.toLowerCase());
      const lower = fold(secret);
      const inside = detector.keywords.find((k) => lower.includes(k));
      if (inside !== undefined) {
        // A wrong prefix: the keyword's first character changed.
        const at = lower.indexOf(inside);
        const wrong = secret.slice(0, at) + (secret[at] === 'Q' ? 'Z' : 'Q') + secret.slice(at + 1);
        expect(found(own, swap(line, secret, wrong), id), `${id}: wrong prefix`).toBe(false);
        continue;
      }
      // No provider name: every keyword outside the secret replaced by an unrelated word.
      const at = line.indexOf(secret);
      const strip = (s: string): string => detector.keywords.reduce((acc, k) => acc.replace(new RegExp(k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), 'acme'), s);
      const text = strip(line.slice(0, at)) + secret + strip(line.slice(at + secret.length));
      if (detector.keywords.some((k) => fold(text).includes(k))) continue;
      expect(found(own, text, id), `${id}: found without its provider name`).toBe(false);
    }
  });
});

describe('saas-more: documented examples and public keys stay silent', () => {
  it('ignores the documented Paddle and Stytch example keys', () => {
    const paddle = ['pdl_live_apikey', '01gtgztp8f4kek3yd4g1wrksa3', 'q6TGTJyvoIz7LDtXT65bX7', 'AQO'].join('_');
    const stytch = ['secret', 'live', '80JASucyk7z_G8Z-7dVwZVGXL5NT_qGAQ2I='].join('-');
    expect(scanText(`Authorization: Bearer ${paddle}\nSTYTCH_SECRET=${stytch}\n`, { ruleset: mine })).toEqual([]);
  });

  it('does not flag publishable or public keys', () => {
    const rng = createRng('public');
    const text = [
      `POSTHOG_KEY=phc_${rand(rng, ALNUM, 43)}`,
      `MAPBOX_TOKEN=pk.${Buffer.from(JSON.stringify({ u: 'acme', a: 'x1' })).toString('base64url')}.${rand(rng, B64URL, 22)}`,
      `RAZORPAY_KEY_ID=rzp_live_${rand(rng, ALNUM, 14)}`,
      `LOB_PUBLISHABLE_KEY=live_pub_${rand(rng, HEX, 31)}`,
      `ALGOLIA_SEARCH_KEY=${rand(rng, HEX, 32)}`,
      `NEXT_PUBLIC_ALGOLIA_APP_ID=${rand(rng, LOWER.toUpperCase() + DIGITS, 10)}`,
      `SPOTIFY_CLIENT_ID=${rand(rng, HEX, 32)}`,
      `STYTCH_PUBLIC_TOKEN=public-token-live-${uuid(rng)}`,
      `FACEBOOK_APP_ID=${'1'}${rand(rng, DIGITS, 14)}`,
      `build: sha256 ${rand(rng, HEX, 64)}`,
    ].join('\n');
    expect(scanText(text, { ruleset: mine }).map((f) => f.ruleId)).toEqual([]);
  });

  it('leaves Stripe keys to the Stripe rule, and takes sk_live_ next to Paystack or WorkOS', () => {
    const rng = createRng('stripe');
    const all = createRuleset(saasMoreDetectors);
    const stripe = `sk_live_${rand(rng, ALNUM, 99)}`;
    expect(scanText(`STRIPE_SECRET_KEY=${stripe}`, { ruleset: all })).toEqual([]);
    const paystack = `sk_live_${rand(rng, HEX, 40)}`;
    expect(scanText(`PAYSTACK_SECRET_KEY=${paystack}`, { ruleset: all }).map((f) => f.ruleId)).toEqual(['paystack-secret-key']);
  });
});

describe('saas-more: realistic files', () => {
  const rng = createRng('realistic');
  const s = (id: string): string => secretGenerators[id]!(rng).secret;
  const cases: Array<[string, string, Record<string, string>]> = (() => {
    const square = s('square-access-token');
    const mailchimp = s('mailchimp-api-key');
    const algolia = s('algolia-admin-key');
    const notion = s('notion-token');
    const hubspot = s('hubspot-private-app-token');
    const shippo = s('shippo-api-token');
    const telnyx = s('telnyx-api-key');
    const intercom = s('intercom-access-token');
    const sendgridFree = s('postmark-token');
    return [
      ['.env', `# payments\nSQUARE_ACCESS_TOKEN=${square}\nMAILCHIMP_API_KEY="${mailchimp}"\nPOSTMARK_SERVER_TOKEN=${sendgridFree}\n`, {
        'square-access-token': square,
        'mailchimp-api-key': mailchimp,
        'postmark-token': sendgridFree,
      }],
      ['config.yaml', `search:\n  algolia_admin_key: "${algolia}"\nnotion:\n  token: ${notion}\n`, { 'algolia-admin-key': algolia, 'notion-token': notion }],
      ['settings.json', `{\n  "hubspot": { "accessToken": "${hubspot}" }\n}\n`, {
        'hubspot-private-app-token': hubspot,
      }],
      ['client.js', `const shippo = require('shippo')('${shippo}');\nconst telnyxApiKey = '${telnyx}';\n`, { 'shippo-api-token': shippo, 'telnyx-api-key': telnyx }],
      ['sync.py', `import requests\nHEADERS = {"Authorization": "Bearer ${intercom}", "Accept": "application/json"}\n`, { 'intercom-access-token': intercom }],
    ];
  })();

  it.each(cases)('%s: every planted secret is found by its rule', (file, text, expected) => {
    const findings = scanText(text, { ruleset: mine, file });
    const byFp = new Map(findings.map((f) => [f.fingerprint, f.ruleId]));
    for (const [id, secret] of Object.entries(expected)) expect(byFp.get(fingerprintSecret(secret)), `${file}: ${id}`).toBe(id);
    expect(findings).toHaveLength(Object.keys(expected).length);
  });
});
