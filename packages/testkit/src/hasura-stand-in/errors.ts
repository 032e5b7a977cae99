/**
 * Hasura's error answers, shaped as `../shared/hasura/examples/responses.json` shows them: `{path, error, code}`
 * plus `internal` (admins see it). Anything not in those examples is marked where it is made.
 */
export interface HasuraErrorBody {
  path: string;
  error: string;
  code: string;
  internal?: unknown;
}

export class HasuraFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: HasuraErrorBody,
  ) {
    super(body.error);
  }
}

/** One entry of `inconsistent_objects` for a source that cannot connect (README §4, examples F2). */
export interface InconsistentSource {
  definition: string;
  reason: string;
  name: string;
  type: 'source';
  message: string;
}

export const inconsistentSource = (name: string, message: string): InconsistentSource => ({
  definition: name,
  reason: 'Inconsistent object: connection error',
  name: `source ${name}`,
  type: 'source',
  message: message.endsWith('\n') ? message : `${message}\n`,
});

export const failures = {
  secretMissing: () =>
    new HasuraFailure(401, {
      path: '$',
      error: 'x-hasura-admin-secret/x-hasura-access-key required, but not found',
      code: 'access-denied',
    }),
  secretWrong: () =>
    new HasuraFailure(401, {
      path: '$',
      error: 'invalid x-hasura-admin-secret/x-hasura-access-key',
      code: 'access-denied',
    }),
  notAdmin: () =>
    new HasuraFailure(400, { path: '$.args', error: 'restricted access : admin only', code: 'access-denied' }),
  notFound: () => new HasuraFailure(404, { path: '$', error: 'resource does not exist', code: 'not-found' }),
  conflict: (referenced: number) =>
    new HasuraFailure(409, {
      path: '$',
      error: `metadata resource version referenced (${referenced}) did not match current version`,
      code: 'conflict',
    }),
  sourceMissing: (name: string) =>
    new HasuraFailure(400, { path: '$.args', error: `source with name "${name}" does not exist`, code: 'not-exists' }),
  sourceExists: (name: string) =>
    new HasuraFailure(400, {
      path: '$.args',
      error: `source with name "${name}" already exists`,
      code: 'already-exists',
    }),
  cannotConnect: (objects: InconsistentSource[]) =>
    new HasuraFailure(400, {
      internal: objects,
      path: '$.args',
      error: 'Inconsistent object: connection error',
      code: 'invalid-configuration',
    }),
  envMissing: (variable: string) =>
    new HasuraFailure(400, { path: '$.args', error: `environment variable '${variable}' not set`, code: 'not-found' }),
  pathRefused: (path: string) =>
    // The code is Hasura's (README §1, C6); the wording is the stand-in's.
    new HasuraFailure(400, {
      path: '$.args',
      error: `dynamic_from_file path "${path}" is not under HASURA_GRAPHQL_DYNAMIC_SECRETS_ALLOWED_PATH_PREFIX`,
      code: 'permission-error',
    }),
  // Not in the examples: the stand-in's wording for a body it cannot read (Hasura answers `parse-failed`).
  parseFailed: (error: string, path = '$') => new HasuraFailure(400, { path, error, code: 'parse-failed' }),
};
