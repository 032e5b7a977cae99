/**
 * HTTP clients for the contract (design.md): the admin API and heroku-sim's `/_sim/` controls. They know
 * nothing of the apps' code: the types below are the documented shapes, as a user of the service sees them.
 */

export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A call answered with a status the caller did not expect. */
export class UnexpectedAnswer extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly answer: HttpAnswer,
  ) {
    super(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
}

class JsonHttp {
  constructor(
    private readonly baseUrl: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** Any status; the body parsed as JSON when it is JSON. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<HttpAnswer<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...this.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    const isJson = (res.headers.get('content-type') ?? '').includes('json') && text !== '';
    const json: unknown = isJson ? JSON.parse(text) : text;
    return { status: res.status, headers: res.headers, body: json as T };
  }

  /** The body of an answer with status `expect`; anything else throws `UnexpectedAnswer`. */
  async expect<T>(method: string, path: string, options: { status: number; body?: unknown }): Promise<T> {
    const answer = await this.request<T>(method, path, options.body);
    if (answer.status !== options.status) throw new UnexpectedAnswer(method, path, answer);
    return answer.body;
  }
}

export interface AdminProject {
  id: string;
  name: string;
  sync: AdminSyncStatus;
}

export interface AdminSyncStatus {
  enabled: boolean;
  linkId: string | null;
  app: { id: string; name: string } | null;
  mappings: Record<string, unknown>;
  state: string;
  lastReleaseVersion: number | null;
  lastSyncedAt: string | null;
  lastError: string | null;
  webhookId?: string | null;
}

export interface AdminEnvVar {
  name: string;
  value: string;
  source: string;
  updatedAt: string;
  fingerprint?: string | null;
}

export interface AdminAuditEntry {
  at: string;
  action: string;
  varName: string | null;
  before: string | null;
  after: string | null;
  releaseVersion: number | null;
  eventId: string | null;
  actor: string;
  detail?: Record<string, unknown> | null;
}

/** The admin API (`/api`, bearer token). */
export class AdminClient {
  readonly http: JsonHttp;

  constructor(options: { url: string; token: string }) {
    this.http = new JsonHttp(options.url, { authorization: `Bearer ${options.token}`, accept: 'application/json' });
  }

  addAccount(apiKey: string): Promise<{ id: string; email: string }> {
    return this.http.expect('POST', '/api/heroku/accounts', { status: 201, body: { apiKey } });
  }

  async listAccounts(): Promise<Array<{ id: string; email: string }>> {
    return (
      await this.http.expect<{ accounts: Array<{ id: string; email: string }> }>('GET', '/api/heroku/accounts', {
        status: 200,
      })
    ).accounts;
  }

  async listApps(accountId: string): Promise<Array<{ id: string; name: string }>> {
    const path = `/api/heroku/accounts/${accountId}/apps`;
    return (await this.http.expect<{ apps: Array<{ id: string; name: string }> }>('GET', path, { status: 200 })).apps;
  }

  createProject(body: {
    name: string;
    env?: Record<string, string>;
    heroku?: { accountId: string; app: string; mappings?: Record<string, unknown> };
  }): Promise<AdminProject> {
    return this.http.expect('POST', '/api/projects', { status: 201, body });
  }

  getProject(id: string): Promise<AdminProject> {
    return this.http.expect('GET', `/api/projects/${id}`, { status: 200 });
  }

  enableSync(
    projectId: string,
    body: { accountId: string; app: string; mappings?: Record<string, unknown> },
  ): Promise<AdminSyncStatus> {
    return this.http.expect('PUT', `/api/projects/${projectId}/heroku-sync`, { status: 200, body });
  }

  syncStatus(projectId: string): Promise<AdminSyncStatus> {
    return this.http.expect('GET', `/api/projects/${projectId}/heroku-sync`, { status: 200 });
  }

  async disableSync(projectId: string): Promise<void> {
    await this.http.expect('DELETE', `/api/projects/${projectId}/heroku-sync`, { status: 204 });
  }

  reconcile(projectId: string): Promise<{ queued: boolean }> {
    return this.http.expect('POST', `/api/projects/${projectId}/heroku-sync/reconcile`, { status: 202 });
  }

  async env(projectId: string, options: { reveal?: boolean } = {}): Promise<AdminEnvVar[]> {
    const path = `/api/projects/${projectId}/env${options.reveal ? '?reveal=true' : ''}`;
    return (await this.http.expect<{ vars: AdminEnvVar[] }>('GET', path, { status: 200 })).vars;
  }

  /** One env var in clear (`?reveal=true`), or undefined. */
  async envValue(projectId: string, name = 'HASURA_GRAPHQL_DATABASE_URL'): Promise<string | undefined> {
    return (await this.env(projectId, { reveal: true })).find((v) => v.name === name)?.value;
  }

  /** Newest first. Every reveal (`envValue`) adds an `env_revealed` row, so the default reaches back far. */
  async audit(projectId: string, limit = 500): Promise<AdminAuditEntry[]> {
    const path = `/api/projects/${projectId}/audit?limit=${limit}`;
    return (await this.http.expect<{ entries: AdminAuditEntry[] }>('GET', path, { status: 200 })).entries;
  }
}

export interface SimAccount {
  id: string;
  email: string;
  apiKey: string;
}

export interface SimApp {
  id: string;
  name: string;
  databaseUrl: string;
}

/** What `POST /_sim/apps/:app/seed` answers: each seeded table and its rows (see heroku-sim's seed schema). */
export interface SimSeedResult {
  tables: Array<{ name: string; rows: number }>;
}

export interface SimWebhook {
  id: string;
  url: string;
  level: string;
  include: string[];
}

export interface SimDelivery {
  id: string;
  webhookId: string;
  app: { id: string; name: string };
  eventId: string;
  action: string;
  releaseVersion: number | null;
  url: string;
  /** `pending`, `held`, `scheduled`, `retrying`, `succeeded`, `failed` or `dropped`. */
  status: string;
  attempts: Array<{ status: number | null; error: string | null }>;
}

export interface SimRequest {
  method: string;
  path: string;
  accountId: string | null;
  status: number;
}

/** heroku-sim's test controls (`/_sim/`, no authentication). */
export class SimClient {
  readonly http: JsonHttp;

  constructor(options: { url: string }) {
    this.http = new JsonHttp(options.url);
  }

  createAccount(body: { email: string; apiKey?: string }): Promise<SimAccount> {
    return this.http.expect('POST', '/_sim/accounts', { status: 201, body });
  }

  accounts(): Promise<SimAccount[]> {
    return this.http.expect('GET', '/_sim/accounts', { status: 200 });
  }

  createApp(body: {
    name: string;
    accountId: string;
    extraDatabases?: number | string[];
    configVars?: Record<string, string>;
  }): Promise<SimApp> {
    return this.http.expect('POST', '/_sim/apps', { status: 201, body });
  }

  apps(): Promise<Array<{ id: string; name: string; accountId: string }>> {
    return this.http.expect('GET', '/_sim/apps', { status: 200 });
  }

  async deleteApp(app: string): Promise<void> {
    const answer = await this.http.request('DELETE', `/_sim/apps/${app}`);
    if (answer.status !== 204) throw new UnexpectedAnswer('DELETE', `/_sim/apps/${app}`, answer);
  }

  /**
   * A new password in `DATABASE_URL` (or `database`'s URL), a release, webhooks. With real databases the role's
   * password changes and its open sessions end before the answer.
   */
  rotateCredentials(app: string, body: { database?: string } = {}): Promise<{ version: number; databaseUrl: string }> {
    return this.http.expect('POST', `/_sim/apps/${app}/rotate-credentials`, { status: 200, body });
  }

  /** Fills the app's real database with heroku-sim's seed schema and about `rows` rows (real databases only). */
  seed(app: string, body: { rows: number; database?: string }): Promise<SimSeedResult> {
    return this.http.expect('POST', `/_sim/apps/${app}/seed`, { status: 200, body });
  }

  configVars(app: string): Promise<Record<string, string>> {
    return this.http.expect('GET', `/_sim/apps/${app}/config-vars`, { status: 200 });
  }

  webhooks(app: string): Promise<SimWebhook[]> {
    return this.http.expect('GET', `/_sim/apps/${app}/webhooks`, { status: 200 });
  }

  async deleteWebhook(app: string, webhookId: string): Promise<void> {
    const answer = await this.http.request('DELETE', `/_sim/apps/${app}/webhooks/${webhookId}`);
    if (answer.status >= 300) throw new UnexpectedAnswer('DELETE', `/_sim/apps/${app}/webhooks/${webhookId}`, answer);
  }

  async setFaults(faults: Record<string, unknown>): Promise<void> {
    const answer = await this.http.request('POST', '/_sim/faults', faults);
    if (answer.status >= 300) throw new UnexpectedAnswer('POST', '/_sim/faults', answer);
  }

  async clearFaults(): Promise<void> {
    const answer = await this.http.request('DELETE', '/_sim/faults');
    if (answer.status >= 300) throw new UnexpectedAnswer('DELETE', '/_sim/faults', answer);
  }

  deliveries(query: { app?: string; webhookId?: string; status?: string } = {}): Promise<SimDelivery[]> {
    return this.http.expect('GET', `/_sim/deliveries${queryString(query)}`, { status: 200 });
  }

  /** Waits (server side) until no delivery is pending; false when `timeoutMs` passed first. */
  async settled(timeoutMs = 10_000): Promise<boolean> {
    const answer = await this.http.request<{ settled: boolean }>(
      'GET',
      `/_sim/deliveries/settled?timeoutMs=${timeoutMs}`,
    );
    if (answer.status !== 200 && answer.status !== 408) {
      throw new UnexpectedAnswer('GET', '/_sim/deliveries/settled', answer);
    }
    return answer.body.settled;
  }

  requests(query: { method?: string; path?: string; accountId?: string; status?: string } = {}): Promise<SimRequest[]> {
    return this.http.expect('GET', `/_sim/requests${queryString(query)}`, { status: 200 });
  }
}

function queryString(query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
