/**
 * HTTP and command-line credentials: `curl -u user:pass`, `Authorization: Bearer …` and
 * `Basic …` headers, `.netrc` entries and `mysql -pPASSWORD`. (`.git-credentials` lines are
 * credentialed URLs, `basic-auth-url`; `.npmrc`, `.pypirc` and Docker `config.json` have their
 * registry rules.)
 *
 * None of these has a token shape of its own: precision comes from the syntax around the value
 * (a flag, a header, a `.netrc` keyword) and from rejecting references (`$TOKEN`, `${PASS}`,
 * `%s`), placeholders and words.
 */
import type { Detector, MatchContext } from '../types.js';
import { isPlausibleUriPassword } from './database.js';
import { isPlausibleSecretValue } from './generic.js';
import { classCount, decodeBase64, isKnownExample, isPlaceholder, shannonEntropy } from './util.js';

/** A password written after a flag or keyword: not a reference, a placeholder or a format slot. */
function isPlausiblePassword(secret: string, ctx: MatchContext): boolean {
  if (/^[$%]|\$\{|\$\(|\{\{|^<|>$|^\*+$/.test(secret)) return false;
  return isPlausibleUriPassword(secret, ctx) && !isKnownExample(secret);
}

/**
 * `curl -u user:password`, `--user user:password`, `--user=…`, quoted or not (also wget's and
 * httpie's `-a`/`--auth`). The secret is the password; a `$VAR` or a bare `user` (curl then
 * prompts) never matches.
 */
const curlBasicAuth: Detector = {
  id: 'curl-basic-auth',
  type: 'http-basic-auth',
  title: 'Password on a curl command line (-u user:password)',
  severity: 'high',
  confidence: 'medium',
  keywords: ['-u ', '-u=', '-u"', "-u'", '--user', '-a ', '--auth'],
  pattern:
    /(?<![^\s;|&(])(?:-u|--user|-a|--auth)(?:[ \t]{1,4}|=)(?<q>["']?)(?<user>[^\s:"'$]{0,100}):(?<secret>[^\s"']{4,200})\k<q>(?=[\s"';|&)]|$)/,
  window: { before: 8, after: 320 },
  priority: 3,
  verify: isPlausiblePassword,
  docs: 'https://curl.se/docs/manpage.html#-u',
};

/** Characters of a bearer token: JWTs, base64, base64url, hex, opaque tokens. */
const BEARER = /\bbearer[ \t]{1,4}(?<secret>[A-Za-z0-9._~+/-]{16,2000}={0,2})(?![A-Za-z0-9._~+/=$%{])/i;

/**
 * `Authorization: Bearer …` in a command line, a header file, code or a request log. The token
 * must look random (mixed classes, entropy); a reference (`Bearer ${token}`, `'Bearer ' + t`), a
 * placeholder (`Bearer YOUR_TOKEN`) or a word is not one. A token a provider rule knows (a GitHub
 * or Slack token) is reported by that rule.
 */
const httpBearerToken: Detector = {
  id: 'http-bearer-token',
  type: 'http-bearer-token',
  title: 'Bearer token in an Authorization header',
  severity: 'high',
  confidence: 'medium',
  keywords: ['bearer'],
  pattern: BEARER,
  window: { before: 8, after: 2048 },
  priority: 3,
  verify: (s) => {
    if (isPlaceholder(s) || isKnownExample(s)) return false;
    if (classCount(s) < 2 || shannonEntropy(s) < 3.2) return false;
    return isPlausibleSecretValue(s, 'quoted');
  },
  docs: 'https://datatracker.ietf.org/doc/html/rfc6750#section-2.1',
};

/**
 * `Authorization: Basic base64(user:password)`: reported only when the value decodes to
 * `user:password` with a real-looking password.
 */
const httpBasicAuthHeader: Detector = {
  id: 'http-basic-auth-header',
  type: 'http-basic-auth',
  title: 'Credentials in a Basic Authorization header',
  severity: 'high',
  confidence: 'high',
  keywords: ['basic '],
  pattern: /\bbasic[ \t]{1,4}(?<secret>[A-Za-z0-9+/]{8,1400}={0,2})(?![A-Za-z0-9+/=])/i,
  window: { before: 8, after: 1500 },
  priority: 4,
  verify: (s) => {
    const decoded = decodeBase64(s)?.toString('utf8');
    if (!decoded || /[\0-\x1f\x7f\ufffd]/.test(decoded)) return false;
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (password.length < 4 || isPlaceholder(password) || isPlaceholder(decoded)) return false;
    if (password.toLowerCase() === user.toLowerCase() || /^(?:password|pass|secret|pwd)\d{0,3}$/i.test(password)) return false;
    return true;
  },
  docs: 'https://datatracker.ietf.org/doc/html/rfc7617',
};

/**
 * A `.netrc` / `_netrc` entry: `machine HOST [login USER] [account …] password PASS`, on one line
 * or several (also the `default` entry). Used by curl, git, ftp, pip and Heroku's CLI.
 */
const netrcPassword: Detector = {
  id: 'netrc-password',
  type: 'netrc-credential',
  title: 'Password in a .netrc entry',
  severity: 'high',
  confidence: 'high',
  keywords: ['machine', 'default login'],
  pattern:
    /(?<![^\s])(?:machine[ \t]{1,8}(?<host>[^\s]{1,253})|default)(?:[ \t\r\n]{1,40}(?:login|account|port|user)[ \t]{1,8}(?<user>[^\s]{1,200})){0,3}[ \t\r\n]{1,40}password[ \t]{1,8}(?<secret>[^\s]{4,200})(?=\s|$)/,
  multiline: true,
  window: { before: 8, after: 1200 },
  priority: 5,
  // A `.netrc` keyword is the next entry's start, not a password.
  verify: (s, ctx) => !/^(?:machine|default|login|account|macdef|password|port)$/.test(s) && isPlausiblePassword(s, ctx),
  docs: 'https://everything.curl.dev/usingcurl/netrc.html',
};

/**
 * `mysql -u root -pPASSWORD` (and mysqldump, mysqladmin, mariadb): the password is glued to `-p`.
 * A lone `-p` (prompt) or `-P3306` (a port) never matches.
 */
const mysqlCliPassword: Detector = {
  id: 'mysql-cli-password',
  type: 'database-credential',
  title: 'Password on a mysql command line (-pPASSWORD)',
  severity: 'high',
  confidence: 'medium',
  keywords: ['mysql', 'mariadb'],
  pattern:
    /\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mariadb|mariadb-dump)\b[^\n|;&]{0,200}?[ \t]-p(?<q>["']?)(?<secret>[^\s"'-][^\s"']{3,200})\k<q>(?=[\s;|&]|$)/,
  window: { before: 8, after: 480 },
  priority: 4,
  verify: isPlausiblePassword,
  docs: 'https://dev.mysql.com/doc/refman/8.4/en/password-security-user.html',
};

/**
 * A password on a login command line: `docker login -u ci -p PASSWORD registry` (also podman,
 * buildah, `helm registry login`, `oras login`), and `sshpass -p PASSWORD ssh …`.
 */
const cliLoginPassword: Detector = {
  id: 'cli-login-password',
  type: 'cli-password',
  title: 'Password on a login command line (docker login -p, sshpass -p)',
  severity: 'high',
  confidence: 'medium',
  keywords: ['docker login', 'podman login', 'buildah login', 'registry login', 'oras login', 'nerdctl login', 'skopeo login', 'sshpass'],
  pattern:
    /(?:\b(?:docker|podman|buildah|helm[ \t]{1,4}registry|oras|nerdctl|skopeo)[ \t]{1,4}login\b[^\n|;&]{0,200}?[ \t](?:-p|--password)|\bsshpass[ \t]{1,4}-p)(?:[ \t]{1,4}|=)(?<q>["']?)(?<secret>[^\s"'-][^\s"']{3,200})\k<q>(?=[\s;|&]|$)/,
  window: { before: 240, after: 480 },
  priority: 4,
  verify: isPlausiblePassword,
  docs: 'https://docs.docker.com/reference/cli/docker/login/#password-stdin',
};

/**
 * SQL that sets a password: `CREATE ROLE app WITH LOGIN PASSWORD '…'`, `CREATE USER … PASSWORD
 * '…'`, `ALTER USER … IDENTIFIED BY '…'` (MySQL, Oracle), `CREATE LOGIN … WITH PASSWORD = '…'`
 * (SQL Server), in migrations, dumps and init scripts. A hashed value (`'SCRAM-SHA-256$…'`,
 * `md5…`) is not the password.
 */
const sqlPassword: Detector = {
  id: 'sql-password',
  type: 'database-credential',
  title: 'Password set in SQL (CREATE/ALTER USER, ROLE or LOGIN)',
  severity: 'high',
  confidence: 'medium',
  keywords: ['create user', 'create role', 'create login', 'alter user', 'alter role', 'alter login'],
  pattern:
    /\b(?:CREATE|ALTER)[ \t]{1,4}(?:USER|ROLE|LOGIN)\b[^;\n]{0,200}?\b(?:PASSWORD[ \t]{0,4}=?|IDENTIFIED[ \t]{1,4}BY(?:[ \t]{1,4}PASSWORD)?)[ \t]{0,4}N?'(?<secret>[^'\n]{4,200})'/i,
  window: { before: 320, after: 240 },
  priority: 4,
  verify: (s, ctx) => !/^(?:SCRAM-SHA-256\$|md5[0-9a-f]{32}$|\*[0-9A-F]{40}$)/.test(s) && isPlausiblePassword(s, ctx),
  docs: 'https://www.postgresql.org/docs/current/sql-alterrole.html',
};

export const credentialsCliDetectors: readonly Detector[] = [
  curlBasicAuth,
  httpBearerToken,
  httpBasicAuthHeader,
  netrcPassword,
  mysqlCliPassword,
  cliLoginPassword,
  sqlPassword,
];
