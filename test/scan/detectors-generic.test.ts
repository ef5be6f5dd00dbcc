/**
 * Generic secrets across formats, HTTP/CLI credentials and credentialed connection URIs, through
 * the scan engine with the whole catalogue: each positive line is found with the exact span of
 * the secret (by any rule unless one is named: a provider rule may win), each hard negative stays
 * silent, and hostile lines finish in linear time.
 *
 * Secrets are drawn from the seeded RNG at run time; `$S` in a template is the secret, `$B` is
 * base64 of `user:secret` (the span is then the base64).
 */
import { describe, expect, it } from 'vitest';
import { createRuleset } from '../../src/scan/engine.js';
import { scanText } from '../../src/scan/scan-text.js';
import { fingerprintSecret } from '../../src/scan/redact.js';
import { builtinDetectors } from '../../src/scan/detectors/index.js';
import { ALNUM, B64, HEX, chars, createRng, int, password, rand, uuid } from '../fixtures/secrets/gen-util.js';

const ruleset = createRuleset(builtinDetectors);

interface Positive {
  format: string;
  line: string;
  /** The rule expected to report it; any rule when absent. */
  rule?: string;
  /** What `$S` is: a password (default) or a long random token. */
  kind?: 'password' | 'token';
}

const P = (format: string, line: string, rule?: string, kind?: Positive['kind']): Positive => ({
  format,
  line,
  ...(rule ? { rule } : {}),
  ...(kind ? { kind } : {}),
});

const GENERIC = 'generic-secret';

