import { z } from 'zod';

/**
 * Heroku adds fields to webhook bodies without notice, so every object is parsed loosely: only what
 * the service relies on is checked, everything else passes through.
 */
/**
 * An id Heroku makes: any 8-4-4-4-12 hex string. Heroku's ids carry no RFC 9562 version or variant bits (its docs
 * use `01234567-89ab-cdef-0123-456789abcdef`), so `z.uuid()`, which enforces them, would refuse real deliveries.
 */
const herokuId = z.guid();

const idName = z.looseObject({ id: herokuId, name: z.string().optional() });

export const releaseStatuses = ['pending', 'succeeded', 'failed', 'expired'] as const;
export type ReleaseStatus = (typeof releaseStatuses)[number];

const webhookMetadata = z.looseObject({
  attempt: z.looseObject({ id: z.string() }).optional(),
  delivery: z.looseObject({ id: z.string() }).optional(),
  event: z.looseObject({ id: z.string(), include: z.string().optional() }).optional(),
  webhook: z.looseObject({ id: z.string() }).optional(),
});

/** What every Heroku webhook body has, whatever its resource. */
export const webhookEnvelopeSchema = z.looseObject({
  id: herokuId,
  action: z.string().min(1).max(64),
  resource: z.string().min(1).max(64),
  webhook_metadata: webhookMetadata.optional(),
});

/** An `api:release` delivery. Bodies without a release version or an app id are rejected. */
export const releaseEventSchema = webhookEnvelopeSchema.extend({
  resource: z.literal('release'),
  actor: z.looseObject({ id: z.string().optional(), email: z.string().optional() }).nullish(),
  data: z.looseObject({
    id: herokuId.optional(),
    version: z.number().int().positive().max(2_147_483_647),
    // Releases made before Heroku had release phases carry no status; they were all live. Statuses Heroku may add
    // later pass (the worker records and drops them), as long as they are lowercase words: the status is part of
    // the job id, where anything else (a `:` above all, which BullMQ refuses in ids) has no business.
    status: z
      .string()
      .regex(/^[a-z][a-z_-]{0,31}$/, 'must be a lowercase word')
      .default('succeeded'),
    current: z.boolean().nullish(),
    description: z.string().nullish(),
    app: idName,
  }),
});

export type WebhookEnvelope = z.infer<typeof webhookEnvelopeSchema>;
export type ReleaseEvent = z.infer<typeof releaseEventSchema>;

export type ParsedWebhook =
  | { kind: 'release'; event: ReleaseEvent }
  | { kind: 'other'; envelope: WebhookEnvelope }
  | { kind: 'invalid'; reason: string };

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Classifies a decoded JSON body: a release event, another Heroku event, or not a Heroku event at all.
 * A body that says it is a release is parsed once, with the release schema (which includes the envelope).
 */
export function parseWebhookBody(body: unknown): ParsedWebhook {
  if (typeof body === 'object' && body !== null && (body as { resource?: unknown }).resource === 'release') {
    const release = releaseEventSchema.safeParse(body);
    if (!release.success) return { kind: 'invalid', reason: describeIssues(release.error) };
    return { kind: 'release', event: release.data };
  }
  const envelope = webhookEnvelopeSchema.safeParse(body);
  if (!envelope.success) return { kind: 'invalid', reason: describeIssues(envelope.error) };
  return { kind: 'other', envelope: envelope.data };
}

/** Narrows a release status string to the known ones; anything new from Heroku is `undefined`. */
export function knownReleaseStatus(status: string): ReleaseStatus | undefined {
  return (releaseStatuses as readonly string[]).includes(status) ? (status as ReleaseStatus) : undefined;
}
