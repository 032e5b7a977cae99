import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { parseRetryAfter } from '../delivery/retry-schedule.js';
import { OutboundRefusedError } from '../outbound/dispatcher.js';
import { checkOutboundUrl, type LookupAll } from '../outbound/check.js';
import type { OutboundPolicy } from '../outbound/policy.js';
import { DestinationConfigError, type DeliveryResult, type DestinationKind } from './kind.js';

const webhookConfig = z.object({ url: z.url(), includeValue: z.boolean() });
type WebhookConfig = z.infer<typeof webhookConfig>;

const webhookSecrets = z.object({
  secret: z.string().startsWith('whsec_'),
  /** The secret before the last rotation, still signed with until `previousUntil` (ISO time). */
  previousSecret: z.string().startsWith('whsec_').optional(),
  previousUntil: z.string().optional(),
});
export type WebhookSecrets = z.infer<typeof webhookSecrets>;

const createInput = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2048)
    .meta({ description: 'Where deliveries are POSTed (https unless allowed by the operator)' }),
  includeValue: z
    .boolean()
    .default(false)
    .meta({ description: 'Send the value itself in `data.value` (default: a thin body; fetch it with a read token)' }),
});

/** A new Standard Webhooks symmetric secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The signatures to send now: the current secret's, and the previous one's during a rotation's overlap. */
function signatures(secrets: WebhookSecrets, id: string, at: Date, body: string): string {
  const signers = [secrets.secret];
  if (secrets.previousSecret && secrets.previousUntil && Date.parse(secrets.previousUntil) > at.getTime()) {
    signers.push(secrets.previousSecret);
  }
  return signers.map((secret) => new Webhook(secret).sign(id, at, body)).join(' ');
}

/** The body sent for a delivery (Standard Webhooks shape; see the contract in design.md). */
export function webhookBody(input: {
  delivery: Parameters<DestinationKind['deliver']>[0]['delivery'];
  includeValue: boolean;
  destinationId?: string;
  at: Date;
}): string {
  const { delivery } = input;
  if (delivery.test) {
    return JSON.stringify({
      type: 'destination.test',
      timestamp: input.at.toISOString(),
      data: { projectId: delivery.projectId, deliveryId: delivery.id },
    });
  }
  return JSON.stringify({
    type: 'env_var.updated',
    timestamp: input.at.toISOString(),
    data: {
      projectId: delivery.projectId,
      name: delivery.varName,
      releaseVersion: delivery.releaseVersion,
      fingerprint: delivery.fingerprint,
      changedAt: delivery.changedAt.toISOString(),
      ...(input.includeValue ? { value: delivery.value } : {}),
    },
  });
}

/** Statuses that mean "slow down": honour `Retry-After`. */
const slowDown = new Set([429, 502, 503, 504]);

/**
 * The `webhook` kind: a signed POST (Standard Webhooks), success = a 2xx within `timeoutMs`; no redirects
 * (a 3xx fails); 410 disables the destination; other answers and network errors are retried.
 * Every connection goes through `dispatcher` (the outbound-address guard).
 */
export function createWebhookKind({
  dispatcher,
  policy,
  lookup,
  timeoutMs = 15_000,
  now = () => new Date(),
}: {
  dispatcher: Dispatcher;
  /** Checked at creation too (a refused URL is a 422 at once); the dispatcher checks again at every attempt. */
  policy?: OutboundPolicy;
  lookup?: LookupAll;
  timeoutMs?: number;
  now?: () => Date;
}): DestinationKind<WebhookConfig, WebhookSecrets, z.output<typeof createInput>> {
  return {
    name: 'webhook',
    createInput,
    config: webhookConfig,
    secrets: webhookSecrets,
    prepare: async ({ input }) => {
      if (policy) {
        const check = await checkOutboundUrl({ url: input.url, policy, ...(lookup ? { lookup } : {}) });
        // A name without an address yet is accepted (each attempt checks again); a refused target is not.
        if (!check.ok && !check.unresolved) throw new DestinationConfigError(`url refused: ${check.reason}`);
      }
      const secret = generateWebhookSecret();
      return {
        config: { url: input.url, includeValue: input.includeValue },
        secrets: { secret },
        shownOnce: { secret },
      };
    },
    async deliver({ config, secrets, delivery, signal }): Promise<DeliveryResult> {
      const at = now();
      const body = webhookBody({ delivery, includeValue: config.includeValue, at });
      const started = performance.now();
      const latency = () => Math.round(performance.now() - started);
      try {
        const response = await request(config.url, {
          method: 'POST',
          dispatcher,
          body,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'heroku-db-sync-webhooks/1',
            'webhook-id': delivery.id,
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': signatures(secrets, delivery.id, at, body),
          },
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        // The receiver's answer is not ours to keep; read a little so the connection can be reused.
        await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
        const statusCode = response.statusCode;
        const latencyMs = latency();
        if (statusCode >= 200 && statusCode < 300) return { outcome: 'delivered', statusCode, latencyMs };
        if (statusCode === 410)
          return { outcome: 'disable', statusCode, latencyMs, error: 'the receiver answered 410 Gone' };
        const header = response.headers['retry-after'];
        const retryAfterMs = slowDown.has(statusCode)
          ? parseRetryAfter(Array.isArray(header) ? header[0] : header, at.getTime())
          : undefined;
        const error =
          statusCode >= 300 && statusCode < 400
            ? `the receiver answered ${statusCode} (redirects are not followed)`
            : `the receiver answered ${statusCode}`;
        return {
          outcome: 'retry',
          statusCode,
          latencyMs,
          error,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        };
      } catch (err) {
        const latencyMs = latency();
        if (err instanceof OutboundRefusedError) return { outcome: 'retry', latencyMs, error: err.message };
        const name = (err as { name?: string }).name;
        const timedOut = name === 'TimeoutError' || name === 'HeadersTimeoutError' || name === 'BodyTimeoutError';
        const error = timedOut
          ? `no answer within ${timeoutMs} ms`
          : `request failed: ${(err as { code?: string }).code ?? (err as Error).message}`;
        return { outcome: 'retry', latencyMs, error };
      }
    },
  };
}