const POSITIVES: readonly Positive[] = [
  // YAML
  P('yaml', 'password: $S', GENERIC),
  P('yaml', '  db_password: "$S"', GENERIC),
  P('yaml', "  clientSecret: '$S'", GENERIC),
  P('yaml', 'smtp_password: $S  # rotated monthly', GENERIC),
  P('yaml', '    DB_PASS: $S', GENERIC),
  // JSON / appsettings.json
  P('json', '  "password": "$S",', GENERIC),
  P('json', '    "ApiKey": "$S"', GENERIC),
  P('json', '{"client_secret":"$S","grant_type":"client_credentials"}', GENERIC),
  P('json', '      "x-api-key": "$S",', GENERIC),
  P('json', '  "jwtSecret": "$S",', GENERIC),
  // TOML / INI / .properties
  P('toml', 'password = "$S"', GENERIC),
  P('toml', "api_key = '$S'", GENERIC),
  P('ini', 'password=$S', GENERIC),
  P('ini', 'secret_key = $S', GENERIC),
  P('properties', 'spring.datasource.password=$S', GENERIC),
  P('properties', 'mail.smtp.password = $S', GENERIC),
  P('properties', 'db.pass=$S', GENERIC),
  // HCL / tfvars
  P('hcl', 'db_password = "$S"', GENERIC),
  P('hcl', '  master_password      = "$S"', GENERIC),
  // Dockerfile
  P('dockerfile', 'ENV DB_PASSWORD=$S', GENERIC),
  P('dockerfile', 'ARG NPM_AUTH_SECRET=$S', GENERIC),
  P('dockerfile', 'ENV API_TOKEN $S', 'generic-secret-keyword-value'),
  // shell
  P('shell', "export DB_PASS='$S'", GENERIC),
  P('shell', 'export SERVICE_TOKEN="$S"', GENERIC),
  P('shell', 'SMTP_PASSWORD=$S ./send-report.sh', GENERIC),
  // Makefile
  P('makefile', 'DB_PASSWORD := $S', GENERIC),
  P('makefile', 'API_KEY ?= $S', GENERIC),
  // Kubernetes env pairs
  P('k8s', '        - name: DB_PASSWORD\n          value: "$S"', 'generic-secret-name-value'),
  P('k8s', '- name: STRIPE_SECRET\n  value: $S', 'generic-secret-name-value'),
  P('k8s', '  - name: api-token\n    value: \'$S\'', 'generic-secret-name-value'),
  // Python
  P('python', 'password = "$S"', GENERIC),
  P('python', "    self.api_key = '$S'", GENERIC),
  P('python', 'conn = psycopg2.connect(host="db", user="app", password="$S")', GENERIC),
  P('python', 'client = Client(api_key="$S", timeout=30)', GENERIC),
  P('python', 'os.environ.setdefault("API_SECRET", "$S")', 'generic-secret-call'),
  // Ruby
  P('ruby', '  :password => "$S",', GENERIC),
  P('ruby', "config.secret_token = '$S'", GENERIC),
  P('ruby', '  password: "$S",', GENERIC),
  // Go
  P('go', '\tPassword: "$S",', GENERIC),
  P('go', 'const apiToken = "$S"', GENERIC),
  P('go', '\tcfg.ClientSecret = "$S"', GENERIC),
  // Java
  P('java', 'private static final String DB_PASSWORD = "$S";', GENERIC),
  P('java', 'dataSource.setPassword("$S");', 'generic-secret-call'),
  P('java', 'props.put("mail.smtp.password", "$S");', 'generic-secret-call'),
  // C#
  P('csharp', 'options.Password = "$S";', GENERIC),
  P('csharp', 'private const string ApiKey = "$S";', GENERIC),
  // PHP
  P('php', "$password = '$S';", GENERIC),
  P('php', "    'password' => '$S',", GENERIC),
  P('php', "define('DB_PASSWORD', '$S');", 'generic-secret-call'),
  // JS / TS
  P('js', 'const apiKey = "$S";', GENERIC),
  P('js', "  clientSecret: '$S',", GENERIC),
  P('js', 'const jwtSecret = `$S`;', GENERIC),
  P('js', "  headers: { 'x-api-key': '$S' },", GENERIC),
  P('js', "req.setHeader('X-Auth-Token', '$S');", 'generic-secret-call'),
  // XML: web.config, Android resources, Maven settings, Spring beans
  P('xml', '<add key="ApiKey" value="$S" />', 'generic-secret-xml'),
  P('xml', '    <add key="SmtpPassword" value="$S"/>', 'generic-secret-xml'),
  P('xml', '<string name="api_key">$S</string>', 'generic-secret-xml'),
  P('xml', '      <password>$S</password>', 'generic-secret-xml'),
  P('xml', '<property name="password" value="$S"/>', 'generic-secret-xml'),
  P('xml', '<entry key="db.password">$S</entry>', 'generic-secret-xml'),
  // Connection strings
  P('ado.net', 'Data Source=sql01;Initial Catalog=app;User ID=svc;Password=$S;', 'connection-string-password'),
  P('ado.net', '"Default": "Server=tcp:sql01.corp.local,1433;Database=Orders;User Id=app;Password=$S;"', 'connection-string-password'),
  P('odbc', 'Driver={ODBC Driver 17 for SQL Server};Server=db;Uid=app;Pwd=$S;', 'connection-string-password'),
  P('npgsql', '"DefaultConnection": "Host=db.internal;Database=app;Username=app;Password=$S"', 'connection-string-password'),
  // Command lines
  P('cli', 'mysql -u root -p$S -h db.internal shop', 'mysql-cli-password'),
  P('cli', 'mysqldump --user=backup --password=$S shop > dump.sql', GENERIC),
  P('cli', 'PGPASSWORD=$S psql -h db.internal -U app', GENERIC),
  P('cli', 'docker login -u deploy --password $S registry.acme.io', 'cli-login-password'),
  P('cli', 'sshpass -p $S ssh deploy@10.1.1.4', 'cli-login-password'),
  P('sql', "CREATE ROLE labeler WITH LOGIN PASSWORD '$S';", 'sql-password'),
  P('ini', 'web1 ansible_host=10.0.0.4 ansible_password=$S ansible_user=deploy', GENERIC),
  // HTTP and CLI credentials
  P('curl', 'curl -u deploy:$S https://api.acme.io/v1/items', 'curl-basic-auth'),
  P('curl', "curl -sS --user 'ci-bot:$S' https://nexus.acme.io/repository/raw/", 'curl-basic-auth'),
  P('curl', 'curl -H "Authorization: Bearer $S" https://api.acme.io/v1/me', 'http-bearer-token', 'token'),
  P('http', 'Authorization: Basic $B', 'http-basic-auth-header'),
  P('curl', "curl -H 'Authorization: Basic $B' https://jenkins.acme.io/api/json", 'http-basic-auth-header'),
  P('js', "axios.get(url, { headers: { Authorization: 'Bearer $S' } });", 'http-bearer-token', 'token'),
  P('netrc', 'machine api.heroku.com login dev@acme.io password $S', 'netrc-password'),
  P('netrc', 'machine git.acme.io\n  login deploy\n  password $S', 'netrc-password'),
  P('git-credentials', 'https://deploy-bot:$S@github.com', 'basic-auth-url'),
  P('pypirc', '[pypi]\nusername = uploader\npassword = $S', GENERIC),
  P('docker', '{"auths":{"registry.acme.io":{"auth":"$B"}}}', 'docker-config-auth'),
  P('npmrc', '//npm.acme.io/:_password=$B', 'npmrc-auth-token'),
  // URIs with credentials
  P('uri', 'DATABASE_URL=postgresql://app:$S@db.internal.acme.io:5432/app', 'postgres-connection-uri'),
  P('uri', 'mysql://shop:$S@10.0.3.17:3306/shop', 'mysql-connection-uri'),
  P('uri', "url: 'mariadb://reporting:$S@mdb-1.corp.local/reports'", 'mysql-connection-uri'),
  P('uri', 'MONGO_URI=mongodb+srv://svc:$S@cluster0.ab1cd.mongodb.net/prod', 'mongodb-connection-uri'),
  P('uri', 'REDIS_URL=rediss://:$S@cache-7.corp.local:6380/0', 'redis-connection-uri'),
  P('uri', 'AMQP_URL=amqps://orders:$S@rabbit.internal:5671/prod', 'amqp-connection-uri'),
  P('uri', 'ftp://upload:$S@ftp.acme.io/incoming', 'basic-auth-url'),
  P('uri', 'sftp://deploy:$S@files.acme.io:22/www', 'basic-auth-url'),
  P('uri', 'LDAP_URL=ldaps://cn=svc:$S@ldap.corp.local:636', 'basic-auth-url'),
  P('uri', 'EMAIL_URL=smtps://mailer:$S@smtp.acme.io:465', 'basic-auth-url'),
  P('uri', 'jdbc:postgresql://db.internal:5432/app?user=app&password=$S', 'jdbc-password'),
  P('uri', 'url=jdbc:mysql://db.internal/shop?user=shop&password=$S&useSSL=true', 'jdbc-password'),
  P('uri', 'jdbc:sqlserver://sql01.corp.local:1433;databaseName=Orders;user=app;password=$S;', 'jdbc-password'),
];

