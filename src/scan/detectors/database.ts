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
    String.raw`:(?<=(?<![A-Za-z0-9+.-])(?:jdbc:)?${scheme}:\/\/(?<user>[^:/?#@\s"'\x60<>\\]{0,100}):)(?<secret>[^:@/?#\s"'\x60<>\\]{1,200})@(?<host>\[[0-9A-Fa-f:.]{2,60}\]|[A-Za-z0-9_][A-Za-z0-9._-]{0,253})`,
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

function uriDetector(id: string, title: string, scheme: string, keywords: string[]): Detector {
  return {
    id,
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
]);
const mysqlConnectionUri = uriDetector('mysql-connection-uri', 'MySQL / MariaDB connection URI with a password', '(?:mysqlx?|mariadb)(?:\\+[a-z0-9]+)?', [
  'mysql://',
  'mysqlx://',
  'mariadb://',
  'mysql+',
  'mariadb+',
]);
const mongodbConnectionUri = uriDetector('mongodb-connection-uri', 'MongoDB connection URI with a password', 'mongodb(?:\\+srv)?', ['mongodb://', 'mongodb+srv://']);
const redisConnectionUri = uriDetector('redis-connection-uri', 'Redis connection URI with a password', 'rediss?', ['redis://', 'rediss://']);
const amqpConnectionUri = uriDetector('amqp-connection-uri', 'AMQP (RabbitMQ) connection URI with a password', 'amqps?', ['amqp://', 'amqps://']);
const mssqlConnectionUri = uriDetector('mssql-connection-uri', 'SQL Server connection URI with a password', '(?:mssql|sqlserver)', ['mssql://', 'sqlserver://']);

export const databaseDetectors: readonly Detector[] = [
  postgresConnectionUri,
  mysqlConnectionUri,
  mongodbConnectionUri,
  redisConnectionUri,
  amqpConnectionUri,
  mssqlConnectionUri,
];
