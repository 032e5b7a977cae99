import { performance } from 'node:perf_hooks';
import { signWebhookBody } from '@hds/heroku';
import type { Logger } from '@hds/core';
import { Agent, request } from 'undici';
import type { FaultState, DeliveryFaults } from '../faults/faults.js';
import type { App, Webhook, WebhookEvent } from '../state/model.js';
import type { Clock } from '../support/clock.js';
import { newId } from '../support/ids.js';
import type { PendingWork } from '../support/pending-work.js';
import type { TimerSet } from '../support/timers.js';
import type { DeliveryRecord } from './delivery-record.js';
import { deliveryBody } from './release-events.js';

export interface DeliveryEngineOptions {
  /** Waits before the 2nd, 3rd, … attempt of a `sync` delivery; its length is the number of retries. */
  retryScheduleMs: readonly number[];
  /** How long one attempt may take before it counts as failed. */
  timeoutMs: number;
  faults: FaultState;
  timers: TimerSet;
  work: PendingWork;
  clock: Clock;
  logger: Logger;
  /** The webhook as it is now (its URL and secret may have changed; it may be gone). */
  findWebhook: (webhookId: string) => Webhook | undefined;
}

interface SendResult {
  startedAt: number;
  status: number | null;
  error: string | null;
  durationMs: number;
}

interface HeldDelivery {
  record: DeliveryRecord;
  event: WebhookEvent;
  faults: DeliveryFaults;
}

const isSuccess = (status: number | null) => status !== null && status >= 200 && status < 300;

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  if (err.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return 'timeout';
  }
  return typeof code === 'string' ? code : err.name;
}

/**
 * Delivers webhook events as Heroku does: signed POSTs, any 2xx is success, `sync` webhooks retried on the
 * schedule, `notify` tried once. Each webhook's deliveries are sent one after another in the order the events
 * happened, unless a fault delays or holds one. Every attempt is recorded.
 */
export class DeliveryEngine {
  private records: DeliveryRecord[] = [];
  private held: HeldDelivery[] = [];
  private chains = new Map<string, Promise<void>>();
  private seq = 0;
  /** Bumped by reset: work started before a reset no longer counts towards `settled`. */
  private generation = 0;
  private readonly agent = new Agent({ keepAliveTimeout: 1_000, connections: 32 });
  private readonly closing = new AbortController();

  constructor(private readonly options: DeliveryEngineOptions) {}

  /** Starts delivering `event` to `webhook`; returns at once (deliveries never hold up an API answer). */
  enqueue(input: { app: App; webhook: Webhook; event: WebhookEvent }): DeliveryRecord {
    const { app, webhook, event } = input;
    const now = this.options.clock();
    const data = event.payload.data;
    this.seq += 1;
    const record: DeliveryRecord = {
      id: newId(),
      seq: this.seq,
      webhookId: webhook.id,
      appId: app.id,
      appName: app.name,
      eventId: event.id,
      include: event.include,
      action: event.payload.action,
      releaseVersion: typeof data.version === 'number' ? data.version : undefined,
      releaseStatus: typeof data.status === 'string' ? data.status : undefined,
      level: webhook.level,
      url: webhook.url,
      status: 'pending',
      faults: [],
      attempts: [],
      createdAt: now,
      updatedAt: now,
      nextAttemptAt: null,
    };
    this.records.push(record);
    const faults = this.options.faults.delivery({ appKeys: [app.id, app.name] });
    if (faults.drop) {
      this.finish(record, 'dropped');
      record.faults.push('dropped');
      return record;
    }
    if (faults.duplicate) record.faults.push('duplicated');
    if (faults.holdBatch !== undefined) {
      record.status = 'held';
      record.faults.push('held');
      this.held.push({ record, event, faults });
      if (this.held.length >= faults.holdBatch) this.releaseHeld();
      return record;
    }
    this.start({ record, event, faults });
    return record;
  }

  /** Sends every held delivery, newest first. Returns how many were held. */
  releaseHeld(): number {
    const held = this.held.reverse();
    this.held = [];
    for (const delivery of held) this.start(delivery);
    return held.length;
  }

  list(): DeliveryRecord[] {
    return this.records;
  }

  get heldCount(): number {
    return this.held.length;
  }