function secretFor(rng: () => number, p: Positive): { secret: string; line: string } {
  const secret = p.kind === 'token' ? rand(rng, ALNUM, int(rng, 32, 48)) : password(rng);
  if (p.line.includes('$B')) {
    const b64 = Buffer.from(`svc-${chars(rng, 'abcdefghij', 4)}:${secret}`).toString('base64');
    return { secret: b64, line: p.line.split('$B').join(b64) };
  }
  return { secret, line: p.line.split('$S').join(secret) };
}

describe('generic positives', () => {
  it('has at least 60 realistic lines', () => expect(POSITIVES.length).toBeGreaterThanOrEqual(60));

  it.each(POSITIVES.map((p, i) => [`${p.format}: ${p.line.replace(/\n/g, '⏎')}`, i] as const))('%s', (_label, i) => {
    const p = POSITIVES[i]!;
    const rng = createRng(`generic-positive:${i}`);
    for (let n = 0; n < 5; n++) {
      const { secret, line } = secretFor(rng, p);
      const text = `# settings\n${line}\n`;
      const findings = scanText(text, { ruleset, file: 'config' });
      const hit = findings.find((f) => f.fingerprint === fingerprintSecret(secret));
      expect(hit, `missed: ${p.line}`).toBeDefined();
      if (p.rule) expect(hit!.ruleId).toBe(p.rule);
      const start = text.indexOf(secret);
      const head = text.slice(0, start);
      expect(hit!.startLine).toBe(head.split('\n').length);
      expect(hit!.startColumn).toBe(start - head.lastIndexOf('\n'));
      expect(hit!.endLine).toBe(hit!.startLine);
      expect(hit!.endColumn - hit!.startColumn).toBe(secret.length);
    }
  });
});

