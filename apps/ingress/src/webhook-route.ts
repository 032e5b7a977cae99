import {
  parseWebhookBody,
  SIGNATURE_HEADER,
  signatureHeaderProblem,
  verifyLinkWebhook,
  type VerifyFailure,
} from '@hds/heroku';
import { releaseEventJobId, type JobProducer } from '@hds/queue';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { sendError } from './http-errors.js';
import type { IngressMetrics } from './metrics.js';
import { releaseJobData } from './release-job.js';
import { noteRequest } from './request-log.js';
import type { LinkSecretCache } from './secret-cache.js';
import { settleWithin, type TimedResult } from './settle-within.js';
import { TurnBatcher } from './turn-batcher.js';

export interface WebhookRouteOptions {
  producer: JobProducer;
  signingKeys: readonly string[];
  secrets: LinkSecretCache;
  metrics: IngressMetrics;
  bodyLimitBytes: number;
  queueIsUp: () => boolean;
  enqueueTimeoutMs: number;
  retryAfterSeconds: number;
  now: () => number;
}

type Params = { linkId: string };

/** The same check the job catalog applies to `linkId`, so every accepted link id is valid job data. */
const linkIdSchema = z.uuid();

const signatureMessages: Record<VerifyFailure, string> = {
  missing_signature: `the ${SIGNATURE_HEADER} header is missing`,
  malformed_signature: `the ${SIGNATURE_HEADER} header is not a base64 HMAC-SHA256`,
  bad_signature: 'the signature does not match the body',
};

/** Storing a job: done, refused at once because the connection is down, failed, or not confirmed in time. */
type EnqueueOutcome = TimedResult<unknown> | { ok: false; reason: 'down' };
type Unavailable = Exclude<EnqueueOutcome, { ok: true }>['reason'];

const unavailableMessages: Record<Unavailable, string> = {
  down: 'the queue is unavailable; retry later',
  failed: 'the queue refused the event; retry later',
  timeout: 'the queue did not confirm in time; retry later',
};

/**
 * `POST /webhooks/heroku/:linkId`: link id and signature header → raw body (bounded) → signature → JSON → Heroku
 * event → one job per event id. Answers 202 only once Redis has the job (or already had it), 503 with `Retry-After` when the queue
 * does not confirm within `enqueueTimeoutMs`.
 */
