/**
 * Run as a separate process by audit-integrity.test.ts, then killed with SIGKILL.
 *
 * atomic <keystore> <kekB64> <keyId> <count>: rotates through the keystore, whose log is in the
 *   same file; prints "rotated N" after each, so the parent can kill it mid-run.
 * intent <keystore> <kekB64> <keyId> <count> <audit.db> <hangAt> <before|after>: rotates through
 *   AuditedBackend logging to another file (the remote-backend path); at rotation `hangAt` it
 *   stops before or after the backend call (never writing the outcome), prints "hung", waits.
 */
import { AuditedBackend } from '../../../src/backends/audited.js';
import { LocalBackend } from '../../../src/backends/local.js';
import type { KeyBackend } from '../../../src/backends/port.js';
import { AuditLog } from '../../../src/store/audit.js';

const [mode, path, kekB64, keyId, count, auditPath, hangAt, where] = process.argv.slice(2) as string[];
const local = LocalBackend.open({ path: path!, kek: Buffer.from(kekB64!, 'base64'), actor: 'worker' });
const hang = (): Promise<never> => {
  process.stdout.write('hung\n');
  return new Promise(() => setTimeout(() => undefined, 3_600_000));
};

let backend: KeyBackend = local;
if (mode === 'intent') {
  let n = 0;
  const slow = Object.create(local) as LocalBackend;
  slow.rotate = async (ref, options) => {
    n++;
    if (n === Number(hangAt) && where === 'before') return hang();
    const r = await local.rotate(ref, options);
    if (n === Number(hangAt) && where === 'after') return hang();
    return r;
  };
  backend = new AuditedBackend(slow, AuditLog.open(auditPath!), { actor: 'worker' });
}
for (let i = 1; i <= Number(count); i++) {
  await backend.rotate(keyId!, { idempotencyKey: `kill-${process.pid}-${i}` });
  process.stdout.write(`rotated ${i}\n`);
}
process.stdout.write('done\n');
