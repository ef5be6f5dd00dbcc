/** GitLab tokens: personal/project/group access tokens, deploy, runner, trigger and other `gl*` tokens. */
import type { Detector } from '../types.js';
import { isPlaceholder } from './util.js';

const DOCS = 'https://docs.gitlab.com/ee/security/tokens/';

const notPlaceholder = (prefixLength: number) => (s: string) => !isPlaceholder(s.slice(prefixLength));

const gitlabPat: Detector = {
  id: 'gitlab-pat',
  type: 'gitlab-token',
  title: 'GitLab personal, project or group access token',
  severity: 'critical',
  confidence: 'high',
  keywords: ['glpat-'],
  // Legacy: 20 characters. Routable (GitLab 17.x+): 27–300 base64url characters, `.`, then a
  // 2-character payload length and a 7-character CRC32 in base36.
  pattern: /(?<![A-Za-z0-9_-])(glpat-[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{9})?)(?![A-Za-z0-9_.-])/,
  verify: notPlaceholder(6),
  docs: DOCS,
};

const gitlabDeployToken: Detector = {
  id: 'gitlab-deploy-token',
  type: 'gitlab-token',
  title: 'GitLab deploy token',
  severity: 'high',
  confidence: 'high',
  keywords: ['gldt-'],
  pattern: /(?<![A-Za-z0-9_-])(gldt-[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{9})?)(?![A-Za-z0-9_.-])/,
  verify: notPlaceholder(5),
  docs: DOCS,
};

const gitlabRunnerToken: Detector = {
  id: 'gitlab-runner-token',
  type: 'gitlab-token',
  title: 'GitLab runner authentication or registration token',
  severity: 'high',
  confidence: 'high',
  keywords: ['glrt-', 'gr1348941'],
  pattern: /(?<![A-Za-z0-9_-])((?:glrt-|GR1348941)[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{9})?)(?![A-Za-z0-9_.-])/,
  verify: (s) => !isPlaceholder(s.startsWith('glrt-') ? s.slice(5) : s.slice(9)),
  docs: DOCS,
};

const gitlabPipelineTriggerToken: Detector = {
  id: 'gitlab-pipeline-trigger-token',
  type: 'gitlab-token',
  title: 'GitLab pipeline trigger token',
  severity: 'high',
  confidence: 'high',
  keywords: ['glptt-'],
  pattern: /(?<![A-Za-z0-9_-])(glptt-[0-9a-f]{40})(?![A-Za-z0-9_-])/,
  verify: notPlaceholder(6),
  docs: DOCS,
};

const gitlabToken: Detector = {
  id: 'gitlab-token',
  type: 'gitlab-token',
  title: 'GitLab token (CI job, feed, incoming mail, agent, OAuth app, SCIM, feature flags)',
  severity: 'high',
  confidence: 'high',
  keywords: ['glcbt-', 'glft-', 'glimt-', 'glagent-', 'gloas-', 'glsoat-', 'glffct-'],
  pattern: /(?<![A-Za-z0-9_-])((?:glcbt-(?:[0-9a-zA-Z]{1,5}_)?|glft-|glimt-|glagent-|gloas-|glsoat-|glffct-)[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{9})?)(?![A-Za-z0-9_.-])/,
  verify: (s) => !isPlaceholder(s.slice(s.indexOf('-') + 1)),
  docs: DOCS,
};

export const gitlabDetectors: readonly Detector[] = [gitlabPat, gitlabDeployToken, gitlabRunnerToken, gitlabPipelineTriggerToken, gitlabToken];
