import { startHerokuSim, type HerokuSim, type HerokuSimOptions } from '../sim.js';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- answers are inspected freely in tests
}

export interface SimHarness {
  sim: HerokuSim;
  url: string;
  /** Calls the sim like a Platform API client: JSON, Heroku's Accept header, `token` as Bearer. */
  api(
    path: string,
    init?: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiAnswer>;
  close(): Promise<void>;
}

/**
 * A sim listening on 127.0.0.1 (port 0), with a small helper to call it. With `postgres` or `stateUrl` its
 * databases are real or its state kept (`startHerokuSim`).
 */
export async function startSim(options: HerokuSimOptions = {}): Promise<SimHarness> {
  const sim = await startHerokuSim({ retryScheduleMs: [10, 20, 40], deliveryTimeoutMs: 2_000, ...options });
  const server = await sim.listen();
  return {
    sim,
    url: server.url,
    async api(path, init = {}) {
      const headers: Record<string, string> = { accept: 'application/vnd.heroku+json; version=3', ...init.headers };
      if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${server.url}${path}`, {
        method: init.method ?? 'GET',
        headers,
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // not JSON (an HTML page)
      }
      return { status: response.status, headers: response.headers, body };
    },
    close: () => sim.close(),
  };
}

/** The values of `key` in a list answer's items. */
export function pluck(body: unknown, key: string): unknown[] {
  if (!Array.isArray(body)) throw new Error(`expected a list, got ${JSON.stringify(body)?.slice(0, 200)}`);
  return body.map((item: unknown) => (item as Record<string, unknown>)[key]);
}
