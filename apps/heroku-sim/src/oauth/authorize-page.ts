import type { Account } from '../state/model.js';

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export interface AuthorizeRequest {
  clientId: string;
  clientName: string;
  scope: string;
  state: string;
  redirectUri: string | undefined;
}

function hiddenFields(request: AuthorizeRequest): string {
  const fields: Array<[string, string]> = [
    ['client_id', request.clientId],
    ['response_type', 'code'],
    ['scope', request.scope],
    ['state', request.state],
  ];
  if (request.redirectUri !== undefined) fields.push(['redirect_uri', request.redirectUri]);
  return fields.map(([n, v]) => `<input type="hidden" name="${n}" value="${escapeHtml(v)}">`).join('\n      ');
}

/**
 * The page a person sees at `/oauth/authorize`: pick which sim account signs in (or create one by e-mail)
 * and allow, or deny. Each choice is a form posting back to `action`.
 */
export function renderAuthorizePage(options: {
  action: string;
  request: AuthorizeRequest;
  accounts: Account[];
}): string {
  const { request } = options;
  const action = escapeHtml(options.action);
  const hidden = hiddenFields(request);
  const accountButtons = options.accounts
    .map(
      (account) => `<li><form method="post" action="${action}">
      ${hidden}
      <input type="hidden" name="account_id" value="${escapeHtml(account.id)}">
      <button type="submit" name="decision" value="allow" data-account-email="${escapeHtml(account.email)}">Allow as ${escapeHtml(account.email)}</button>
    </form></li>`,
    )
    .join('\n    ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>heroku-sim: authorize ${escapeHtml(request.clientName)}</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; color: #333; }
    h1 { color: #79589f; font-size: 1.4rem; } ul { list-style: none; padding: 0; } li { margin: .5rem 0; }
    button { padding: .5rem 1rem; cursor: pointer; } .deny { background: #eee; } code { background: #f4f4f4; }
  </style>
</head>
<body>
  <h1>Authorize ${escapeHtml(request.clientName)}</h1>
  <p>This is heroku-sim, a stand-in for Heroku. <strong>${escapeHtml(request.clientName)}</strong> asks for the
  scope <code>${escapeHtml(request.scope)}</code>. Choose the account that signs in:</p>
  <ul>
    ${accountButtons || '<li>No accounts yet: create one below.</li>'}
  </ul>
  <form method="post" action="${action}">
    ${hidden}
    <label>New account e-mail <input type="email" name="email" required></label>
    <button type="submit" name="decision" value="allow">Create and allow</button>
  </form>
  <form method="post" action="${action}">
    ${hidden}
    <p><button type="submit" name="decision" value="deny" class="deny">Deny</button></p>
  </form>
</body>
</html>
`;
}

export function renderErrorPage(message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>heroku-sim: error</title></head>
<body><h1>OAuth error</h1><p>${escapeHtml(message)}</p></body></html>
`;
}
