import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header Heroku signs deliveries with: base64(HMAC-SHA256(webhook secret, raw body)). */
export const SIGNATURE_HEADER = 'heroku-webhook-hmac-sha256';

export type VerifyResult = { ok: true; keyIndex: number } | { ok: false; reason: VerifyFailure };
export type VerifyFailure = 'missing_signature' | 'malformed_signature' | 'bad_signature';

/**
 * A link's webhook secret is derived, never stored: `hex(HMAC-SHA256(signingKey, linkId))`.
 * Any ingress instance can recompute it, and rotating `WEBHOOK_SIGNING_KEYS` rotates every secret.
 */
export function deriveWebhookSecret(signingKey: string, linkId: string): string {
  return createHmac('sha256', signingKey).update(linkId, 'utf8').digest('hex');
}

/** Signs a body the way Heroku does (used by heroku-sim and tests). */
export function signWebhookBody(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

/**
 * 32 bytes in canonical base64: the 43rd character carries 4 bits of the MAC and 2 padding bits, which must be
 * zero. Decoders ignore those bits, so without this check 4 different header strings verify as one signature.
 */
const BASE64_SHA256 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * What is wrong with a signature header before any body is read: absent, or not a canonical base64 HMAC-SHA256.
 * The ingress refuses such a delivery without reading its body.
 */
export function signatureHeaderProblem(options: {
  signature: string | undefined;
}): Exclude<VerifyFailure, 'bad_signature'> | undefined {
  const { signature } = options;
  if (signature === undefined || signature === '') return 'missing_signature';
  if (!BASE64_SHA256.test(signature)) return 'malformed_signature';
  return undefined;
}

/**
 * Verifies a delivery's signature over the raw body bytes against each candidate secret, in constant time.
 * Every secret is tried (no early exit on a match), so timing does not reveal which key matched.
 */
export function verifyWebhookSignature(options: {
  body: Buffer;
  signature: string | undefined;
  secrets: readonly string[];
}): VerifyResult {
  const problem = signatureHeaderProblem({ signature: options.signature });
  if (problem !== undefined) return { ok: false, reason: problem };
  const given = Buffer.from(options.signature ?? '', 'base64');
  let matched = -1;
  options.secrets.forEach((secret, index) => {
    const expected = createHmac('sha256', secret).update(options.body).digest();
    if (timingSafeEqual(expected, given) && matched === -1) matched = index;
  });
  return matched === -1 ? { ok: false, reason: 'bad_signature' } : { ok: true, keyIndex: matched };
}

/**
 * Verifies a delivery to `/webhooks/heroku/:linkId` against the secrets derived from every signing key.
 * `secretsFor` lets callers cache derived secrets (it must return `deriveWebhookSecret(key, linkId)` for each of
 * `signingKeys`, in order); it defaults to deriving them each time.
 */
export function verifyLinkWebhook(options: {
  body: Buffer;
  signature: string | undefined;
  linkId: string;
  signingKeys: readonly string[];
  secretsFor?: (linkId: string) => readonly string[];
}): VerifyResult {
  const secrets =
    options.secretsFor?.(options.linkId) ?? options.signingKeys.map((key) => deriveWebhookSecret(key, options.linkId));
  return verifyWebhookSignature({ body: options.body, signature: options.signature, secrets });
}
