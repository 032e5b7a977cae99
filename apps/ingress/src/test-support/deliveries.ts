import { randomUUID } from 'node:crypto';
import { deriveWebhookSecret, SIGNATURE_HEADER, signWebhookBody } from '@hds/heroku';
import { sharedWebhookBody } from '@hds/testkit';

/** A real Heroku body from ../shared/heroku/events, optionally re-identified as a new event. */
export function herokuBody(
  name: string,
  changes: { eventId?: string; version?: number; action?: string; status?: string } = {},
): Buffer {
  const raw = sharedWebhookBody(name);
  if (Object.values(changes).every((v) => v === undefined)) return raw;
  const body = JSON.parse(raw.toString('utf8')) as {
    id: string;
    action: string;
    data: { version?: number; status?: string };
    webhook_metadata?: { event?: { id: string } };
  };
  if (changes.eventId !== undefined) {
    body.id = changes.eventId;
    if (body.webhook_metadata?.event) body.webhook_metadata.event.id = changes.eventId;
  }
  if (changes.version !== undefined) body.data.version = changes.version;
  if (changes.action !== undefined) body.action = changes.action;
  if (changes.status !== undefined) body.data.status = changes.status;
  return Buffer.from(JSON.stringify(body));
}

/** The app a Heroku body is about (`data.app.id`): part of a release job's id. */
export function bodyAppId(body: Buffer): string {
  return (JSON.parse(body.toString('utf8')) as { data: { app: { id: string } } }).data.app.id;
}

let nextVersion = 7;
/**
 * A new event: the 2025 `update` body with a fresh event id and, unless given, a release version no other fresh
 * body had (deliveries of one release version and status are one job).
 */
export function freshReleaseBody(version = nextVersion++): {
  body: Buffer;
  eventId: string;
  appId: string;
  version: number;
  status: 'succeeded';
} {
  const eventId = randomUUID();
  const body = herokuBody('api-release-update-2025.json', { eventId, version });
  return { body, eventId, appId: bodyAppId(body), version, status: 'succeeded' };
}

/** The signature Heroku would send for `body` on `linkId`'s webhook, whose secret derives from `signingKey`. */
export function signFor(options: { body: Buffer; linkId: string; signingKey: string }): string {
  return signWebhookBody(deriveWebhookSecret(options.signingKey, options.linkId), options.body);
}

export interface WebhookAnswer {
  status: number;
  headers: Headers;
  json: unknown;
  ms: number;
}

/** POSTs a delivery the way Heroku does; `signature: null` leaves the header out. */
export async function postWebhook(options: {
  baseUrl: string;
  linkId: string;
  body: Buffer | ReadableStream<Uint8Array>;
  signature: string | null;
}): Promise<WebhookAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.signature !== null) headers[SIGNATURE_HEADER] = options.signature;
  const started = performance.now();
  const response = await fetch(`${options.baseUrl}/webhooks/heroku/${options.linkId}`, {
    method: 'POST',
    headers,
    body: options.body,
    ...(options.body instanceof ReadableStream ? { duplex: 'half' } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: text === '' ? undefined : (JSON.parse(text) as unknown),
    ms: performance.now() - started,
  };
}
