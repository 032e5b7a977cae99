/**
 * The admin API's routes and its OpenAPI 3.1 document come from one registration per route, next to its handler.
 *
 * How to add a route (e.g. `POST /api/projects/:id/destinations`):
 * 1. In the file of its resource under `src/api/` (or a new one, then call its `register…Routes(api, deps)` from
 *    `router.ts`), call `api.route({...})` with
 *    - `method` and `path` in express syntax, relative to `/api` (`/projects/:id/destinations`);
 *    - `operationId` (unique, camelCase), `summary`, `tags` (from `apiTags`; and a `description` when the summary is not enough);
 *    - the zod schemas the input is parsed with: `params` (every `:param` of the path), `query`, `body`, and an
 *      `example` body that works (the document shows it; the route test sends it);
 *    - `responses`: each success status with its `description` and the zod `schema` of its JSON body (reuse the
 *      shapes in `responses.ts`); `errors`: the error statuses it answers besides 400 and 401 (added for you),
 *      each as `{status, description}` where the general meaning (`openapi-document.ts`) is wrong for this route.
 * 2. The handler gets the parsed input (`params`, `query`, `body`, typed from the schemas) and returns
 *    `{status, body?, headers?}`, checked by the compiler against `responses`. Throw `ApiError` or the domain's
 *    errors for the rest (`src/http/errors.ts` maps them).
 * 3. Run `npx vitest run apps/admin/src/api/openapi.test.ts`: it fails when a route of the API's express router is
 *    not described (an `api` route registered with `router.get(...)` directly, say), when a described route does not
 *    answer, when a success answer does not fit its documented schema, or when the document is not valid OpenAPI.
 * The document is served at `GET /api/openapi.json` and rendered in the console at `/api-reference`.
 */
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import { parseInput } from '../http/validate.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The document's tags (groups of operations); a route names one or more. Add a tag here with its description. */
export const apiTags = {
  'Heroku accounts': 'Credentials the service acts with',
  Projects: 'Projects and their env vars',
  'Heroku sync': "A project's database URL kept in sync with a Heroku app",
  Audit: 'What changed, when, by whom',
  Destinations: "Where a project's committed values go next: webhooks, deliveries, redelivery",
  'Read tokens': "Tokens a receiver uses to read its own project's revealed env",
  Migrations: 'Moving off Heroku: copy the database to a target, verify it, cut over',
  API: 'This document',
} as const;
export type ApiTag = keyof typeof apiTags;

/** Error statuses a route may declare (401 is added to every route, 400 to every route that takes input). */
export type ErrorStatus = 403 | 404 | 409 | 413 | 415 | 422 | 503;

/** An error status with what it means on this route, where the document's general meaning of it does not fit. */
export interface RouteError {
  status: ErrorStatus;
  description: string;
}

export interface ResponseSpec {
  description: string;
  /** The JSON body; none for an empty answer (204). */
  schema?: z.ZodType;
  /** Response headers worth documenting (`location`), each with `.meta({header: {description}})`. */
  headers?: z.ZodObject;
}

type Schema = z.ZodType | undefined;
type Parsed<S extends Schema> = S extends z.ZodType ? z.output<S> : Record<string, never>;

export interface RouteInput<P extends Schema, Q extends Schema, B extends Schema> {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
}

/** What a handler answers: one of its documented statuses, with a body of that status's schema. */
export type RouteReply<R extends Record<number, ResponseSpec>> = {
  [S in keyof R & number]: R[S] extends { schema: infer B extends z.ZodType }
    ? { status: S; body: z.input<B>; headers?: Record<string, string> }
    : { status: S; headers?: Record<string, string> };
}[keyof R & number];

export interface RouteSpec<
  P extends Schema = Schema,
  Q extends Schema = Schema,
  B extends Schema = Schema,
  R extends Record<number, ResponseSpec> = Record<number, ResponseSpec>,
> {
  method: HttpMethod;
  /** Express syntax, relative to `/api`: `/projects/:id/env/:name`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly [ApiTag, ...ApiTag[]];
  params?: P;
  query?: Q;
  body?: B;
  /** A body that works: shown in the document and sent by the route test. */
  example?: B extends z.ZodType ? z.input<B> : never;
  responses: R;
  /** Error statuses besides 400 and 401: a bare status means what `openapi-document.ts` says it means in general. */
  errors?: readonly (ErrorStatus | RouteError)[];
  handler: (input: RouteInput<P, Q, B>, http: { req: Request; res: Response }) => Promise<RouteReply<NoInfer<R>>>;
}

/** A registered route, as the document builder reads it. */
export type DescribedRoute = Omit<RouteSpec, 'handler' | 'example'> & { example?: unknown };

/**
 * Registers routes on an express router and remembers their descriptions for the OpenAPI document. Input is parsed
 * with the route's own schemas (a 400 naming the field when it does not fit) before the handler runs.
 */
export class ApiRoutes {
  private readonly described: DescribedRoute[] = [];

  constructor(private readonly router: Router) {}

  get routes(): readonly DescribedRoute[] {
    return this.described;
  }

  route<
    P extends Schema = undefined,
    Q extends Schema = undefined,
    B extends Schema = undefined,
    const R extends Record<number, ResponseSpec> = Record<number, ResponseSpec>,
  >(spec: RouteSpec<P, Q, B, R>): void {
    const { handler, ...description } = spec;
    this.described.push(description);
    this.router[spec.method](spec.path, async (req, res) => {
      const input = {
        params: spec.params ? parseInput(spec.params, req.params, 'path') : {},
        query: spec.query ? parseInput(spec.query, req.query, 'query') : {},
        body: spec.body ? parseInput(spec.body, req.body, 'body') : {},
      } as RouteInput<P, Q, B>;
      const reply: { status: number; body?: unknown; headers?: Record<string, string> } = await handler(input, {
        req,
        res,
      });
      res.status(reply.status);
      if (reply.headers) res.set(reply.headers);
      if ('body' in reply) res.json(reply.body);
      else res.end();
    });
  }
}
