/** Heroku's OAuth scopes (https://devcenter.heroku.com/articles/oauth#scopes). */
export const oauthScopes = ['global', 'identity', 'read', 'write', 'read-protected', 'write-protected'] as const;
export type OAuthScope = (typeof oauthScopes)[number];

/** What an endpoint needs. API keys hold every permission; OAuth tokens what their scopes grant. */
export type Permission = 'identity' | 'read' | 'read-protected' | 'write' | 'write-protected';

/**
 * Which scopes grant a permission. `read` excludes config vars and releases (they hold config values);
 * the protected scopes include them; `write` scopes include reading.
 */
const grantedBy: Record<Permission, readonly OAuthScope[]> = {
  identity: ['global', 'identity'],
  read: ['global', 'read', 'write', 'read-protected', 'write-protected'],
  'read-protected': ['global', 'read-protected', 'write-protected'],
  write: ['global', 'write', 'write-protected'],
  'write-protected': ['global', 'write-protected'],
};

export function scopesAllow(scopes: readonly OAuthScope[], permission: Permission): boolean {
  return scopes.some((scope) => grantedBy[permission].includes(scope));
}

/** Parses `scope` as Heroku does: separated by spaces or commas, sorted, without repeats. Unknown ones fail. */
export function parseScopes(
  raw: string | undefined,
): { ok: true; scopes: OAuthScope[] } | { ok: false; unknown: string } {
  const parts = (raw ?? '')
    .split(/[, ]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) return { ok: true, scopes: ['global'] };
  for (const part of parts) {
    if (!(oauthScopes as readonly string[]).includes(part)) return { ok: false, unknown: part };
  }
  return { ok: true, scopes: [...new Set(parts as OAuthScope[])].sort() };
}
