const MASK = '****';

/**
 * Schemes whose URL path names a database (Postgres, MySQL, MongoDB, a Redis db number, an AMQP vhost): its first
 * segment is kept. Under any other scheme (`https://hooks.slack.com/services/…`) the path is the secret and goes.
 */
const DATABASE_SCHEMES = new Set([
  'postgres:',
  'postgresql:',
  'postgis:',
  'mysql:',
  'mysql2:',
  'mariadb:',
  'mongodb:',
  'mongodb+srv:',
  'redis:',
  'rediss:',
  'valkey:',
  'valkeys:',
  'amqp:',
  'amqps:',
  'mssql:',
  'sqlserver:',
  'cockroachdb:',
  'clickhouse:',
]);

/** What a database name looks like; anything else in its place (a stray `@`, `:`, …) is masked. */
const DATABASE_NAME = /^[A-Za-z0-9_.$~%-]{1,128}$/;
/** What a query parameter's name looks like; a bare parameter (`?<token>`) or an odd name is masked whole. */
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * The redacted form of a credential-bearing value, safe to store in the audit log and show in the UI. An allow-list:
 * only the scheme, host, port and (for database schemes) the database name are kept; everything else present is
 * masked, part by part, so the shape still shows what is there:
 * `postgres://****:****@host:5432/db?sslmode=****`, `redis://****@host:6379`,
 * `https://hooks.slack.com/****`, `https://bucket.s3.amazonaws.com/****?X-Amz-Signature=****`.
 * Values that are not URLs with a host are masked whole. Redacting a redacted form changes nothing.
 */
export function redactValue(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return MASK;
  }
  if (url.host === '') return MASK;
  const userinfo =
    url.username === '' && url.password === ''
      ? ''
      : `${url.username === '' ? '' : MASK}${url.password === '' ? '' : `:${MASK}`}@`;
  return `${url.protocol}//${userinfo}${url.host}${redactPath(url)}${redactQuery(url.search)}${url.hash === '' ? '' : `#${MASK}`}`;
}

function redactPath(url: URL): string {
  const path = url.pathname;
  if (path === '' || path === '/') return path;
  if (!DATABASE_SCHEMES.has(url.protocol)) return `/${MASK}`;
  const [, database = '', ...rest] = path.split('/');
  const kept = DATABASE_NAME.test(database) ? database : MASK;
  return rest.some((segment) => segment !== '') ? `/${kept}/${MASK}` : `/${kept}${rest.length > 0 ? '/' : ''}`;
}

function redactQuery(search: string): string {
  const params = search
    .slice(1)
    .split('&')
    .filter((param) => param !== '')
    .map((param) => {
      const equals = param.indexOf('=');
      const name = equals < 0 ? '' : param.slice(0, equals);
      return PARAM_NAME.test(name) ? `${name}=${MASK}` : MASK;
    });
  return params.length === 0 ? '' : `?${params.join('&')}`;
}

/** `<userinfo>@` inside any URL-looking text, including unusual schemes and userinfo without a password. */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/]*@/gi;
/** `Bearer <token>` and `Basic <creds>` as they appear in headers and error texts. */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g;
/** `password=...` and friends in query strings or key=value texts (signed URLs' signatures and credentials too). */
const SECRET_ASSIGNMENT =
  /\b(password|sslpassword|pass|pwd|secret|client_secret|token|api_key|apikey|access_token|refresh_token|code|key|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token)=([^\s&;,]+)/gi;

/**
 * Removes credentials from free text (log messages, error messages, stack traces). Each pattern runs only when the
 * text holds the literal it cannot match without, so the common case (no credential) costs a few substring scans.
 */
export function scrubSecrets(text: string): string {
  let out = text;
  if (out.includes('://')) out = out.replace(USERINFO, `$1${MASK}@`);
  if (out.includes('Bearer') || out.includes('Basic')) out = out.replace(AUTH_SCHEME, `$1 ${MASK}`);
  if (out.includes('=')) out = out.replace(SECRET_ASSIGNMENT, `$1=${MASK}`);
  return out;
}
