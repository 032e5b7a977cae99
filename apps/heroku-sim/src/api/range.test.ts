import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HerokuError } from '../support/heroku-error.js';
import { pageList, parseRange, type Page } from './range.js';

const shape = {
  fields: ['id', 'version'],
  numericFields: ['version'],
  value: (n: number, f: string) => (f === 'version' ? n : `id-${String(n).padStart(4, '0')}`),
};

describe('Range headers', () => {
  it('parses Heroku range headers', () => {
    expect(parseRange(undefined, ['id'])).toEqual({
      field: 'id',
      start: undefined,
      end: undefined,
      max: 200,
      order: 'asc',
    });
    expect(parseRange('version ..; order=desc, max=1', ['id', 'version'])).toMatchObject({
      field: 'version',
      max: 1,
      order: 'desc',
    });
    expect(parseRange('id ]abc..; max=1000', ['id'])).toMatchObject({
      start: { value: 'abc', exclusive: true },
      max: 1000,
    });
    expect(parseRange('id ]..; max=10', ['id'])).toMatchObject({ start: undefined, max: 10 });
    expect(parseRange('id abc..abd', ['id'])).toMatchObject({ start: { value: 'abc', exclusive: false }, end: 'abd' });
    for (const bad of ['name ..', 'id ..; max=0', 'id ..; max=1001', 'id ..; order=sideways', 'id', 'id ..; foo=1']) {
      expect(() => parseRange(bad, ['id'])).toThrow(HerokuError);
    }
  });

  it('visits every item exactly once, in order, when a client follows Next-Range (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 5000 }), { maxLength: 300 }),
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom('id', 'version'),
        fc.boolean(),
        (items, max, field, desc) => {
          const seen: number[] = [];
          let header: string | undefined = `${field} ..; max=${max}${desc ? ', order=desc' : ''}`;
          for (let pages = 0; header !== undefined; pages += 1) {
            const page: Page<number> = pageList(items, parseRange(header, shape.fields), shape);
            expect(page.items.length).toBeLessThanOrEqual(max);
            seen.push(...page.items);
            header = page.nextRange;
            expect(pages).toBeLessThanOrEqual(items.length);
          }
          const expected = [...items].sort((a, b) => a - b);
          expect(seen).toEqual(desc ? expected.reverse() : expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
