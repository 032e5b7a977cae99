import { Webhook } from 'standardwebhooks';

export interface EnvVarUpdated {
  type: 'env_var.updated';
  timestamp: string;
  data: {
    projectId: string;
    name: string;
    releaseVersion: number | null;
    fingerprint: string;
    changedAt: string;
    value?: string;
  };
}

/**
 * Verifies a delivery (Standard Webhooks: signature over id, timestamp and the exact body; timestamp within
 * 5 minutes) and answers its event, or `null` for one to acknowledge and ignore (a test event, a redelivery).
 */
export function createReceiver(secret: string) {
  const webhook = new Webhook(secret);
  const seen = new Set<string>();
  return (body: string, headers: Record<string, string | string[] | undefined>): EnvVarUpdated | null => {
    const flat = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : (v ?? '')]),
    );
    const event = webhook.verify(body, flat) as { type: string };
    const id = flat['webhook-id']!;
    if (seen.has(id)) return null;
    seen.add(id);
    if (seen.size > 10_000) seen.delete(seen.values().next().value!);
    return event.type === 'env_var.updated' ? (event as EnvVarUpdated) : null;
  };
}

/** The revealed value of one var, read with a project read token (`GET /api/projects/:id/env?reveal=true`). */
export async function fetchValue(input: {
  apiUrl: string;
  projectId: string;
  token: string;
  name: string;
}): Promise<string | undefined> {
  const res = await fetch(`${input.apiUrl}/api/projects/${input.projectId}/env?reveal=true`, {
    headers: { authorization: `Bearer ${input.token}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`reading the env answered ${res.status}`);
  const { vars } = (await res.json()) as { vars: Array<{ name: string; value: string }> };
  return vars.find((v) => v.name === input.name)?.value;
}
