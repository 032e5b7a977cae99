import { randomUUID } from 'node:crypto';
import { deriveWebhookSecret, SIGNATURE_HEADER, signWebhookBody } from '@hds/heroku';
import { sharedWebhookBody, testWebhookSigningKeys } from '@hds/testkit';

export interface ProbeAnswer {
  status: number;
  retryAfter: string | null;
  code: string | undefined;
  ms: number;
}

/**
 * POSTs a real Heroku `api:release` body (../shared/heroku/events), re-identified as a new event, to the ingress for
 * a link no project has, signed as Heroku would sign it for that link. Accepted, it becomes a job the worker
 * records as `ignored` (unknown link): a probe of the ingress that changes no project.
 */
export async function probeIngress(ingressUrl: string): Promise<ProbeAnswer> {
  const linkId = randomUUID();
  const body = JSON.parse(sharedWebhookBody('api-release-update-2025.json').toString('utf8')) as {
    id: string;
    webhook_metadata?: { event?: { id: string } };
  };
  body.id = randomUUID();
  if (body.webhook_metadata?.event) body.webhook_metadata.event.id = body.id;
  const raw = Buffer.from(JSON.stringify(body));
  const signature = signWebhookBody(deriveWebhookSecret(testWebhookSigningKeys[0]!, linkId), raw);
  const started = performance.now();
  const res = await fetch(`${ingressUrl}/webhooks/heroku/${linkId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
    body: raw,
  });
  const json = (await res.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    code: json?.error?.code,
    ms: performance.now() - started,
  };
}
