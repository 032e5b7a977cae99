import type { DeliveryHooks } from '@hds/destinations';
import type { SyncHooks } from '@hds/sync';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The worker's Prometheus metrics, and the domain hooks that feed them. */
export function createWorkerMetrics(registry: Registry) {
  const jobs = new Counter({
    name: 'hds_worker_jobs_total',
    help: 'Jobs finished, by job name and outcome',
    labelNames: ['job', 'outcome'] as const,
    registers: [registry],
  });
  const webhookToCommit = new Histogram({
    name: 'hds_webhook_to_commit_seconds',
    help: 'From the ingress accepting a webhook to its release committed in Postgres',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const releasesApplied = new Counter({
    name: 'hds_releases_applied_total',
    help: 'Releases committed to a project, and how many env vars changed',
    labelNames: ['changed'] as const,
    registers: [registry],
  });
  const herokuCalls = new Counter({
    name: 'hds_heroku_calls_total',
    help: 'Heroku Platform API calls by route and status (0: no answer)',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const herokuLatency = new Histogram({
    name: 'hds_heroku_call_duration_seconds',
    help: 'Heroku Platform API call duration',
    labelNames: ['route'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const rateLimitRemaining = new Gauge({
    name: 'hds_heroku_rate_limit_remaining',
    help: 'RateLimit-Remaining last seen per Heroku account',
    labelNames: ['account'] as const,
    registers: [registry],
  });

  const deliveryAttempts = new Counter({
    name: 'hds_delivery_attempts_total',
    help: 'Delivery attempts to destinations, by destination kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const commitToDelivered = new Histogram({
    name: 'hds_commit_to_delivered_seconds',
    help: 'From an env var change committed to its destination acknowledging it (test deliveries excluded)',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [registry],
  });
  const deliveryHooks: DeliveryHooks = {
    attempt(info) {
      deliveryAttempts.inc({ kind: info.kind, outcome: info.outcome });
    },
    delivered(info) {
      if (!info.test) commitToDelivered.observe(info.commitToDeliveredMs / 1000);
    },
  };
  const sweepDuration = new Histogram({
    name: 'hds_reconcile_sweep_duration_seconds',
    help: 'How long a sweep of an account took (app list pages and the follow-up checks)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const sweepApps = new Histogram({
    name: 'hds_reconcile_sweep_apps',
    help: 'Apps in the account’s list, per sweep',
    buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10_000, 25_000],
    registers: [registry],
  });
  const sweepBehind = new Counter({
    name: 'hds_reconcile_links_behind_total',
    help: 'Links a sweep found released past what they had seen, without a delivery to show for it',
    registers: [registry],
  });
  const sweepCalls = new Histogram({
    name: 'hds_reconcile_sweep_calls',
    help: 'Heroku calls per sweep',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [registry],
  });

  const hooks: SyncHooks = {
    sweepFinished(info) {
      sweepDuration.observe(info.durationMs / 1000);
      sweepApps.observe(info.appsSeen);
      sweepBehind.inc(info.linksBehind);
      sweepCalls.observe(info.calls);
    },
    herokuCall(info) {
      herokuCalls.inc({ method: info.method, route: info.route, status: String(info.status) });
      herokuLatency.observe({ route: info.route }, info.durationMs / 1000);
      if (info.rateLimitRemaining !== undefined && Number.isFinite(info.rateLimitRemaining)) {
        rateLimitRemaining.set({ account: info.accountId }, info.rateLimitRemaining);
      }
    },
    releaseApplied(info) {
      releasesApplied.inc({ changed: info.changedVars > 0 ? 'yes' : 'no' });
      if (info.receivedAt !== undefined) webhookToCommit.observe(Math.max(0, Date.now() - info.receivedAt) / 1000);
    },
  };
  return { jobs, hooks, deliveryHooks };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
