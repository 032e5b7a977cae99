import type { OAuthState } from '../oauth/oauth-state.js';
import { scopesAllow, type OAuthScope, type Permission } from '../oauth/scopes.js';
import type { Account } from '../state/model.js';
import type { Store } from '../state/store.js';

/** Who is calling: an API key (every permission) or an OAuth access token (its scopes). */
export type Credential =
  { kind: 'api_key'; account: Account } | { kind: 'oauth'; account: Account; scopes: OAuthScope[] };

/** The secret of an `Authorization` header: `Bearer <token>`, or Basic with the token as password (the CLI's way). */
function tokenFrom(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!scheme || !value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? undefined : decoded.slice(colon + 1) || undefined;
  }
  return undefined;
}

/** The credential of a request, or undefined when it is missing, unknown, expired or revoked. */
export function resolveCredential(
  header: string | undefined,
  deps: { store: Store; oauth: OAuthState },
): Credential | undefined {
  const token = tokenFrom(header);
  if (token === undefined) return undefined;
  const byKey = deps.store.findAccountByApiKey(token);
  if (byKey) return { kind: 'api_key', account: byKey };
  const access = deps.oauth.resolveAccessToken(token);
  const account = access && deps.store.getAccount(access.accountId);
  return access && account ? { kind: 'oauth', account, scopes: access.scopes } : undefined;
}

export function credentialAllows(credential: Credential, permission: Permission): boolean {
  switch (credential.kind) {
    case 'api_key':
      return true;
    case 'oauth':
      return scopesAllow(credential.scopes, permission);
    default: {
      const unexpected: never = credential;
      throw new Error(`unknown credential ${String(unexpected)}`);
    }
  }
}
