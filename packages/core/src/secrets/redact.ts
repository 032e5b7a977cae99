const MASK = '****';

/** Query parameters that carry credentials in connection URLs. */
const SECRET_PARAMS = /^(password|pass|pwd|secret|token|sslpassword|access_token|api_key|apikey|key)$/i;

/**
 * The redacted form of a credential-bearing value, safe to store in the audit log and show in the UI:
 * `postgres://user:****@host:5432/db`. Values that are not URLs are masked whole.
 */
export function redactValue(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return MASK;
  }
  if (url.host === '' && url.password === '' && url.username === '') return MASK;
  if (url.password !== '') url.password = MASK;
  // `https://<token>@host`: with no password, a username on an http(s) URL is the credential.
  else if (url.username !== '' && /^https?:$/.test(url.protocol)) url.username = MASK;
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAMS.test(key)) url.searchParams.set(key, MASK);
  }
  // URL encodes the mask's asterisks as-is; keep the readable form.
  return url.href.replaceAll('%2A', '*');
}

/** `user:secret@` inside any URL-looking text, including ones with unusual schemes. */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)@/gi;
/** `Bearer <token>` and `Basic <creds>` as they appear in headers and error texts. */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g;
/** `password=...` and friends in query strings or key=value texts. */
const SECRET_ASSIGNMENT =
  /\b(password|sslpassword|secret|token|api_key|apikey|access_token|refresh_token)=([^\s&;,]+)/gi;

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
