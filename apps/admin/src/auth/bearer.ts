import type { RequestHandler } from 'express';
import { ApiError } from '../http/errors.js';
import { constantTimeEqual } from './constant-time.js';

const CHALLENGE = 'Bearer realm="heroku-db-sync admin API"';

/** `/api/*`: `Authorization: Bearer $ADMIN_TOKEN`, or 401 with a `WWW-Authenticate` challenge. */
export function requireBearer(adminToken: string): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (match?.[1] !== undefined && constantTimeEqual(match[1], adminToken)) {
      next();
      return;
    }
    const message = header ? 'the bearer token is not valid' : 'send Authorization: Bearer <ADMIN_TOKEN>';
    next(
      new ApiError(401, 'unauthorized', message, {
        'www-authenticate': header ? `${CHALLENGE}, error="invalid_token"` : CHALLENGE,
      }),
    );
  };
}
