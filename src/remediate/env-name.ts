/**
 * Names for the environment variables a patch introduces: derived from the code around the secret
 * (`stripeSecret` → `STRIPE_SECRET`, `apiKey` in `new OpenAI({…})` → `OPENAI_API_KEY`), else from
 * the finding's type (`github-token` → `GITHUB_TOKEN`); upper snake case, a valid identifier,
 * unique within the file and against the names the repository already uses.
 */

const MAX_LENGTH = 64;

/** Credential types whose secret part has a better name than the type (a URI's secret is its password). */
const TYPE_NAMES: Record<string, string> = {
  'database-uri': 'DATABASE_PASSWORD',
  'basic-auth': 'BASIC_AUTH_PASSWORD',
  'generic-secret': 'SECRET',
  jwt: 'JWT',
};

/** Property names that say nothing on their own: `{ stripe: { secret } }` becomes `STRIPE_SECRET`. */
const GENERIC_NAMES = new Set([
  'key', 'secret', 'token', 'password', 'passwd', 'pwd', 'pass', 'value', 'auth', 'apikey', 'accesstoken', 'authtoken',
  'credential', 'credentials', 'secretkey',
]);

/** Class names that would not help as a prefix: `new Client({ apiKey })` stays `API_KEY`. */
const GENERIC_CLASSES = new Set(['client', 'pool', 'connection', 'config', 'configuration', 'service', 'sdk', 'api', 'options']);

/** Names written in mixed case that are one word (`OpenAI` is `OPENAI`, not `OPEN_AI`). */
const BRANDS = /openai|github|gitlab|bitbucket|sendgrid|paypal|mongodb|dynamodb|postgresql|mysql|graphql|oauth|hubspot|mailchimp|pagerduty|youtube|linkedin|jwt/gi;

/**
 * Upper snake case of any identifier-ish text; `undefined` when nothing usable is left.
 *
 * @example toEnvName('stripeSecret') // 'STRIPE_SECRET'; toEnvName('APIKey') // 'API_KEY'
 */
export function toEnvName(raw: string): string | undefined {
  const s = raw
    .replace(BRANDS, (m) => m[0]!.toUpperCase() + m.slice(1).toLowerCase())
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase()
    .slice(0, MAX_LENGTH)
    .replace(/_+$/, '');
  if (s === '') return undefined;
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** The name a finding type gives: `aws-access-key` → `AWS_ACCESS_KEY`. */
function envNameForType(type: string): string {
  return TYPE_NAMES[type] ?? toEnvName(type.replace(/^generic-/, '')) ?? 'SECRET';
}

/** Detectors whose secret has a conventional variable name (AWS's SDKs read these two). */
const RULE_NAMES: Record<string, string> = {
  'aws-access-key-id': 'AWS_ACCESS_KEY_ID',
  'aws-secret-access-key': 'AWS_SECRET_ACCESS_KEY',
  'aws-credential-pair': 'AWS_SECRET_ACCESS_KEY',
};

/** The name a site gives when its context names nothing useful: by detector, then by type. */
export function envNameForSite(site: { type: string; ruleId: string }): string {
  return RULE_NAMES[site.ruleId] ?? envNameForType(site.type);
}

/** True when the detector's secret has a conventional name that beats a generic key such as `value`. */
export function hasConventionalName(site: { ruleId: string }): boolean {
  return site.ruleId in RULE_NAMES;
}

export function isGenericName(name: string): boolean {
  return GENERIC_NAMES.has(name.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

export function isGenericClass(name: string): boolean {
  return GENERIC_CLASSES.has(name.toLowerCase());
}

/**
 * Joins a context prefix and an own name (`OpenAI` + `apiKey` → `OPENAI_API_KEY`), without
 * repeating a prefix the own name already has (`Stripe` + `stripeKey` → `STRIPE_KEY`).
 */
export function joinEnvName(prefix: string | undefined, own: string): string | undefined {
  const o = toEnvName(own);
  const p = prefix === undefined ? undefined : toEnvName(prefix);
  if (o === undefined) return p;
  if (p === undefined || o === p || o.startsWith(`${p}_`)) return o;
  return toEnvName(`${p}_${o}`);
}

/** Hands out names: one per fingerprint, never one already taken by another secret. */
export class EnvNamer {
  private readonly byFingerprint = new Map<string, string>();
  private readonly used = new Set<string>();

  constructor(
    private readonly taken: ReadonlySet<string> = new Set(),
    private readonly known: ReadonlyMap<string, string> = new Map(),
  ) {}

  /** The name of this secret: the one it already has, else `preferred` made unique. */
  nameFor(fingerprint: string, preferred: string): string {
    const had = this.byFingerprint.get(fingerprint);
    if (had !== undefined) return had;
    const known = this.known.get(fingerprint);
    let name: string;
    if (known !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(known) && !this.used.has(known)) {
      name = known;
    } else {
      const base = toEnvName(preferred) ?? 'SECRET';
      name = base;
      for (let n = 2; this.used.has(name) || this.taken.has(name); n++) name = `${base}_${n}`;
    }
    this.byFingerprint.set(fingerprint, name);
    this.used.add(name);
    return name;
  }
}
