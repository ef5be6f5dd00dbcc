/** Messaging and e-mail APIs: Twilio, SendGrid, Mailgun, Telegram bots, Discord bots and webhooks. */
import type { Detector } from '../types.js';
import { classCount, decodeBase64, isHexHash, isPlaceholder, shannonEntropy } from './util.js';

/**
 * Twilio keys are `SK` + 32 hex characters, with no literal of their own: we require the word
 * `twilio` within a kilobyte (same file region), which real configurations have and hashes
 * that happen to follow `SK` do not.
 */
export const twilioApiKey: Detector = {
  id: 'twilio-api-key',
  type: 'twilio-credential',
  title: 'Twilio API key SID',
  severity: 'high',
  confidence: 'medium',
  keywords: ['twilio'],
  pattern: /(?<![A-Za-z0-9_])(SK[0-9a-f]{32})(?![A-Za-z0-9_])/,
  multiline: true,
  window: { before: 1024, after: 1024 },
  verify: (s) => !isPlaceholder(s.slice(2)),
  docs: 'https://www.twilio.com/docs/iam/api-keys',
};

const twilioAuthToken: Detector = {
  id: 'twilio-auth-token',
  type: 'twilio-credential',
  title: 'Twilio auth token',
  severity: 'critical',
  confidence: 'medium',
  keywords: ['twilio'],
  // `TWILIO_AUTH_TOKEN=<32 hex>` or `twilio('AC…', '<32 hex>')` (account SID then token).
  pattern:
    /(?:auth[_.-]?token["'`]?\s{0,4}(?::=|=>|=|:)\s{0,4}["'`]?|(?<![A-Za-z0-9_])AC[0-9a-f]{32}["'`]?\s{0,4},\s{0,4}["'`])([0-9a-fA-F]{32})(?![A-Za-z0-9_])/i,
  multiline: true,
  window: { before: 1024, after: 1024 },
  verify: (s) => /^[0-9a-f]{32}$/.test(s) && !isPlaceholder(s),
  docs: 'https://www.twilio.com/docs/iam/credentials/api',
};

const sendgridApiKey: Detector = {
  id: 'sendgrid-api-key',
  type: 'sendgrid-api-key',
  title: 'SendGrid API key',
  severity: 'high',
  confidence: 'high',
  keywords: ['SG.'],
  keywordCase: 'exact',
  pattern: /(?<![A-Za-z0-9_.-])(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_.-])/,
  verify: (s) => !isPlaceholder(s.slice(3)) && shannonEntropy(s) >= 4.0,
  docs: 'https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys',
};

const mailgunApiKey: Detector = {
  id: 'mailgun-api-key',
  type: 'mailgun-api-key',
  title: 'Mailgun API key',
  severity: 'high',
  confidence: 'medium',
  keywords: ['mailgun'],
  // Legacy private keys are `key-` + 32 hex; current ones are 32 hex-8 hex-8 hex.
  pattern: /(?<![A-Za-z0-9_-])(key-[0-9a-f]{32}|[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})(?![A-Za-z0-9_-])/,
  multiline: true,
  window: { before: 1024, after: 1024 },
  verify: (s) => !isPlaceholder(s.replace(/^key-/, '')),
  docs: 'https://documentation.mailgun.com/docs/mailgun/api-reference/authentication',
};

const telegramBotToken: Detector = {
  id: 'telegram-bot-token',
  type: 'telegram-bot-token',
  title: 'Telegram bot token',
  severity: 'high',
  confidence: 'high',
  keywords: [':aa'],
  // `<bot id>:AA<33 characters>`, also inside `https://api.telegram.org/bot<token>/`.
  pattern: /(?:(?<![A-Za-z0-9_:-])|(?<=bot))([0-9]{8,10}:AA[A-Za-z0-9_-]{33})(?![A-Za-z0-9_-])/,
  verify: (s) => {
    const tail = s.slice(s.indexOf(':') + 3);
    return !isPlaceholder(tail) && classCount(tail) >= 3;
  },
  docs: 'https://core.telegram.org/bots/api#authorizing-your-bot',
};

/** The first part of a Discord bot token is the bot's user ID (a snowflake) in base64. */
function isSnowflakeB64(part: string): boolean {
  const decoded = decodeBase64(part)?.toString('latin1');
  return decoded !== undefined && /^[1-9][0-9]{16,19}$/.test(decoded);
}

const discordBotToken: Detector = {
  id: 'discord-bot-token',
  type: 'discord-token',
  title: 'Discord bot token',
  severity: 'high',
  confidence: 'high',
  keywords: ['discord'],
  pattern: /(?<![A-Za-z0-9_.-])([MNO][A-Za-z0-9_-]{22,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40})(?![A-Za-z0-9_.-])/,
  multiline: true,
  window: { before: 1024, after: 1024 },
  verify: (s) => isSnowflakeB64(s.slice(0, s.indexOf('.'))) && !isPlaceholder(s.slice(s.lastIndexOf('.') + 1)),
  docs: 'https://discord.com/developers/docs/reference#authentication',
};

const discordWebhookUrl: Detector = {
  id: 'discord-webhook-url',
  type: 'discord-webhook',
  title: 'Discord webhook URL',
  severity: 'medium',
  confidence: 'high',
  keywords: ['/api/webhooks/'],
  pattern: /(https:\/\/(?:(?:ptb|canary)\.)?discord(?:app)?\.com\/api\/webhooks\/[0-9]{17,20}\/[A-Za-z0-9_-]{60,68})(?![A-Za-z0-9_-])/,
  verify: (s) => !isPlaceholder(s.slice(s.lastIndexOf('/') + 1)) && !isHexHash(s.slice(s.lastIndexOf('/') + 1)),
  docs: 'https://discord.com/developers/docs/resources/webhook',
};

export const messagingDetectors: readonly Detector[] = [
  twilioApiKey,
  twilioAuthToken,
  sendgridApiKey,
  mailgunApiKey,
  telegramBotToken,
  discordBotToken,
  discordWebhookUrl,
];
