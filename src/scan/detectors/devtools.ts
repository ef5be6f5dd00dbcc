/**
 * Developer platforms with prefixed tokens: Postman, Sentry, Grafana, Doppler, Pulumi,
 * Databricks, New Relic, Terraform Cloud / HCP Terraform, RubyGems. Each prefix is a rare
 * literal, so these rules cost almost nothing.
 */
import type { Detector } from '../types.js';
import { isPlaceholder, shannonEntropy } from './util.js';

/** A prefixed token whose random part (after `prefixLength`) is not a placeholder. */
function prefixed(spec: Omit<Detector, 'verify' | 'confidence'> & { prefixLength: number; minEntropy?: number }): Detector {
  const { prefixLength, minEntropy, ...rest } = spec;
  return {
    ...rest,
    confidence: 'high',
    verify: (s) => !isPlaceholder(s.slice(prefixLength)) && shannonEntropy(s.slice(prefixLength)) >= (minEntropy ?? 3.0),
  };
}

const postmanApiKey = prefixed({
  id: 'postman-api-key',
  type: 'postman-api-key',
  title: 'Postman API key',
  severity: 'high',
  keywords: ['pmak-'],
  pattern: /(?<![A-Za-z0-9_-])(PMAK-[a-f0-9]{24}-[a-f0-9]{34})(?![A-Za-z0-9_-])/,
  prefixLength: 5,
  docs: 'https://learning.postman.com/docs/developer/postman-api/authentication/',
});

const sentryUserToken = prefixed({
  id: 'sentry-user-token',
  type: 'sentry-token',
  title: 'Sentry user auth token',
  severity: 'high',
  keywords: ['sntryu_'],
  pattern: /(?<![A-Za-z0-9_])(sntryu_[a-f0-9]{64})(?![A-Za-z0-9_])/,
  prefixLength: 7,
  docs: 'https://docs.sentry.io/account/auth-tokens/',
});

const grafanaServiceAccountToken = prefixed({
  id: 'grafana-service-account-token',
  type: 'grafana-token',
  title: 'Grafana service account token',
  severity: 'high',
  keywords: ['glsa_'],
  pattern: /(?<![A-Za-z0-9_])(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})(?![A-Za-z0-9_])/,
  prefixLength: 5,
  docs: 'https://grafana.com/docs/grafana/latest/administration/service-accounts/',
});

const grafanaCloudToken = prefixed({
  id: 'grafana-cloud-token',
  type: 'grafana-token',
  title: 'Grafana Cloud access policy token',
  severity: 'high',
  keywords: ['glc_'],
  // `glc_` + base64 of a JSON object (`eyJ…`).
  pattern: /(?<![A-Za-z0-9_])(glc_eyJ[A-Za-z0-9+/]{32,400}={0,3})(?![A-Za-z0-9+/=_])/,
  prefixLength: 4,
  minEntropy: 4.0,
  docs: 'https://grafana.com/docs/grafana-cloud/account-management/authentication-and-permissions/access-policies/',
});

const dopplerToken = prefixed({
  id: 'doppler-token',
  type: 'doppler-token',
  title: 'Doppler token (personal, service, service account, CLI, SCIM, audit)',
  severity: 'high',
  keywords: ['dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.', 'dp.scim.', 'dp.audit.'],
  pattern: /(?<![A-Za-z0-9_.])(dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_-]{1,40}\.)?[A-Za-z0-9]{40,44})(?![A-Za-z0-9_.])/,
  prefixLength: 6,
  docs: 'https://docs.doppler.com/reference/auth-token-formats',
});

const pulumiAccessToken = prefixed({
  id: 'pulumi-access-token',
  type: 'pulumi-token',
  title: 'Pulumi access token',
  severity: 'high',
  keywords: ['pul-'],
  pattern: /(?<![A-Za-z0-9_-])(pul-[a-f0-9]{40})(?![A-Za-z0-9_-])/,
  prefixLength: 4,
  docs: 'https://www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens/',
});

const databricksToken = prefixed({
  id: 'databricks-token',
  type: 'databricks-token',
  title: 'Databricks personal access token',
  severity: 'high',
  keywords: ['dapi'],
  pattern: /(?<![A-Za-z0-9_-])(dapi[a-f0-9]{32}(?:-\d)?)(?![A-Za-z0-9_-])/,
  prefixLength: 4,
  docs: 'https://docs.databricks.com/en/dev-tools/auth/pat.html',
});

const newRelicUserApiKey = prefixed({
  id: 'new-relic-user-api-key',
  type: 'new-relic-key',
  title: 'New Relic user API key',
  severity: 'high',
  keywords: ['nrak-'],
  pattern: /(?<![A-Za-z0-9_-])(NRAK-[A-Z0-9]{27})(?![A-Za-z0-9_-])/,
  prefixLength: 5,
  docs: 'https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/',
});

const terraformCloudToken = prefixed({
  id: 'terraform-cloud-token',
  type: 'terraform-cloud-token',
  title: 'HCP Terraform / Terraform Cloud API token',
  severity: 'critical',
  keywords: ['.atlasv1.'],
  pattern: /(?<![A-Za-z0-9_-])([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?![A-Za-z0-9_=-])/,
  prefixLength: 23,
  minEntropy: 4.0,
  docs: 'https://developer.hashicorp.com/terraform/cloud-docs/users-teams-organizations/api-tokens',
});

const rubygemsApiKey = prefixed({
  id: 'rubygems-api-key',
  type: 'rubygems-api-key',
  title: 'RubyGems API key',
  severity: 'high',
  keywords: ['rubygems_'],
  pattern: /(?<![A-Za-z0-9_])(rubygems_[a-f0-9]{48})(?![A-Za-z0-9_])/,
  prefixLength: 9,
  docs: 'https://guides.rubygems.org/api-key-scopes/',
});

export const devtoolsDetectors: readonly Detector[] = [
  postmanApiKey,
  sentryUserToken,
  grafanaServiceAccountToken,
  grafanaCloudToken,
  dopplerToken,
  pulumiAccessToken,
  databricksToken,
  newRelicUserApiKey,
  terraformCloudToken,
  rubygemsApiKey,
];
