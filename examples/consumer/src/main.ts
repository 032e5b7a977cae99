// A program that keeps working through Heroku credential rotations: it holds a postgres.js pool on the app's
// database, receives heroku-db-sync's signed webhook, fetches the new URL with a project read token (or reads
// `value` when the destination sends it), and swaps its pool without failing queries in flight.
//
//   CONSUMER_PORT=4000 WEBHOOK_SECRET=whsec_… HDS_API_URL=http://localhost:3001 HDS_PROJECT_ID=… \
//   HDS_READ_TOKEN=hds_pt_… node --import tsx examples/consumer/src/main.ts
//
// Point a webhook destination at http://<host>:4000/webhook. `QUERY_RATE` (per second) runs a query loop and
// `GET /stats` reports it (the end-to-end test and `npm run bench:freshness` read it).
import { createServer } from 'node:http';
import { ignoreDestroyedOldConnections, SwappablePool } from './pool.js';
import { createReceiver, fetchValue } from './receiver.js';

const env = process.env;
const required = (name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const config = {
  port: Number(env.CONSUMER_PORT ?? 4000),
  secret: required('WEBHOOK_SECRET'),
  apiUrl: required('HDS_API_URL'),
  projectId: required('HDS_PROJECT_ID'),
  token: required('HDS_READ_TOKEN'),
  varName: env.VAR_NAME ?? 'HASURA_GRAPHQL_DATABASE_URL',
  queryRate: Number(env.QUERY_RATE ?? 0),
};
const log = (msg: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);

const readValue = () =>
  fetchValue({ apiUrl: config.apiUrl, projectId: config.projectId, token: config.token, name: config.varName });
ignoreDestroyedOldConnections(() => log('an old pool connection was destroyed on its way out'));
const initial = await readValue();
if (!initial) throw new Error(`${config.varName} is not set in project ${config.projectId}`);
const pool = new SwappablePool(initial);
const verify = createReceiver(config.secret);
let appliedVersion = -1;
let applying: Promise<void> = Promise.resolve();

const stats = {
  queries: 0,
  ok: 0,
  failed: 0,
  retriedOk: 0,
  errors: [] as string[],
  /** Each pool swap, and its first successful query. */
  pools: [] as Array<{ generation: number; swappedAt: number; firstSuccessAt: number | null }>,
};

async function apply(url: string, releaseVersion: number | null): Promise<void> {
  if (releaseVersion !== null && releaseVersion <= appliedVersion) return;
  if (await pool.swap(url)) {
    stats.pools.push({ generation: pool.generation, swappedAt: Date.now(), firstSuccessAt: null });
    log('pool swapped', { releaseVersion, generation: pool.generation });
  }
  if (releaseVersion !== null) appliedVersion = releaseVersion;
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  if (req.method !== 'POST' || req.url !== '/webhook') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let event;
    try {
      event = verify(Buffer.concat(chunks).toString('utf8'), req.headers);
    } catch {
      res.writeHead(400).end();
      return;
    }
    // Acknowledged once verified: applying waits for nothing the sender holds (the next delivery of this var is
    // only sent after this answer). Deliveries are applied one after the other, in the order they came.
    res.writeHead(204).end();
    if (!event || event.data.name !== config.varName || event.data.projectId !== config.projectId) return;
    const { value, releaseVersion } = event.data;
    applying = applying
      .then(async () => {
        const url = value ?? (await readValue());
        if (url) await apply(url, releaseVersion);
      })
      .catch(async (err: unknown) => {
        // A value already rotated away (a newer delivery follows) or a network error: read the current one.
        log('could not apply a delivery; reading the current value', { error: (err as Error).message });
        const url = await readValue().catch(() => undefined);
        if (url) await apply(url, null).catch(() => undefined);
      });
  });
});
server.listen(config.port, '127.0.0.1', () => log('consumer listening', { port: config.port }));

if (config.queryRate > 0) {
  setInterval(() => {
    stats.queries += 1;
    pool
      .query((sql) => sql`select count(*)::int as n from pg_class`)
      .then(({ retried, generation }) => {
        stats.ok += 1;
        if (retried) stats.retriedOk += 1;
        const entry = stats.pools.find((p) => p.generation === generation);
        if (entry && entry.firstSuccessAt === null) entry.firstSuccessAt = Date.now();
      })
      .catch((err: { code?: string; message?: string }) => {
        stats.failed += 1;
        if (stats.errors.length < 20) stats.errors.push(`${err.code ?? ''} ${err.message ?? ''}`);
      });
  }, 1000 / config.queryRate);
}

const stop = () => {
  server.close();
  void pool.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
