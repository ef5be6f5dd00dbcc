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

/** Laravel's `APP_KEY=base64:…` (`php artisan key:generate`: 32 random bytes, base64). */
const laravelAppKey: Detector = {
  id: 'laravel-app-key',
  type: 'laravel-app-key',
  title: 'Laravel APP_KEY',
  severity: 'high',
  confidence: 'high',
  keywords: ['base64:'],
  pattern: /(?:APP_KEY|app_key|appKey|'key')["']?[ \t]{0,4}(?:=>|=|:|,)[ \t]{0,4}["']?(?<secret>base64:[A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])/,
  window: { before: 64, after: 80 },
  verify: (s) => shannonEntropy(s.slice(7)) >= 4.0 && !isPlaceholder(s.slice(7)),
  docs: 'https://laravel.com/docs/encryption#configuration',
};

/**
 * WordPress authentication keys and salts in `wp-config.php` (`define( 'AUTH_KEY', '…' )`, 64
 * characters from api.wordpress.org/secret-key): with them, cookies can be forged.
 */
const wordpressSalt: Detector = {
  id: 'wordpress-salt',
  type: 'wordpress-salt',
  title: 'WordPress authentication key or salt (wp-config.php)',
  severity: 'high',
  confidence: 'high',
  keywords: ["_key'", '_key"', "_salt'", '_salt"'],
  pattern: /\bdefine\([ \t]{0,4}["'](?:AUTH|SECURE_AUTH|LOGGED_IN|NONCE)_(?:KEY|SALT)["'][ \t]{0,4},[ \t]{0,40}'(?<secret>[^'\n\\]{32,100})'/,
  window: { before: 48, after: 180 },
  verify: (s) => !isPlaceholder(s) && !/put your unique phrase here/i.test(s) && shannonEntropy(s) >= 4.2,
  docs: 'https://developer.wordpress.org/apis/wp-config-php/#security-keys',
};

/**
 * A Fernet key (Python `cryptography`; Airflow's `AIRFLOW__CORE__FERNET_KEY`, which encrypts its
 * connections and variables): 32 bytes, URL-safe base64, 44 characters ending in `=`.
 */
const fernetKey: Detector = {
  id: 'fernet-key',
  type: 'fernet-key',
  title: 'Fernet encryption key (Airflow FERNET_KEY, cryptography)',
  severity: 'high',
  confidence: 'medium',
  keywords: ['fernet'],
  pattern: /fernet[\w.-]{0,40}["']?[ \t]{0,4}(?:=>|:=|=|:|\()[ \t]{0,4}b?["']?(?<secret>[A-Za-z0-9_-]{43}=)(?![A-Za-z0-9_=-])/i,
  window: { before: 8, after: 120 },
  verify: (s) => shannonEntropy(s) >= 4.0 && !isPlaceholder(s),
  docs: 'https://airflow.apache.org/docs/apache-airflow/stable/security/secrets/fernet.html',
};

export const frameworkDetectors: readonly Detector[] = [djangoSecretKey, railsSecretKeyBase, laravelAppKey, wordpressSalt, fernetKey];
