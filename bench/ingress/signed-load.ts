import { createHmac, randomUUID } from 'node:crypto';
import { deriveWebhookSecret, SIGNATURE_HEADER } from '@hds/heroku';
import { sharedWebhookBody } from '@hds/testkit';

export interface SignedDelivery {
  path: string;
  body: string;
  headers: Record<string, string>;
}

/**
 * An endless supply of distinct, correctly signed `api:release` deliveries: the real 2025 update body, each with
 * a new event id and version, spread over `links` webhook links (each with its own derived secret).
 */
export function createSignedLoad(options: { signingKey: string; links: number }): () => SignedDelivery {
  const template = JSON.parse(sharedWebhookBody('api-release-update-2025.json').toString('utf8')) as {
    id: string;
    data: { version: number };
    webhook_metadata: { event: { id: string } };
  };
  template.id = '@@EVENT_ID@@';
  template.webhook_metadata.event.id = '@@EVENT_ID@@';
  template.data.version = 1_000_000_001; // placeholder digits, replaced below
  const parts = JSON.stringify(template).split(/@@EVENT_ID@@|1000000001/);
  if (parts.length !== 4) throw new Error('unexpected body template');
  const [head, middle1, middle2, tail] = parts as [string, string, string, string];

  const links = Array.from({ length: options.links }, () => {
    const linkId = randomUUID();
    return { path: `/webhooks/heroku/${linkId}`, secret: deriveWebhookSecret(options.signingKey, linkId) };
  });
  let sequence = 0;
  return () => {
    sequence += 1;
    const link = links[sequence % links.length]!;
    const eventId = randomUUID();
    // The body keeps the order of the template: id, data (version inside), ..., webhook_metadata.event.id.
    const body = `${head}${eventId}${middle1}${sequence}${middle2}${eventId}${tail}`;
    const signature = createHmac('sha256', link.secret).update(body).digest('base64');
    return {
      path: link.path,
      body,
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
    };
  };
}
