import { type z } from 'zod';
import { ApiError } from './errors.js';

/** Describes zod issues in one line: `heroku.accountId: Invalid UUID; name: Too small`. */
export function describeIssues(error: z.ZodError, where: string): string {
  const parts = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  return `invalid ${where}: ${parts.join('; ')}`;
}

/** Parses request input; anything that does not fit is a 400 naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ApiError(400, 'invalid_input', describeIssues(result.error, where));
  return result.data;
}
