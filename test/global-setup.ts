/**
 * Global setup for the test run. Real parts (moto, SoftHSM2) are started here by the suites that
 * need them; each registers itself in test/setup/.
 */
export default async function setup(): Promise<() => Promise<void>> {
  process.env.KEYWARDEN_TEST = '1';
  return async () => {};
}
