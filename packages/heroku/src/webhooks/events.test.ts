import { sharedWebhookBodies } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { knownReleaseStatus, parseWebhookBody } from './events.js';

const bodies = sharedWebhookBodies();

describe('parseWebhookBody', () => {
  it('has the shared example bodies to test against', () => {
    expect([...bodies.keys()].filter((n) => n.startsWith('api-release'))).toHaveLength(4);
  });

  for (const [name, raw] of bodies) {
    it(`parses ${name}`, () => {
      const json: unknown = JSON.parse(raw.toString('utf8'));
      const parsed = parseWebhookBody(json);
      if (name.startsWith('api-release')) {
        expect(parsed.kind).toBe('release');
        if (parsed.kind !== 'release') return;
        const original = json as { id: string; data: { version: number; app: { id: string }; status: string } };
        expect(parsed.event.id).toBe(original.id);
        expect(parsed.event.data.version).toBe(original.data.version);
        expect(parsed.event.data.app.id).toBe(original.data.app.id);
        expect(knownReleaseStatus(parsed.event.data.status)).toBe(original.data.status);
      } else {
        expect(parsed.kind).toBe('other');
      }
    });
  }

  const release = () => JSON.parse(bodies.get('api-release-update-2025.json')!.toString('utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test fixtures are edited freely

  it('keeps unknown fields Heroku may add', () => {
    const body = release();
    body.brand_new_field = { nested: true };
    body.data.another_new_field = 42;
    const parsed = parseWebhookBody(body);
    expect(parsed.kind).toBe('release');
    if (parsed.kind === 'release')
      expect((parsed.event as Record<string, unknown>).brand_new_field).toEqual({ nested: true });
  });

  it('rejects a release without a version or an app id', () => {
    const noVersion = release();
    delete noVersion.data.version;
    expect(parseWebhookBody(noVersion)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('data.version'),
    });
    const noApp = release();
    delete noApp.data.app.id;
    expect(parseWebhookBody(noApp)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('data.app.id') });
    const badVersion = release();
    badVersion.data.version = '7';
    expect(parseWebhookBody(badVersion).kind).toBe('invalid');
  });

  it('rejects JSON that is not a Heroku event', () => {
    expect(parseWebhookBody({ hello: 'world' }).kind).toBe('invalid');
    expect(parseWebhookBody([1, 2, 3]).kind).toBe('invalid');
    expect(parseWebhookBody(null).kind).toBe('invalid');
    expect(parseWebhookBody({ id: 'not-a-uuid', action: 'create', resource: 'release' }).kind).toBe('invalid');
  });

  it('rejects a release whose envelope is broken, like any other body', () => {
    const badId = release();
    badId.id = 'not-a-uuid';
    expect(parseWebhookBody(badId)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('id') });
    const noAction = release();
    delete noAction.action;
    expect(parseWebhookBody(noAction)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('action') });
  });

  // Heroku's ids are 8-4-4-4-12 hex without RFC 9562 version or variant bits: its own docs use this one.
  it("accepts any 8-4-4-4-12 hex id Heroku makes, such as the one in Heroku's docs", () => {
    const docId = '01234567-89ab-cdef-0123-456789abcdef';
    const body = release();
    body.id = docId;
    body.data.id = docId;
    body.data.app.id = docId;
    const parsed = parseWebhookBody(body);
    expect(parsed).toMatchObject({ kind: 'release', event: { id: docId, data: { id: docId } } });
    expect(parseWebhookBody({ id: docId, action: 'create', resource: 'dyno' }).kind).toBe('other');
    for (const notAnId of [
      '01234567-89ab-cdef-0123-456789abcde',
      '01234567-89ab-cdef-0123-456789abcdeg',
      '0123456789abcdef0123456789abcdef',
    ]) {
      expect(parseWebhookBody({ ...release(), id: notAnId }).kind).toBe('invalid');
    }
  });

  it('treats a release without a status as succeeded (releases made before release phases)', () => {
    const body = release();
    delete body.data.status;
    const parsed = parseWebhookBody(body);
    expect(parsed.kind === 'release' && parsed.event.data.status).toBe('succeeded');
  });
});
