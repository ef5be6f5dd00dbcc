/**
 * A real part a suite needs (moto, SoftHSM2) is never skipped silently. When one is missing the
 * suite fails with the reason, unless `KEYWARDEN_ALLOW_SKIP=1` is set: the explicit, loud opt-out
 * for a machine that cannot have the part. CI (`CI` set) never skips, whatever the variable says.
 */
export function skipUnlessAllowed(part: string, missing: string | undefined): string | undefined {
  if (missing === undefined) return undefined;
  const allowed = process.env.KEYWARDEN_ALLOW_SKIP === '1' && !process.env.CI;
  if (!allowed) {
    throw new Error(`${part}: ${missing}. (Set KEYWARDEN_ALLOW_SKIP=1 to skip these suites explicitly; CI never skips.)`);
  }
  process.stderr.write(`\nkeywarden tests: SKIPPING the ${part} suites (KEYWARDEN_ALLOW_SKIP=1): ${missing}\n\n`);
  return missing;
}
