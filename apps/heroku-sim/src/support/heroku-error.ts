/** Heroku's error ids, by the status they come with. */
export type HerokuErrorId =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'requested_range_not_satisfiable'
  | 'invalid_params'
  | 'rate_limit'
  | 'internal_server_error'
  | 'bad_gateway'
  | 'service_unavailable'
  | 'gateway_timeout';

/** An error answered as Heroku does: `status` with the JSON body `{id, message}`. */
export class HerokuError extends Error {
  constructor(
    readonly status: number,
    readonly id: HerokuErrorId,
    message: string,
  ) {
    super(message);
    this.name = 'HerokuError';
  }

  toJSON(): { id: HerokuErrorId; message: string } {
    return { id: this.id, message: this.message };
  }
}

export const herokuErrors = {
  badRequest: (message: string) => new HerokuError(400, 'bad_request', message),
  unauthorized: () => new HerokuError(401, 'unauthorized', 'Invalid credentials provided.'),
  forbidden: (message = 'This OAuth authorization does not have the scope required for this action.') =>
    new HerokuError(403, 'forbidden', message),
  notFound: (message: string) => new HerokuError(404, 'not_found', message),
  appNotFound: () => new HerokuError(404, 'not_found', "Couldn't find that app."),
  invalidParams: (message: string) => new HerokuError(422, 'invalid_params', message),
  rangeNotSatisfiable: (message: string) => new HerokuError(416, 'requested_range_not_satisfiable', message),
  rateLimit: () =>
    new HerokuError(
      429,
      'rate_limit',
      'Your account reached the API rate limit. Please wait a few minutes before making new requests.',
    ),
  serverError: (status: number) => {
    switch (status) {
      case 502:
        return new HerokuError(502, 'bad_gateway', 'Bad gateway.');
      case 503:
        return new HerokuError(503, 'service_unavailable', 'API is temporarily unavailable.');
      case 504:
        return new HerokuError(504, 'gateway_timeout', 'The request timed out.');
      default:
        return new HerokuError(status, 'internal_server_error', 'Internal server error.');
    }
  },
};
