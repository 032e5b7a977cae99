import type { Response } from 'express';

export type ErrorCode =
  | 'invalid_link_id'
  | 'payload_too_large'
  | 'unsupported_content_encoding'
  | 'bad_request'
  | 'missing_signature'
  | 'malformed_signature'
  | 'bad_signature'
  | 'invalid_json'
  | 'not_a_heroku_event'
  | 'queue_unavailable'
  | 'not_found'
  | 'internal';

/** Error answers are JSON `{error: {code, message}}`; messages never echo the request body or its headers. */
export function sendError(
  res: Response,
  error: { status: number; code: ErrorCode; message: string; headers?: Record<string, string> },
): void {
  if (error.headers) res.set(error.headers);
  res.status(error.status).json({ error: { code: error.code, message: error.message } });
}
