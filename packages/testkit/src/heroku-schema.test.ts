import { describe, expect, it } from 'vitest';
import { herokuSchemaValidator } from './heroku-schema.js';

describe('herokuSchemaValidator', () => {
  const validator = herokuSchemaValidator();

  it('finds the endpoints of the schema by method and concrete path', () => {
    expect(validator.findLinks('GET', '/apps/my-app/config-vars').map((l) => l.title)).toEqual(['Info for App']);
    expect(validator.findLinks('GET', '/apps/my-app/releases/7/config-vars').map((l) => l.title)).toEqual([
      'Info for App Release',
    ]);
    expect(validator.findLinks('GET', '/account/rate-limits').map((l) => l.resource)).toEqual(['rate-limit']);
    expect(validator.findLinks('POST', '/apps/x/webhooks').map((l) => l.resource)).toEqual(['app-webhook']);
  });

  it('enforces strictProperties: a complete resource passes, a missing or an extra field fails', () => {
    const webhook = {
      app: { id: '01234567-89ab-cdef-0123-456789abcdef', name: 'example' },
      created_at: '2012-01-01T12:00:00Z',
      id: '01234567-89ab-cdef-0123-456789abcdef',
      include: ['api:release'],
      level: 'sync',
      updated_at: '2012-01-01T12:00:00Z',
      url: 'https://example.com/hooks',
    };
    const check = (body: unknown) =>
      validator.checkResponse({ method: 'GET', path: '/apps/x/webhooks/y', status: 200, body });
    expect(check(webhook).ok).toBe(true);
    expect(check({ ...webhook, app: { id: webhook.app.id } }).ok).toBe(false);
    expect(check({ ...webhook, level: 'loud' }).ok).toBe(false);
    expect(check({ ...webhook, id: 'not-a-uuid' }).ok).toBe(false);
    const rateLimit = (body: unknown) =>
      validator.checkResponse({ method: 'GET', path: '/account/rate-limits', status: 200, body });
    expect(rateLimit({ remaining: 10 }).ok).toBe(true);
    expect(rateLimit({}).ok).toBe(false);
    expect(rateLimit({ remaining: 10, extra: 1 }).ok).toBe(false);
  });

  it('checks the status a link implies and the error shape', () => {
    const body = { DATABASE_URL: 'postgres://u:p@h:5432/d' };
    expect(validator.checkResponse({ method: 'GET', path: '/apps/x/config-vars', status: 200, body }).ok).toBe(true);
    expect(validator.checkResponse({ method: 'GET', path: '/apps/x/config-vars', status: 201, body }).ok).toBe(false);
    const error = { id: 'not_found', message: "Couldn't find that app." };
    expect(validator.checkResponse({ method: 'GET', path: '/apps/x', status: 404, body: error }).ok).toBe(true);
    expect(validator.checkResponse({ method: 'GET', path: '/apps/x', status: 404, body: { error: 'x' } }).ok).toBe(
      false,
    );
  });

  it('checks request bodies against the link schema', () => {
    const path = '/apps/x/webhooks';
    expect(
      validator.checkRequest({
        method: 'POST',
        path,
        body: { include: ['api:release'], level: 'sync', url: 'https://e.x/h' },
      }).ok,
    ).toBe(true);
    expect(
      validator.checkRequest({
        method: 'POST',
        path,
        body: { include: ['api:release'], level: 'sync', url: 'https://e.x/h', extra: 1 },
      }).ok,
    ).toBe(false);
  });
});
