import { readFileSync } from 'node:fs';
import AjvDraft04, { type ErrorObject, type ValidateFunction } from 'ajv-draft-04';
import { sharedHerokuDir } from './shared.js';

/**
 * Validates Platform API answers against Heroku's hyper-schema (`../shared/heroku/platform-api-schema.json`,
 * JSON Schema draft 04), read in place. Each endpoint is a `links[]` entry of a resource; its answer must match
 * the link's `targetSchema` and its request body the link's `schema`.
 *
 * The schema marks complete objects with `strictProperties: true` (interagent's keyword: every listed property
 * is present and no other is). Plain JSON Schema ignores it, so it is enforced here: such objects get
 * `required` = all their properties and `additionalProperties: false`. Without that an empty object would pass.
 */

const SCHEMA_ID = 'https://api.heroku.com/schema';
// ajv-draft-04 is CommonJS: its class is `module.exports` and `module.exports.default` alike.
const Ajv = AjvDraft04.default;

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

export interface HerokuLink {
  resource: string;
  title: string;
  method: string;
  href: string;
  rel: string;
  /** Matches concrete paths (`/apps/my-app/config-vars`) of this link's href template. */
  pattern: RegExp;
  /** JSON pointer of the link in the schema document. */
  pointer: string;
  hasTargetSchema: boolean;
  hasSchema: boolean;
}

export type SchemaCheck = { ok: true; link: HerokuLink | undefined } | { ok: false; errors: string };

/** Heroku's documented error body; the hyper-schema does not describe errors. */
const errorSchema = {
  type: 'object',
  required: ['id', 'message'],
  properties: {
    id: { type: 'string', pattern: '^[a-z_]+$' },
    message: { type: 'string', minLength: 1 },
    url: { type: 'string' },
  },
};

function enforceStrictProperties(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(enforceStrictProperties);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    // Draft 04 reads any string `id` as a base URI, also inside `example` values (ajv walks every key), and
    // Heroku's examples are full of ids: examples are documentation, so they are left out.
    if (key === '$schema' || key === 'example' || (key === 'id' && typeof value === 'string')) continue;
    if (key === 'enum' || key === 'default') {
      out[key] = value;
      continue;
    }
    // `properties` and `definitions` are maps of names to schemas: keep their keys, transform their values.
    out[key] =
      (key === 'properties' || key === 'definitions' || key === 'patternProperties') && isObject(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, enforceStrictProperties(v)]))
        : enforceStrictProperties(value);
  }
  if (out.strictProperties === true && isObject(out.properties)) {
    out.required ??= Object.keys(out.properties);
    out.additionalProperties ??= false;
  }
  return out;
}

function hrefPattern(href: string): RegExp {
  const parts = href.split(/\{[^}]*\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^/]+')}$`);
}

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`)
    .join('; ');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export interface HerokuSchemaValidator {
  links: readonly HerokuLink[];
  /** The links whose method and href template match (several when one endpoint has variants). */
  findLinks(method: string, path: string): HerokuLink[];
  /**
   * Checks an answer: status < 400 against the endpoint's `targetSchema` and the status the link implies
   * (201 for `create`, 200 or 206 for `instances`, 200 otherwise); status >= 400 against Heroku's error shape.
   */
  checkResponse(input: { method: string; path: string; status: number; body: unknown }): SchemaCheck;
  /** Checks a request body against the endpoint's `schema`. */
  checkRequest(input: { method: string; path: string; body: unknown }): SchemaCheck;
}

let cached: HerokuSchemaValidator | undefined;

/** One validator per process (compiling the schema takes a moment). */
export function herokuSchemaValidator(): HerokuSchemaValidator {
  cached ??= buildValidator();
  return cached;
}

function buildValidator(): HerokuSchemaValidator {
  const raw = JSON.parse(readFileSync(`${sharedHerokuDir}platform-api-schema.json`, 'utf8')) as JsonObject;
  const schema = enforceStrictProperties(raw) as JsonObject;
  schema.id = SCHEMA_ID;
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  ajv.addFormat('uuid', UUID);
  ajv.addFormat('date-time', DATE_TIME);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('email', /^[^@\s]+@[^@\s]+$/);
  ajv.addFormat('ipv4', /^(\d{1,3}\.){3}\d{1,3}$/);
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  ajv.addSchema(schema, SCHEMA_ID);
  const validateError = ajv.compile(errorSchema);

  const links: HerokuLink[] = [];
  const definitions = isObject(schema.definitions) ? schema.definitions : {};
  for (const [resource, definition] of Object.entries(definitions)) {
    if (!isObject(definition) || !Array.isArray(definition.links)) continue;
    definition.links.forEach((link: unknown, index) => {
      if (!isObject(link) || typeof link.href !== 'string' || typeof link.method !== 'string') return;
      links.push({
        resource,
        title: typeof link.title === 'string' ? link.title : '',
        method: link.method.toUpperCase(),
        href: link.href,
        rel: typeof link.rel === 'string' ? link.rel : '',
        pattern: hrefPattern(link.href),
        pointer: `#/definitions/${resource}/links/${index}`,
        hasTargetSchema: link.targetSchema !== undefined,
        hasSchema: link.schema !== undefined,
      });
    });
  }

  const compiled = new Map<string, ValidateFunction>();
  const validatorAt = (pointer: string): ValidateFunction => {
    const known = compiled.get(pointer);
    if (known) return known;
    const fn = ajv.compile({ $ref: `${SCHEMA_ID}${pointer}` });
    compiled.set(pointer, fn);
    return fn;
  };

  const findLinks = (method: string, path: string) => {
    const bare = path.split('?')[0] ?? path;
    const matching = links.filter((l) => l.method === method.toUpperCase() && l.pattern.test(bare));
    // Prefer the most specific template (fewest variables), e.g. `/account/rate-limits` over `/account/{…}`.
    const variables = (l: HerokuLink) => (l.href.match(/\{/g) ?? []).length;
    const fewest = Math.min(...matching.map(variables));
    return matching.filter((l) => variables(l) === fewest);
  };

  const checkAgainst = (
    method: string,
    path: string,
    body: unknown,
    kind: 'targetSchema' | 'schema',
  ): SchemaCheck & { link?: HerokuLink } => {
    const candidates = findLinks(method, path).filter((l) =>
      kind === 'targetSchema' ? l.hasTargetSchema : l.hasSchema,
    );
    if (candidates.length === 0) return { ok: false, errors: `no ${kind} in the schema for ${method} ${path}` };
    const problems: string[] = [];
    for (const link of candidates) {
      const validate = validatorAt(`${link.pointer}/${kind}`);
      if (validate(body)) return { ok: true, link };
      problems.push(`${link.resource} ${link.title}: ${describe(validate.errors)}`);
    }
    return { ok: false, errors: problems.join(' | ') };
  };

  return {
    links,
    findLinks,
    checkResponse({ method, path, status, body }) {
      if (status >= 400) {
        return validateError(body)
          ? { ok: true, link: undefined }
          : { ok: false, errors: describe(validateError.errors) };
      }
      const result = checkAgainst(method, path, body, 'targetSchema');
      if (!result.ok || !result.link) return result;
      const expected = result.link.rel === 'create' ? [201] : result.link.rel === 'instances' ? [200, 206] : [200];
      if (!expected.includes(status)) {
        return {
          ok: false,
          errors: `${method} ${path} answered ${status}; the schema's ${result.link.rel} link implies ${expected.join(' or ')}`,
        };
      }
      return result;
    },
    checkRequest({ method, path, body }) {
      return checkAgainst(method, path, body, 'schema');
    },
  };
}
