import { Counter, Histogram, type Registry } from 'prom-client';

/** How a webhook request ended; one counter series each. */
export const webhookOutcomes = [
  'accepted',
  'ignored',
  'bad_request',
  'unauthorized',
  'too_large',
  'queue_unavailable',
  'error',
] as const;
export type WebhookOutcome = (typeof webhookOutcomes)[number];

export const enqueueResults = ['ok', 'failed', 'timeout'] as const;
export type EnqueueResult = (typeof enqueueResults)[number];

export interface IngressMetrics {
  countRequest(outcome: WebhookOutcome): void;
  observeEnqueue(result: EnqueueResult, seconds: number): void;
}

/**
 * The ingress's own metrics on `registry` (process metrics come with `createMetricsRegistry`). Every label value
 * is created up front, so each series exists from the start and the hot path does no label lookups.
 */
export function createIngressMetrics(registry: Registry): IngressMetrics {
  const requests = new Counter({
    name: 'hds_ingress_webhook_requests_total',
    help: 'Webhook requests by outcome (accepted includes redeliveries of a queued event).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const enqueue = new Histogram({
    name: 'hds_ingress_enqueue_duration_seconds',
    help: 'Time to store a release event in the queue, by result.',
    labelNames: ['result'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5],
    registers: [registry],
  });
  const requestSeries = new Map(webhookOutcomes.map((outcome) => [outcome, requests.labels(outcome)]));
  const enqueueSeries = new Map(enqueueResults.map((result) => [result, enqueue.labels(result)]));
  for (const series of requestSeries.values()) series.inc(0);
  return {
    countRequest: (outcome) => requestSeries.get(outcome)?.inc(),
    observeEnqueue: (result, seconds) => enqueueSeries.get(result)?.observe(seconds),
  };
}
