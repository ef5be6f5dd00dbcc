/**
 * Global setup for the test run. Real parts (moto, SoftHSM2) are started by the suites that need
 * them; each registers itself in test/setup/. PostgreSQL is started here, once for the run (a
 * throwaway cluster, test/setup/postgres.ts): each PostgreSQL suite takes a fresh database of its
 * own from `KEYWARDEN_TEST_PG_URL`.
 */
import { findPostgresBin, startPostgresCluster, type PostgresCluster } from './setup/postgres.js';
import { skipUnlessAllowed } from './setup/real-part.js';

export default async function setup(): Promise<() => Promise<void>> {
  process.env.KEYWARDEN_TEST = '1';
  let cluster: PostgresCluster | undefined;
  if (process.env.KEYWARDEN_TEST_PG_URL) {
    // An operator's own server (e.g. a developer's): used as it is, never stopped.
  } else if (!skipUnlessAllowed('PostgreSQL', findPostgresBin() ? undefined : 'PostgreSQL is not installed: run scripts/setup-tools --only postgres')) {
    cluster = await startPostgresCluster();
    process.env.KEYWARDEN_TEST_PG_URL = cluster.url;
  }
  return async () => {
    await cluster?.stop();
  };
}
