/**
 * The built-in detector catalogue.
 *
 * Each provider family lives in its own file; this module only assembles them. Ids are stable
 * (policies and baselines refer to them); `type` is the credential type policies match on.
 *
 * @example
 * import { builtinDetectors, getDetector } from './detectors/index.js';
 * const aws = getDetector('aws-access-key-id'); // Detector | undefined
 */
import type { Detector } from '../types.js';
import { aiDetectors } from './ai.js';
import { awsDetectors } from './aws.js';
import { azureDetectors } from './azure.js';
import { cloudDetectors } from './cloud.js';
import { credentialsCliDetectors } from './credentials-cli.js';
import { databaseDetectors } from './database.js';
import { devtoolsDetectors } from './devtools.js';
import { frameworkDetectors } from './frameworks.js';
import { genericDetectors } from './generic.js';
import { githubDetectors } from './github.js';
import { gitlabDetectors } from './gitlab.js';
import { googleDetectors } from './google.js';
import { jwtDetectors } from './jwt.js';
import { keywardenDetectors } from './keywarden.js';
import { messagingDetectors } from './messaging.js';
import { privateKeyDetectors } from './private-key.js';
import { registryDetectors } from './registries.js';
import { saasDetectors } from './saas.js';
import { saasMoreDetectors } from './saas-more.js';
import { slackDetectors } from './slack.js';
import { stripeDetectors } from './stripe.js';

export const builtinDetectors: readonly Detector[] = Object.freeze([
  ...awsDetectors,
  ...githubDetectors,
  ...gitlabDetectors,
  ...slackDetectors,
  ...stripeDetectors,
  ...googleDetectors,
  ...azureDetectors,
  ...privateKeyDetectors,
  ...keywardenDetectors,
  ...databaseDetectors,
  ...registryDetectors,
  ...aiDetectors,
  ...messagingDetectors,
  ...saasDetectors,
  ...saasMoreDetectors,
  ...cloudDetectors,
  ...devtoolsDetectors,
  ...frameworkDetectors,
  ...jwtDetectors,
  ...credentialsCliDetectors,
  ...genericDetectors,
]);

const byId = new Map(builtinDetectors.map((d) => [d.id, d] as const));

/** The built-in detector with this id, or undefined. */
export function getDetector(id: string): Detector | undefined {
  return byId.get(id);
}

/** The distinct credential types of the built-in catalogue, sorted. */
export function builtinTypes(): string[] {
  return [...new Set(builtinDetectors.map((d) => d.type))].sort();
}
