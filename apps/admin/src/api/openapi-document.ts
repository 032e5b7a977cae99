import {
  createDocument,
  type oas31,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { apiTags, type DescribedRoute, type ErrorStatus } from './api-routes.js';
import { errorBody } from './responses.js';

export type OpenApiDocument = oas31.OpenAPIObject;

const ERROR_DESCRIPTIONS: Record<ErrorStatus | 400 | 401, string> = {
  400: '`invalid_input` (a path, query or body that does not fit; the message names the field) or `invalid_json`',
  401: '`unauthorized`: missing or wrong bearer token',
  403: '`forbidden`: a project read token used outside its own project, or on a route it does not open',
  404: '`not_found`: no such project, account or sync',
  // Routes where a 409 means something else (a state that retrying does not change) say so in their `errors`.
  409: '`conflict`: lost a race with a concurrent write; retry',
  413: '`payload_too_large`: body over 256 KiB',
  415: '`unsupported_media_type`: a body that is not UTF-8 JSON',
  422: '`app_not_visible`, `heroku_refused` or `invalid`: Heroku refused, or the input cannot be used',
  503: '`heroku_unavailable`, `rate_limited` (with `Retry-After`) or `queue_unavailable`',
};

/** `/projects/:id/env/:name` → `/projects/{id}/env/{name}`. */
export const openApiPath = (expressPath: string): string => expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');

function operation(route: DescribedRoute): ZodOpenApiOperationObject {
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    responses[status as `2${string}`] = {
      description: spec.description,
      ...(spec.schema ? { content: { 'application/json': { schema: spec.schema } } } : {}),
      ...(spec.headers ? { headers: spec.headers } : {}),
    };
  }
  const takesInput = route.params !== undefined || route.query !== undefined || route.body !== undefined;
  const errors = new Map<ErrorStatus | 400 | 401, string>([
    ...(takesInput ? [[400, ERROR_DESCRIPTIONS[400]] as const] : []),
    [401, ERROR_DESCRIPTIONS[401]],
    ...(route.errors ?? []).map((error) =>
      typeof error === 'number'
        ? ([error, ERROR_DESCRIPTIONS[error]] as const)
        : ([error.status, error.description] as const),
    ),
  ]);
  for (const [status, description] of [...errors].sort(([a], [b]) => a - b)) {
    responses[String(status) as `4${string}`] = {
      description,
      content: { 'application/json': { schema: errorBody } },
    };
  }
  const requestParams: NonNullable<ZodOpenApiOperationObject['requestParams']> = {};
  if (route.params) requestParams.path = route.params as NonNullable<typeof requestParams.path>;
  if (route.query) requestParams.query = route.query as NonNullable<typeof requestParams.query>;
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [...route.tags],
    ...(route.params || route.query ? { requestParams } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: route.body,
                ...(route.example === undefined ? {} : { example: route.example }),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

/**
 * The admin API as an OpenAPI 3.1 document, generated from the routes' registrations (their zod schemas, via
 * zod-openapi, which renders them with zod's own JSON Schema conversion). Throws when a schema cannot be described.
 */
export function createApiDocument(routes: readonly DescribedRoute[]): OpenApiDocument {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const path = `/api${openApiPath(route.path)}` as `/${string}`;
    paths[path] = { ...paths[path], [route.method]: operation(route) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'heroku-db-sync admin API',
      version: '1',
      description:
        "Projects, their env vars and audit log, Heroku accounts, and each project's Heroku database URL sync. " +
        'JSON in and out; every error is `{"error": {"code", "message"}}`. Values of env vars are masked unless ' +
        'revealed, and secrets never appear in audit entries.',
    },
    servers: [{ url: '/', description: 'the admin itself' }],
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'The `ADMIN_TOKEN`' },
      },
    },
    tags: Object.entries(apiTags).map(([name, description]) => ({ name, description })),
    paths,
  });
}
