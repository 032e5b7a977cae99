import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseJobData } from './catalog.js';

const release = (ids: { eventId: string; appId: string; linkId?: string }) => ({
  linkId: randomUUID(),
  version: 7,
  status: 'succeeded',
  action: 'update',
  receivedAt: 1_750_000_000_000,
  ...ids,
});

describe('the job catalog', () => {
  // The id in Heroku's own docs has no RFC 9562 version or variant bits; Heroku's ids are any 8-4-4-4-12 hex.
  it('takes any 8-4-4-4-12 hex id Heroku makes (event and app ids)', () => {
    const docId = '01234567-89ab-cdef-0123-456789abcdef';
    const data = release({ eventId: docId, appId: docId });
    expect(parseJobData('release-event', data)).toEqual(data);
  });

  it('keeps our own ids (links) to RFC 9562 UUIDs and refuses what is not an id', () => {
    const docId = '01234567-89ab-cdef-0123-456789abcdef';
    expect(() => parseJobData('release-event', release({ eventId: docId, appId: docId, linkId: docId }))).toThrow();
    expect(() => parseJobData('release-event', release({ eventId: 'x', appId: docId }))).toThrow();
    expect(() => parseJobData('release-event', release({ eventId: docId, appId: `${docId}0` }))).toThrow();
  });
});
