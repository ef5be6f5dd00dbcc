/**
 * Web frameworks' signing secrets, which have no prefix but a documented shape: Django's
 * `SECRET_KEY` (50 characters of `get_random_secret_key()`'s alphabet, `django-insecure-` in
 * projects made by `startproject`) and Rails' `secret_key_base` (128 hex digits from
 * `rails secret`). Leaked, they let anyone forge sessions, password-reset links and signed cookies.
 */
import type { Detector } from '../types.js';
import { isPlaceholder, shannonEntropy } from './util.js';

/** `get_random_secret_key()`'s alphabet (django/core/management/utils.py). */
const DJANGO_CHARS = String.raw`a-z0-9!@#$%^&*(\-_=+)`;
/** After the name: an optional quote or bracket, a type annotation (`: str`), the operator. */
const ASSIGN = String.raw`["'\]]?[ \t]{0,4}(?::[ \t]{0,4}[A-Za-z]{1,20}[ \t]{0,4})?(?:=>|:=|=|:)[ \t]{0,4}`;

const djangoSecretKey: Detector = {
  id: 'django-secret-key',
  type: 'django-secret-key',
  title: 'Django SECRET_KEY',
  severity: 'high',
  confidence: 'medium',
  keywords: ['secret_key'],
  pattern: new RegExp(
    String.raw`(?:SECRET_KEY|secret_key)${ASSIGN}(?<q>["']?)(?<secret>(?:django-insecure-)?[${DJANGO_CHARS}]{50})\k<q>(?![${DJANGO_CHARS}])`,
  ),
  verify: (s) => {
    const body = s.startsWith('django-insecure-') ? s.slice(16) : s;
    // Random over 50 symbols: several specials and digits, high entropy; not a placeholder.
    const specials = body.replace(/[a-z0-9]/g, '').length;
    return specials >= 3 && /\d/.test(body) && /[a-z]/.test(body) && shannonEntropy(body) >= 4.2 && !isPlaceholder(body);
  },
  docs: 'https://docs.djangoproject.com/en/stable/ref/settings/#secret-key',
};

const railsSecretKeyBase: Detector = {
  id: 'rails-secret-key-base',
  type: 'rails-secret-key-base',
  title: 'Rails secret_key_base',
  severity: 'high',
  confidence: 'high',
  keywords: ['secret_key_base', 'secretkeybase'],
  pattern: new RegExp(String.raw`(?:secret_key_base|SECRET_KEY_BASE|secretKeyBase|SecretKeyBase)${ASSIGN}(?<q>\\?["']?)(?<secret>[0-9a-f]{128})(?![0-9A-Za-z])`),
  priority: 12,
  verify: (s) => shannonEntropy(s) >= 3.6,
  docs: 'https://guides.rubyonrails.org/security.html#custom-credentials',
};

export const frameworkDetectors: readonly Detector[] = [djangoSecretKey, railsSecretKeyBase];
