import { describe, expect, it } from 'vitest';
import { assertWebhookSecrets, MIN_WEBHOOK_SECRET_LENGTH, verifySignature } from '../../src/server/verify-signature.js';
import { newSecret, sign } from './helpers.js';

describe('verifySignature', () => {
  const body = Buffer.from('{"zen":"Keep it logically awesome."}');
  const [current, previous] = [newSecret(), newSecret()];

  it('accepts a signature under any configured secret, upper- or lower-case hex', () => {
    expect(verifySignature(body, sign(body, current), [current, previous])).toBe(true);
    expect(verifySignature(body, sign(body, previous), [current, previous])).toBe(true);
    expect(verifySignature(body, `sha256=${sign(body, current).slice(7).toUpperCase()}`, [current])).toBe(true);
  });

  it('treats every malformed header as a mismatch, never a throw', () => {
    const good = sign(body, current);
    const malformed = ['', 'sha256=', good.slice(0, -1), `${good}0`, ` ${good}`, `${good}\n`];
    malformed.push(good.replace('sha256', 'sha1'), 'sha256=' + 'g'.repeat(64));
    for (const header of malformed) {
      expect(verifySignature(body, header, [current]), JSON.stringify(header)).toBe(false);
    }
    expect(verifySignature(body, good, [])).toBe(false);
    expect(verifySignature(Buffer.from(`${body} `), good, [current])).toBe(false);
  });
});

describe('assertWebhookSecrets', () => {
  it('passes one or two long secrets', () => {
    expect(() => assertWebhookSecrets([newSecret()])).not.toThrow();
    expect(() => assertWebhookSecrets([newSecret(), newSecret()])).not.toThrow();
  });

  it('reports every problem at once and never prints a secret', () => {
    const short = 'x'.repeat(MIN_WEBHOOK_SECRET_LENGTH - 1);
    let error: unknown;
    try {
      assertWebhookSecrets([short, ' padded-secret-value-123 ']);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'KW_WEBHOOK_SECRET_MISSING', fault: 'config' });
    const message = (error as Error).message;
    expect(message).toContain('shorter than');
    expect(message).toContain('whitespace');
    expect(message).not.toContain(short);
    expect(message).not.toContain('padded-secret-value');
  });
});
