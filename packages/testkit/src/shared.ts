import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is packages/testkit/src/shared.ts). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** `../shared/heroku/` beside the project: Heroku's schema and real webhook bodies, read in place. */
export const sharedHerokuDir = fileURLToPath(new URL('../../../../shared/heroku/', import.meta.url));

/** `../shared/hasura/examples/`: real Hasura metadata API bodies (export, update, error answers), read in place. */
export const sharedHasuraExamplesDir = fileURLToPath(new URL('../../../../shared/hasura/examples/', import.meta.url));

/** Every example webhook body under ../shared/heroku/events, by file name, as raw bytes. */
export function sharedWebhookBodies(): Map<string, Buffer> {
  const dir = `${sharedHerokuDir}events/`;
  return new Map(
    readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => [name, readFileSync(`${dir}${name}`)]),
  );
}

export function sharedWebhookBody(name: string): Buffer {
  return readFileSync(`${sharedHerokuDir}events/${name}`);
}
