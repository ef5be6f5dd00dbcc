/**
 * A SoftHSM2 token in a temporary folder, one per test file (or benchmark run).
 *
 * SOFTHSM2_CONF must point at our config before the PKCS#11 library is initialised in this
 * process, so call `createSoftHsmToken` before opening a `Pkcs11Backend`. CI installs
 * softhsm2 through scripts/setup-tools (which `npm test` runs first); a missing library fails the
 * suites unless KEYWARDEN_ALLOW_SKIP=1 says to skip them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnlessAllowed } from './real-part.js';

const LIBS = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/local/lib/softhsm/libsofthsm2.so', '/usr/lib64/pkcs11/libsofthsm2.so'];

export function findSoftHsm(): { lib: string; util: string } | undefined {
  const lib = LIBS.find((p) => existsSync(p));
  if (!lib) return undefined;
  try {
    const util = execFileSync('sh', ['-c', 'command -v softhsm2-util'], { encoding: 'utf8' }).trim();
    return util ? { lib, util } : undefined;
  } catch {
    return undefined;
  }
}

/** Why the SoftHSM2 suites skip: only with the explicit opt-out (`skipUnlessAllowed`); otherwise a missing library fails them. */
export const softHsmSkipReason: string | undefined = skipUnlessAllowed('SoftHSM2', findSoftHsm() ? undefined : 'SoftHSM2 is not installed: run scripts/setup-tools --only softhsm');

export interface SoftHsmToken {
  lib: string;
  label: string;
  /** Test PINs for a throwaway token; not secrets. */
  pin: string;
  soPin: string;
  dir: string;
  cleanup(): void;
}

export function createSoftHsmToken(label = 'keywarden-test'): SoftHsmToken {
  const found = findSoftHsm();
  if (!found) throw new Error(softHsmSkipReason);
  const dir = mkdtempSync(join(tmpdir(), 'kw-softhsm-'));
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env.SOFTHSM2_CONF = conf;
  const pin = '5678';
  const soPin = '1234';
  execFileSync(found.util, ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'pipe' });
  return { lib: found.lib, label, pin, soPin, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
