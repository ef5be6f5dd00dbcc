/** Every REST handler by operationId, and which credential each operation takes. */
import { appHandlers } from './apps.js';
import { checkHandlers } from './checks.js';
import { compareHandlers } from './compare.js';
import { issueHandlers } from './issues.js';
import { keyHandlers } from './keys.js';
import { pullHandlers } from './pulls.js';
import { repoHandlers } from './repos.js';
import { secretScanningHandlers } from './secret-scanning.js';
import type { Handlers } from './types.js';

export const handlers: Handlers = {
  ...appHandlers,
  ...repoHandlers,
  ...compareHandlers,
  ...pullHandlers,
  ...checkHandlers,
  ...issueHandlers,
  ...keyHandlers,
  ...secretScanningHandlers,
};

export type Credential = 'app' | 'installation' | 'none';

const APP_JWT = new Set([
  'apps/get-authenticated',
  'apps/list-installations',
  'apps/get-installation',
  'apps/create-installation-access-token',
  'apps/get-repo-installation',
]);

/** The credential GitHub wants: the App JWT, an installation token, or none at all. */
export function credentialFor(operationId: string): Credential {
  if (APP_JWT.has(operationId)) return 'app';
  return operationId === 'credentials/revoke' ? 'none' : 'installation';
}
