/** Run as a separate process by local.test.ts: rotates one key N times against a shared keystore file. */
import { LocalBackend } from '../../../src/backends/local.js';

const [path, kekB64, keyId, count] = process.argv.slice(2) as [string, string, string, string];
const backend = LocalBackend.open({ path, kek: Buffer.from(kekB64, 'base64') });
for (let i = 0; i < Number(count); i++) {
  await backend.rotate(keyId, { idempotencyKey: `worker-${process.pid}-${i}` });
}
await backend.close();
process.stdout.write('done\n');