/** Hard negatives; `$R` is a random value where the negative needs one (a hash, an id). */
function negatives(): string[] {
  const rng = createRng('generic-negatives');
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const bcrypt = `$2b$12$${chars(rng, ALNUM + './', 53)}`;
  const sri = `sha512-${chars(rng, B64, 86)}==`;
  const sha = chars(rng, HEX, 64);
  const id = uuid(rng);
  const pub = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA${chars(rng, B64, 43)} ops@bastion`;
  return [
    'password: ${DB_PASSWORD}',
    'password = os.getenv("DB_PASSWORD")',
    "password = os.environ['DB_PASSWORD']",
    '  apiKey: process.env.API_KEY,',
    "token = ENV['GITHUB_TOKEN']",
    'password: "{{ .Values.db.password }}"',
    'api_key = "<your-api-key>"',
    'password = "changeme"',
    'API_KEY=xxxxxxxxxxxxxxxxxxxx',
    'secret: example-secret-value-123',
    'password: password',
    'secret = "secret"',
    'token: null',
    'auth: true',
    'password = $(cat /run/secrets/db)',
    'password: ""',
    'password_field = "password"',
    'token_type = "bearer"',
    '  "password": "Password",',
    '  "password_placeholder": "Enter your password",',
    'assertEquals("Invalid password", error.getMessage());',
    'expect(res.body.token).toBe(token);',
    `password_hash = "${bcrypt}"`,
    `  "integrity": "${sri}",`,
    `  integrity ${sri}`,
    `commit_token_sha = "${sha}"`,
    `  "tokenId": "${id}",`,
    `session_token = "${id}"`,
    `public_key = "${pub}"`,
    'password = getPassword()',
    'password = user.password',
    'secret = self.secret',
    'password_file: /run/secrets/db_password',
    'token_url: https://oauth.acme.io/token',
    'DATABASE_URL=postgres://user:password@localhost/db',
    'DATABASE_URL=postgres://app:${DB_PASS}@db/app',
    'mongodb://:@localhost:27017',
    'jdbc:postgresql://db/app?user=app&password=${DB_PASSWORD}',
    'jdbc:mysql://db/app?user=app&password=changeme',
    'Authorization: Bearer ${TOKEN}',
    'Authorization: Bearer <token>',
    `Authorization: Bearer ${'$'}{{ secrets.GITHUB_TOKEN }}`,
    'curl -u user:password https://api.acme.io',
    'curl -u $USER:$PASS https://api.acme.io',
    'curl -u "${NEXUS_USER}:${NEXUS_PASS}" https://nexus.acme.io',
    `Authorization: Basic ${b64('user:password')}`,
    `Authorization: Basic ${b64('username:your_password')}`,
    `Authorization: Basic ${Buffer.from(chars(rng, ALNUM, 24)).toString('base64')}`,
    'machine example.com login user password secret',
    'machine api.acme.io login me password $NETRC_PASSWORD',
    'PGPASSWORD=$DB_PASS psql -h db -U app',
    'mysql -u root -p shop',
    'mysql -u root -p$MYSQL_ROOT_PASSWORD',
    'mysql -u root -p"${MYSQL_PASSWORD}" app',
    '<add key="ApiKey" value="" />',
    '<add key="ApiKey" value="{ApiKey}" />',
    '<string name="password">Password</string>',
    '<string name="api_key_hint">Enter your API key</string>',
    '<password>${env.NEXUS_PASSWORD}</password>',
    'password: !vault |',
    'DB_PASSWORD := $(shell cat .secret)',
    'ENV DB_PASSWORD=""',
    'Server=db;Database=app;User Id=app;Password=;',
    'Server=db;Database=app;User Id=app;Password={0};',
    'Server=db;Database=app;User Id=app;Password=$(DB_PASSWORD);',
    'secret_key_base: <%= ENV["SECRET_KEY_BASE"] %>',
    '- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: db',
    '- name: DB_PASSWORD\n  value: "${DB_PASSWORD}"',
    '  "require_password": false,',
    'password_min_length = 12',
    'tokens = tokenize(text)',
    'API_KEY=${API_KEY:-}',
    'password = "********"',
    'dataSource.setPassword(System.getenv("DB_PASSWORD"));',
    'dataSource.setPassword(password);',
    'props.put("mail.smtp.password", password);',
    'ENV API_TOKEN ""',
    '--password $PASSWORD',
    'docker login -u deploy --password-stdin registry.acme.io',
    'https://github.com/acme/app.git',
  ];
}

describe('generic negatives', () => {
  const samples = negatives();
  it('has at least 40 hard negatives', () => expect(samples.length).toBeGreaterThanOrEqual(40));
  it.each(samples.map((s, i) => [s.replace(/\n/g, '⏎').slice(0, 90), i] as const))('%s stays silent', (_label, i) => {
    const findings = scanText(`# settings\n${samples[i]!}\n`, { ruleset, file: 'config' });
    expect(findings.map((f) => f.ruleId)).toEqual([]);
  });
});

describe('hostile lines', () => {
  const generic = builtinDetectors.filter((d) => /generic|connection-string|jdbc|curl|http-|netrc|mysql-cli/.test(d.id));
  const own = createRuleset(generic);
  const cases: [string, string][] = [
    ['2 MB of password=', 'password='.repeat(Math.ceil((2 * 1024 * 1024) / 9))],
    ['password=" + 1 MB of letters', `password="${'a'.repeat(1024 * 1024)}`],
    ['1 MB of "password": "', '"password": "'.repeat(80_000)],
    ['1 MB of <add key="ApiKey" value="', '<add key="ApiKey" value="'.repeat(40_000)],
    ['1 MB of curl -u a:', 'curl -u a:'.repeat(100_000)],
    ['1 MB of Authorization: Bearer ', 'Authorization: Bearer '.repeat(48_000)],
    ['1 MB of machine login password ', 'machine a login b password '.repeat(40_000)],
    ['1 MB of Password=;', 'Password=a;'.repeat(95_000)],
    ['1 MB of - name: DB_PASSWORD', '- name: DB_PASSWORD\n'.repeat(50_000)],
    ['1 MB of mysql -u', 'mysql -u '.repeat(110_000)],
  ];
  // No timing is asserted: a hang fails on the test timeout, and the patterns' linear reach is
  // proven in linear-reach.test.ts. These show the rules finish and stay silent on junk.
  it.each(cases)('%s finishes with no finding', (_label, text) => {
    expect(scanText(text, { ruleset: own })).toEqual([]);
  }, 60_000);
});
