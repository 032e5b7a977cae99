import type { DestinationsService } from '@hds/destinations';
import type { RequestHandler, Response } from 'express';
import { ApiError } from '../http/errors.js';
import { requireBearer } from './bearer.js';

/** Who called the API: the operator (`ADMIN_TOKEN`), or a project read token (its project only). */
export type ApiCaller = { kind: 'admin' } | { kind: 'project_token'; tokenId: string; projectId: string };

/** The one route a project read token opens: reading its own project's env. */
const TOKEN_ROUTE = /^\/projects\/([^/]+)\/env\/?$/;

export const apiCaller = (res: Response): ApiCaller =>
  (res.locals.caller as ApiCaller | undefined) ?? { kind: 'admin' };

/**
 * `/api/*`: `Authorization: Bearer $ADMIN_TOKEN` opens everything; a project read token (`hds_pt_…`) opens only
 * `GET /api/projects/<its project>/env` (403 elsewhere, including another project's env); anything else is 401.
 */
export function requireApiAuth(options: { adminToken: string; destinations: DestinationsService }): RequestHandler {
  const admin = requireBearer(options.adminToken);
  return (req, res, next) => {
    const match = /^Bearer +(hds_pt_\S+) *$/i.exec(req.headers.authorization ?? '');
    if (!match?.[1]) {
      admin(req, res, next);
      return;
    }
    options.destinations.authenticateToken(match[1]).then(
      (token) => {
        if (!token) {
          admin(req, res, next);
          return;
        }
        const route = TOKEN_ROUTE.exec(req.path);
        if (req.method !== 'GET' || !route || decodeURIComponent(route[1]!) !== token.projectId) {
          next(new ApiError(403, 'forbidden', 'this read token only reads its own project’s env'));
          return;
        }
        res.locals.caller = { kind: 'project_token', ...token } satisfies ApiCaller;
        next();
      },
      (err: unknown) => next(err),
    );
  };
}