export function webhookRoute(options: WebhookRouteOptions): {
  path: string;
  handlers: [RequestHandler<Params>, RequestHandler<Params>, ErrorRequestHandler<Params>, RequestHandler<Params>];
} {
  const { metrics } = options;
  // Deliveries of one event-loop turn go to Redis together (see TurnBatcher): the largest saving on the hot path.
  const batcher = new TurnBatcher();

  const signatureOf = (req: Request<Params>) => {
    const header = req.headers[SIGNATURE_HEADER];
    return typeof header === 'string' ? header : undefined;
  };

  // Refused before the body is read: `Connection: close` makes Node drop the connection once the answer is out
  // instead of reading (up to 256 KiB of) a body nobody wants, and a slow sender cannot hold the socket.
  const checkHead: RequestHandler<Params> = (req, res, next) => {
    const linkId = req.params.linkId;
    if (!linkIdSchema.safeParse(linkId).success) {
      metrics.countRequest('bad_request');
      noteRequest(res, { outcome: 'bad_request', reason: 'invalid_link_id' });
      sendError(res, {
        status: 400,
        code: 'invalid_link_id',
        message: 'the link id in the URL is not a UUID',
        headers: { connection: 'close' },
      });
      return;
    }
    const problem = signatureHeaderProblem({ signature: signatureOf(req) });
    if (problem !== undefined) {
      refuseSignature(res, { linkId, reason: problem, headers: { connection: 'close' } });
      return;
    }
    next();
  };

  const refuseSignature = (
    res: Response,
    options: { linkId: string; reason: VerifyFailure; headers?: Record<string, string> },
  ) => {
    metrics.countRequest('unauthorized');
    noteRequest(res, { outcome: 'unauthorized', linkId: options.linkId, reason: options.reason });
    sendError(res, {
      status: 401,
      code: options.reason,
      message: signatureMessages[options.reason],
      ...(options.headers ? { headers: options.headers } : {}),
    });
  };

  // Heroku signs the exact bytes it sends, so the body is read raw (any content type) and never inflated.
  const readBody = express.raw({ type: () => true, limit: options.bodyLimitBytes, inflate: false });

  const bodyErrors: ErrorRequestHandler<Params> = (err: unknown, req, res, next) => {
    const type = (err as { type?: unknown } | null)?.type;
    const linkId = req.params.linkId;
    switch (type) {
      case 'entity.too.large':
        metrics.countRequest('too_large');
        noteRequest(res, { outcome: 'too_large', linkId, reason: 'payload_too_large' });
        sendError(res, {
          status: 413,
          code: 'payload_too_large',
          message: `the body is larger than ${options.bodyLimitBytes} bytes`,
        });
        return;
      case 'encoding.unsupported':
        metrics.countRequest('bad_request');
        noteRequest(res, { outcome: 'bad_request', linkId, reason: 'unsupported_content_encoding' });
        sendError(res, {
          status: 415,
          code: 'unsupported_content_encoding',
          message: 'the body must not be compressed',
        });
        return;
      case 'request.aborted':
      case 'request.size.invalid':
        metrics.countRequest('bad_request');
        noteRequest(res, { outcome: 'bad_request', linkId, reason: String(type) });
        sendError(res, { status: 400, code: 'bad_request', message: 'the body could not be read' });
        return;
      default:
        next(err);
    }
  };

  const handle: RequestHandler<Params> = async (req, res) => {
    const linkId = req.params.linkId;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);

    const verified = verifyLinkWebhook({
      body,
      signature: signatureOf(req),
      linkId,
      signingKeys: options.signingKeys,
      secretsFor: options.secrets.secretsFor,
    });
    if (!verified.ok) {
      refuseSignature(res, { linkId, reason: verified.reason });
      return;
    }

    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      metrics.countRequest('bad_request');
      noteRequest(res, { outcome: 'bad_request', linkId, reason: 'invalid_json' });
      sendError(res, { status: 400, code: 'invalid_json', message: 'the body is not valid JSON' });
      return;
    }

    const parsed = parseWebhookBody(json);
    switch (parsed.kind) {
      case 'invalid':
        metrics.countRequest('bad_request');
        noteRequest(res, { outcome: 'bad_request', linkId, reason: 'not_a_heroku_event' });
        sendError(res, {
          status: 400,
          code: 'not_a_heroku_event',
          message: `the body is not a Heroku webhook event (${parsed.reason})`,
        });
        return;
      case 'other':
        // Verified, but not something the service acts on: acknowledge so Heroku does not retry it.
        metrics.countRequest('ignored');
        noteRequest(res, {
          outcome: 'ignored',
          linkId,
          eventId: parsed.envelope.id,
          resource: parsed.envelope.resource,
        });
        res.status(202).json({ status: 'ignored' });
        return;
      case 'release':
        break;
      default: {
        const unexpected: never = parsed;
        throw new Error(`unexpected parse result ${JSON.stringify(unexpected)}`);
      }
    }

    const event = parsed.event;
    const data = releaseJobData({ event, linkId, receivedAt: options.now() });
    const started = performance.now();
    const enqueued: EnqueueOutcome = options.queueIsUp()
      ? await settleWithin(
          batcher.run(() => options.producer.add('release-event', data, { jobId: releaseEventJobId(data) })),
          options.enqueueTimeoutMs,
        )
      : { ok: false, reason: 'down' };
    const seconds = (performance.now() - started) / 1000;
    if (enqueued.ok) {
      metrics.observeEnqueue('ok', seconds);
      metrics.countRequest('accepted');
      noteRequest(res, { outcome: 'accepted', linkId, eventId: event.id, resource: 'release' });
      res.status(202).json({ status: 'accepted' });
      return;
    }
    if (enqueued.reason !== 'down') metrics.observeEnqueue(enqueued.reason, seconds);
    metrics.countRequest('queue_unavailable');
    noteRequest(res, {
      outcome: 'queue_unavailable',
      linkId,
      eventId: event.id,
      reason: `enqueue_${enqueued.reason}`,
      ...(enqueued.reason === 'failed' ? { err: enqueued.error } : {}),
    });
    sendError(res, {
      status: 503,
      code: 'queue_unavailable',
      message: unavailableMessages[enqueued.reason],
      headers: { 'Retry-After': String(options.retryAfterSeconds) },
    });
  };

  // Registered on the app itself rather than through a nested Router: one routing layer fewer per delivery.
  return { path: '/webhooks/heroku/:linkId', handlers: [checkHead, readBody, bodyErrors, handle] };
}
