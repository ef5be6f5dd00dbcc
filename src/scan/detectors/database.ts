/**
 * Database and broker connection URIs with an inline password: PostgreSQL, MySQL/MariaDB,
 * MongoDB (incl. `+srv`), Redis, AMQP (RabbitMQ), SQL Server. The secret is the password.
 * Placeholder passwords (`password`, `changeme`, `${DB_PASS}`, `<password>`, `%s`) and
 * documentation hosts are rejected.
 */
import type { Detector, MatchContext } from '../types.js';
import { classCount, isPlaceholder } from './util.js';

/**
 * `scheme://user:password@host` — the user may be empty (`redis://:pw@host`). The scheme and
 * user sit in a lookbehind so that the match starts at the `:` before the password (a literal
 * first character keeps the scan fast; the lookbehind runs only at colons): the engine
 * locates the secret inside the match by text, and a password that also occurs in the user
 * name (`postgres://postgres:gres@…`) must not be reported at the wrong place.
 */
export function uriPattern(scheme: string): RegExp {
  return new RegExp(
    String.raw`:(?<=(?<![A-Za-z0-9+.-])(?:jdbc:)?${scheme}:\/\/(?<user>[^:/?#@\s"'\x60<>\\]{0,100}):)(?<secret>[^:@/?#\s"'\x60<>\\][^:/?\s"'\x60<>\\]{0,199}?)@(?<host>\[[0-9A-Fa-f:.]{2,60}\]|[A-Za-z0-9_][A-Za-z0-9._-]{0,253})`,
  );
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const DOC_HOSTS = /(?:^|\.)(?:example\.(?:com|org|net)|example|host|hostname|your-?host|server|dbhost|db-host|myhost)$/i;

/** Rejects placeholder passwords and template URIs; shared with the basic-auth rule. */
export function isPlausibleUriPassword(secret: string, ctx: MatchContext): boolean {
  const pw = safeDecode(secret);
  const user = ctx.match.groups?.user ?? '';
  const host = ctx.match.groups?.host ?? '';
  if (pw.length < 4) return false;
  if (isPlaceholder(pw) || isPlaceholder(`${user}:${pw}`)) return false;
  if (/%[sdv]|\{\d*\}|\$\d|^\$|^:|^\*+$/.test(pw)) return false;
  if (pw.toLowerCase() === user.toLowerCase()) return false;
  if (/pass(?:word)?|secret|^pw\d*$|^pwd$/i.test(pw) && pw.length < 12) return false;
  if (pw.length < 6 && classCount(pw) === 1) return false;
  if (/^\d{1,7}$/.test(pw)) return false;
  if (DOC_HOSTS.test(host) || /[<>{}$]/.test(host)) return false;
  return true;
}

function uriDetector(id: string, title: string, scheme: string, keywords: string[], docs: string): Detector {
  return {
    id,
    docs,
    type: 'database-uri',
    title,
    severity: 'high',
    confidence: 'high',
    keywords,
    pattern: uriPattern(scheme),
    verify: isPlausibleUriPassword,
  };
}

const postgresConnectionUri = uriDetector('postgres-connection-uri', 'PostgreSQL connection URI with a password', 'postgres(?:ql)?(?:\\+[a-z0-9]+)?', [
  'postgres://',
  'postgresql://',
  'postgres+',
  'postgresql+',
], 'https://www.postgresql.org/docs/current/sql-alterrole.html');
const mysqlConnectionUri = uriDetector('mysql-connection-uri', 'MySQL / MariaDB connection URI with a password', '(?:mysqlx?|mariadb)(?:\\+[a-z0-9]+)?', [
  'mysql://',
  'mysqlx://',
  'mariadb://',
  'mysql+',
  'mariadb+',
], 'https://dev.mysql.com/doc/refman/8.4/en/alter-user.html');
const mongodbConnectionUri = uriDetector('mongodb-connection-uri', 'MongoDB connection URI with a password', 'mongodb(?:\\+srv)?', ['mongodb://', 'mongodb+srv://'], 'https://www.mongodb.com/docs/manual/reference/method/db.changeUserPassword/');
const redisConnectionUri = uriDetector('redis-connection-uri', 'Redis connection URI with a password', 'rediss?', ['redis://', 'rediss://'], 'https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/');
const amqpConnectionUri = uriDetector('amqp-connection-uri', 'AMQP (RabbitMQ) connection URI with a password', 'amqps?', ['amqp://', 'amqps://'], 'https://www.rabbitmq.com/docs/passwords');
const mssqlConnectionUri = uriDetector('mssql-connection-uri', 'SQL Server connection URI with a password', '(?:mssql|sqlserver)', ['mssql://', 'sqlserver://'], 'https://learn.microsoft.com/en-us/sql/t-sql/statements/alter-login-transact-sql');

/** Rejects a connection-string password that is a placeholder, reference or format slot. */
function isPlausibleKeyValuePassword(secret: string, ctx: MatchContext): boolean {
  const pw = secret.startsWith('{') && secret.endsWith('}') ? secret.slice(1, -1) : secret;
  if (/^\{\d*\}$|^\$\(|^\$\{|^%\(|^\{\{/.test(secret)) return false;
  return isPlausibleUriPassword(pw, ctx);
}

/**
 * ADO.NET, ODBC and Npgsql connection strings: `Server=…;User Id=…;Password=…;`,
 * `Driver={…};Uid=…;Pwd=…;`. Another connection-string key must come before the password in the
 * same string, so a lone `password=` line is left to the generic rule. ODBC `{…}` quoting is
 * accepted; the secret is the value.
 */
const connectionStringPassword: Detector = {
  id: 'connection-string-password',
  type: 'database-credential',
  title: 'Password in a database connection string (ADO.NET, ODBC)',
  severity: 'high',
  confidence: 'medium',
  keywords: ['password=', 'pwd=', 'password =', 'pwd ='],
  pattern:
    /(?<=(?:Server|Data Source|Host|Address|Addr|Network Address|Database|Initial Catalog|User ID|UserID|User|Username|Uid|Driver|DSN)[ \t]{0,3}=[^;\n"'\x60]{0,200};[^\n"'\x60]{0,300})(?<![A-Za-z0-9_ ])(?:Password|Pwd)[ \t]{0,3}=[ \t]{0,3}(?<secret>\{[^}\n]{1,200}\}|[^;\s"'\x60{}]{1,200})(?=[;"'\x60\s]|$)/i,
  window: { before: 520, after: 260 },
  priority: 5,
  verify: isPlausibleKeyValuePassword,
  docs: 'https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html',
};

/**
 * JDBC URLs with a password parameter: `jdbc:postgresql://h/db?user=u&password=p`,
 * `jdbc:mysql://…&password=p`, `jdbc:sqlserver://h:1433;databaseName=x;user=u;password=p;`.
 */
const jdbcPassword: Detector = {
  id: 'jdbc-password',
  type: 'database-uri',
  title: 'Password in a JDBC URL',
  severity: 'high',
  confidence: 'high',
  keywords: ['jdbc:'],
  pattern: /\bjdbc:[a-z0-9]{2,20}:[^\s"'\x60<>]{0,300}?[?&;]password=(?<secret>[^&;\s"'\x60<>]{1,200})/i,
  priority: 5,
  verify: isPlausibleKeyValuePassword,
  docs: 'https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html',
};

export const databaseDetectors: readonly Detector[] = [
  connectionStringPassword,
  jdbcPassword,
  postgresConnectionUri,
  mysqlConnectionUri,
  mongodbConnectionUri,
  redisConnectionUri,
  amqpConnectionUri,
  mssqlConnectionUri,
];
