/**
 * The GitHub fake: GitHub's REST API and git smart HTTP on loopback, backed by real bare git
 * repositories, every request checked against GitHub's OpenAPI description. Re-exports only.
 */
export {
  createGitHubFake,
  type CreateRepoOptions,
  type GitHubFake,
  type GitHubFakeOptions,
  type InstallationTokenOptions,
  type PushEventInput,
  type RepoInfo,
  type SecretScanningAlertInput,
} from './create-github-fake.js';
export type { CommitOptions, GitPerson } from './bare-repo.js';
export { ZERO_SHA } from './bare-repo.js';
export { SECONDARY_RATE_LIMIT_MESSAGE, type FaultSpec, type Faults } from './faults.js';
export type { GitRequestRecord, RefUpdate } from './git-http.js';
export type { CompareLimits } from './handlers/types.js';
export type { DeployKeyInput } from './handlers/keys.js';
export { validateResponse, validateWebhookPayload } from './openapi-validate.js';
export type { RestRequestRecord, Violation } from './server.js';
export type { AlertLocation, CheckRunState, Permission, RepoState } from './state.js';
export {
  buildCheckRunEvent,
  buildInstallationEvent,
  buildInstallationRepositoriesEvent,
  buildIssueCommentEvent,
  buildPullRequestEvent,
  buildPushEvent,
  buildSecretScanningAlertEvent,
  signDelivery,
  type PushCommit,
  type SignedDelivery,
  type WebhookDelivery,
  type WebhookRepository,
} from './webhooks.js';