  reset(): void {
    this.generation += 1;
    this.records = [];
    this.held = [];
    this.chains.clear();
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.held = [];
    await this.agent.destroy();
  }

  private start(delivery: HeldDelivery): void {
    const { record, event, faults } = delivery;
    const generation = this.generation;
    this.options.work.begin();
    if (faults.delayMs !== undefined) {
      record.faults.push('delayed');
      record.status = 'scheduled';
      record.nextAttemptAt = this.options.clock() + faults.delayMs;
      this.options.timers.set(() => void this.run(record, event, faults.duplicate, generation), faults.delayMs);
      return;
    }
    // One after another per webhook, in event order: a create is sent before its update.
    const previous = this.chains.get(record.webhookId) ?? Promise.resolve();
    const next = previous.then(() => this.run(record, event, faults.duplicate, generation));
    this.chains.set(record.webhookId, next);
  }

  private async run(
    record: DeliveryRecord,
    event: WebhookEvent,
    duplicate: boolean,
    generation: number,
  ): Promise<void> {
    // Ends this delivery's share of the pending work, unless a reset forgot it already.
    const done = () => {
      if (generation === this.generation) this.options.work.end();
    };
    try {
      const webhook = this.options.findWebhook(record.webhookId);
      if (!webhook) {
        record.nextAttemptAt = null;
        this.finish(record, 'failed');
        done();
        return;
      }
      const ok = await this.attempt(record, webhook, event, duplicate);
      if (this.closing.signal.aborted || generation !== this.generation) return;
      if (ok) {
        record.nextAttemptAt = null;
        this.finish(record, 'succeeded');
        done();
        return;
      }
      const retryIndex = record.attempts.filter((a) => !a.duplicate).length - 1;
      const wait = record.level === 'sync' ? this.options.retryScheduleMs[retryIndex] : undefined;
      if (wait === undefined) {
        record.nextAttemptAt = null;
        this.finish(record, 'failed');
        done();
        return;
      }
      record.status = 'retrying';
      record.nextAttemptAt = this.options.clock() + wait;
      record.updatedAt = this.options.clock();
      this.options.timers.set(() => void this.run(record, event, false, generation), wait);
    } catch (err) {
      this.options.logger.error({ err, deliveryId: record.id }, 'delivery failed unexpectedly');
      this.finish(record, 'failed');
      done();
    }
  }

  private async attempt(
    record: DeliveryRecord,
    webhook: Webhook,
    event: WebhookEvent,
    duplicate: boolean,
  ): Promise<boolean> {
    const attemptId = newId();
    const body = deliveryBody({ event, webhookId: webhook.id, deliveryId: record.id, attemptId });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'heroku-webhook-hmac-sha256': signWebhookBody(webhook.secret, body),
      'user-agent': 'heroku-sim-webhooks/1.0',
    };
    if (webhook.authorization !== null) headers.authorization = webhook.authorization;
    record.url = webhook.url;
    const first = await this.send(webhook.url, body, headers);
    record.attempts.push({ id: attemptId, ...first, duplicate: false });
    if (duplicate) {
      const second = await this.send(webhook.url, body, headers);
      record.attempts.push({ id: attemptId, ...second, duplicate: true });
    }
    record.updatedAt = this.options.clock();
    this.options.logger.debug(
      { deliveryId: record.id, webhookId: webhook.id, app: record.appName, status: first.status, error: first.error },
      'webhook delivery attempt',
    );
    return isSuccess(first.status);
  }

  private async send(url: string, body: string, headers: Record<string, string>): Promise<SendResult> {
    const startedAt = this.options.clock();
    const t0 = performance.now();
    const elapsed = () => Math.round((performance.now() - t0) * 10) / 10;
    try {
      const response = await request(url, {
        method: 'POST',
        body,
        headers,
        dispatcher: this.agent,
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.options.timeoutMs)]),
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      await response.body.dump();
      return { startedAt, status: response.statusCode, error: null, durationMs: elapsed() };
    } catch (err) {
      return { startedAt, status: null, error: describeError(err), durationMs: elapsed() };
    }
  }

  private finish(record: DeliveryRecord, status: 'succeeded' | 'failed' | 'dropped'): void {
    record.status = status;
    record.updatedAt = this.options.clock();
  }
}
