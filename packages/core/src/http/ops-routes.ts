import { Router } from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** A named dependency check for `/readyz`; it rejects or returns false when the dependency does not answer. */
export type ReadinessCheck = () => Promise<boolean | void>;

export interface OpsRoutesOptions {
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
  /** How long a readiness check may take before it counts as failed. */
  checkTimeoutMs?: number;
}

/** A registry with the process metrics every app exports, labelled with the app's name. */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      check().then(
        (r) => r !== false,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `GET /healthz` (alive), `GET /readyz` (dependencies answer), `GET /metrics` (Prometheus). */
export function createOpsRoutes(options: OpsRoutesOptions): Router {
  const router = Router();
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const names = Object.keys(options.checks);
    const results = await Promise.all(names.map((name) => runCheck(options.checks[name]!, timeoutMs)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i] ? 'ok' : 'failing']));
    const ready = results.every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(options.registry.contentType).send(await options.registry.metrics());
  });
  return router;
}
