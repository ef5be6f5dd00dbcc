/** Slack tokens (bot, user, app-level, legacy, configuration) and incoming-webhook URLs. */
import type { Detector } from '../types.js';
import { isPlaceholder } from './util.js';

const DOCS = 'https://api.slack.com/authentication/token-types';

/** The random tail (after the last `-`) must not be a placeholder. */
const tailNotPlaceholder = (s: string): boolean => !isPlaceholder(s.slice(s.lastIndexOf('-') + 1));

const slackBotToken: Detector = {
  id: 'slack-bot-token',
  type: 'slack-token',
  title: 'Slack bot token',
  severity: 'high',
  confidence: 'high',
  keywords: ['xoxb-'],
  pattern: /(?<![A-Za-z0-9-])(xoxb-[0-9]{8,14}-(?:[0-9]{8,14}-)?[A-Za-z0-9]{18,34})(?![A-Za-z0-9-])/,
  verify: tailNotPlaceholder,
  docs: DOCS,
};

const slackUserToken: Detector = {
  id: 'slack-user-token',
  type: 'slack-token',
  title: 'Slack user token',
  severity: 'critical',
  confidence: 'high',
  keywords: ['xoxp-', 'xoxe-'],
  pattern: /(?<![A-Za-z0-9-])(xox[pe]-[0-9]{8,14}-[0-9]{8,14}-[0-9]{8,14}-[A-Za-z0-9]{28,34})(?![A-Za-z0-9-])/,
  verify: tailNotPlaceholder,
  docs: DOCS,
};

const slackAppToken: Detector = {
  id: 'slack-app-token',
  type: 'slack-token',
  title: 'Slack app-level token',
  severity: 'high',
  confidence: 'high',
  keywords: ['xapp-'],
  pattern: /(?<![A-Za-z0-9-])(xapp-\d-[A-Z0-9]{8,14}-\d{8,14}-[a-z0-9]{32,80})(?![A-Za-z0-9-])/,
  verify: tailNotPlaceholder,
  docs: DOCS,
};

const slackLegacyToken: Detector = {
  id: 'slack-legacy-token',
  type: 'slack-token',
  title: 'Slack legacy or workspace token',
  severity: 'high',
  confidence: 'medium',
  keywords: ['xoxa-', 'xoxr-', 'xoxs-', 'xoxo-'],
  pattern: /(?<![A-Za-z0-9-])(xox[aors]-(?:\d-)?(?:[0-9]{1,14}-){0,3}[0-9A-Za-z]{8,64})(?![A-Za-z0-9-])/,
  verify: tailNotPlaceholder,
  docs: DOCS,
};

const slackConfigToken: Detector = {
  id: 'slack-config-token',
  type: 'slack-token',
  title: 'Slack configuration access or refresh token',
  severity: 'high',
  confidence: 'high',
  keywords: ['xoxe.xox', 'xoxe-'],
  pattern: /(?<![A-Za-z0-9-])(xoxe\.xox[bp]-\d-[A-Z0-9]{150,180}|xoxe-\d-[A-Z0-9]{140,160})(?![A-Za-z0-9-])/,
  verify: tailNotPlaceholder,
  docs: DOCS,
};

const slackWebhookUrl: Detector = {
  id: 'slack-webhook-url',
  type: 'slack-webhook',
  title: 'Slack incoming webhook URL',
  severity: 'medium',
  confidence: 'high',
  keywords: ['hooks.slack.com'],
  pattern:
    /((?:https?:\/\/)?hooks\.slack\.com\/(?:services|workflows|triggers)\/T[A-Z0-9]{6,12}\/[AB][A-Z0-9]{6,12}\/(?:[0-9]{6,20}\/)?[A-Za-z0-9]{20,40})(?![A-Za-z0-9])/,
  verify: (s) => !isPlaceholder(s.slice(s.lastIndexOf('/') + 1)),
  docs: 'https://api.slack.com/messaging/webhooks',
};

export const slackDetectors: readonly Detector[] = [slackBotToken, slackUserToken, slackAppToken, slackLegacyToken, slackConfigToken, slackWebhookUrl];
