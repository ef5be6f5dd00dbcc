/** Stripe secret and restricted API keys, and webhook signing secrets. */
import type { Detector } from '../types.js';
import { isKnownExample, isPlaceholder } from './util.js';

const DOCS = 'https://docs.stripe.com/keys';

const plausible = (prefixLength: number) => (s: string) => !isKnownExample(s) && !isPlaceholder(s.slice(prefixLength));

const stripeSecretKey: Detector = {
  id: 'stripe-secret-key',
  type: 'stripe-key',
  title: 'Stripe secret API key',
  severity: 'critical',
  confidence: 'high',
  keywords: ['sk_live_', 'sk_test_', 'sk_prod_'],
  pattern: /(?<![A-Za-z0-9_])(sk_(?:live|test|prod)_[A-Za-z0-9]{20,247})(?![A-Za-z0-9_])/,
  verify: plausible(8),
  docs: DOCS,
};

const stripeRestrictedKey: Detector = {
  id: 'stripe-restricted-key',
  type: 'stripe-key',
  title: 'Stripe restricted API key',
  severity: 'high',
  confidence: 'high',
  keywords: ['rk_live_', 'rk_test_', 'rk_prod_'],
  pattern: /(?<![A-Za-z0-9_])(rk_(?:live|test|prod)_[A-Za-z0-9]{20,247})(?![A-Za-z0-9_])/,
  verify: plausible(8),
  docs: DOCS,
};

const stripeWebhookSecret: Detector = {
  id: 'stripe-webhook-secret',
  type: 'stripe-webhook-secret',
  title: 'Stripe webhook signing secret',
  severity: 'high',
  confidence: 'high',
  keywords: ['whsec_'],
  pattern: /(?<![A-Za-z0-9_])(whsec_[A-Za-z0-9+/]{32,88}={0,2})(?![A-Za-z0-9_+/=])/,
  verify: plausible(6),
  docs: 'https://docs.stripe.com/webhooks#verify-events',
};

export const stripeDetectors: readonly Detector[] = [stripeSecretKey, stripeRestrictedKey, stripeWebhookSecret];
