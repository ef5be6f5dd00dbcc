/**
 * The hook bypass against hostile input: KEYWARDEN_BYPASS is stored in the audit log for good, so
 * it must never carry a secret, whatever the reason's text does to hide one.
 */
import { describe, expect, it } from 'vitest';
import { cleanReason, parseBypassReason } from '../../src/hooks/bypass.js';
import { parsePrePushInput } from '../../src/hooks/pre-push-input.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';

const token = (): string => secretGenerators['github-pat-classic']!(createRng('hook-hostile')).secret;

describe('KEYWARDEN_BYPASS', () => {
  it('a plain secret in the reason is refused', async () => {
    expect((await parseBypassReason(`the fixture ${token()} is fake`)).ok).toBe(false);
  });

  it('control characters cannot split a secret past the check: the recorded text is the checked text', async () => {
    const t = token();
    const r = await parseBypassReason(`fake\u001b[2J ${t.slice(0, 10)}\u0000${t.slice(10)}\r\nok`);
    if (r.ok) expect(r.reason).not.toContain(t);
    expect(cleanReason('a\u202eb\nc')).toBe('a b c');
  });

  // The reason is scanned with inline allow comments ignored: "keywarden:allow" next to a secret
  // must not get the raw secret written to the audit log as the bypass reason.
  it('an inline allow comment in the reason does not let a secret through', async () => {
    expect((await parseBypassReason(`${token()} keywarden:allow`)).ok).toBe(false);
    expect((await parseBypassReason(`${token()} # gitleaks:allow`)).ok).toBe(false);
  });
});

describe('pre-push input', () => {
  it('an object id that is not hex, an option or a revision expression is refused', () => {
    for (const bad of ['--output=/tmp/x', 'HEAD@{1}', `${'a'.repeat(39)}g`, `${'A'.repeat(40)}`, `${'a'.repeat(40)}\u0000`]) {
      expect(() => parsePrePushInput(`refs/heads/main ${bad} refs/heads/main ${'0'.repeat(40)}\n`), bad).toThrow();
    }
    expect(() => parsePrePushInput(`refs/heads/main\t${'a'.repeat(40)} refs/heads/main ${'0'.repeat(40)}\n`)).toThrow();
  });
});
