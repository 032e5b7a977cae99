import { describe, expect, it } from 'vitest';
import { checkOutboundUrl, type LookupAll } from './check.js';
import { parseOutboundPolicy } from './policy.js';

const strict = parseOutboundPolicy({ allowPrivate: false, allowedHosts: [] });
const resolvesTo =
  (...addresses: string[]): LookupAll =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

describe('checkOutboundUrl', () => {
  it('accepts an https URL whose name resolves to public addresses', async () => {
    const result = await checkOutboundUrl({
      url: 'https://hooks.example.com/x',
      policy: strict,
      lookup: resolvesTo('93.184.216.34'),
    });
    expect(result).toEqual({ ok: true, address: '93.184.216.34', family: 4 });
  });

  it('refuses a name that resolves to 127.0.0.1 when private targets are not allowed', async () => {
    const result = await checkOutboundUrl({
      url: 'https://innocent.example.com/',
      policy: strict,
      lookup: resolvesTo('127.0.0.1'),
    });
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('loopback') as unknown });
  });

  it('refuses localhost through the system resolver', async () => {
    const result = await checkOutboundUrl({ url: 'https://localhost:8443/', policy: strict });
    expect(result.ok).toBe(false);
  });

  it('refuses when any one of several answers is private', async () => {
    const result = await checkOutboundUrl({
      url: 'https://mixed.example.com/',
      policy: strict,
      lookup: resolvesTo('93.184.216.34', '10.0.0.5'),
    });
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('private') as unknown });
  });

  it.each([
    'https://127.0.0.1/',
    'https://[::1]/',
    'https://0.0.0.0/',
    'https://[::]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://169.254.169.254/latest/meta-data',
    'https://[fd00:ec2::254]/',
    'https://192.168.0.10/',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://2130706433/',
  ])('refuses %s', async (url) => {
    const result = await checkOutboundUrl({ url, policy: strict, lookup: resolvesTo('93.184.216.34') });
    expect(result.ok).toBe(false);
  });

  it('requires https unless allowed', async () => {
    const lookup = resolvesTo('93.184.216.34');
    expect(await checkOutboundUrl({ url: 'http://hooks.example.com/', policy: strict, lookup })).toEqual({
      ok: false,
      reason: 'https is required',
    });
    expect((await checkOutboundUrl({ url: 'ftp://hooks.example.com/', policy: strict, lookup })).ok).toBe(false);
    expect((await checkOutboundUrl({ url: 'https://u:p@hooks.example.com/', policy: strict, lookup })).ok).toBe(false);
  });

  it('lets allowPrivate reach private addresses over http, but never metadata', async () => {
    const open = parseOutboundPolicy({ allowPrivate: true, allowedHosts: [] });
    expect(await checkOutboundUrl({ url: 'http://127.0.0.1:4000/hook', policy: open })).toEqual({
      ok: true,
      address: '127.0.0.1',
      family: 4,
    });
    expect((await checkOutboundUrl({ url: 'http://169.254.169.254/', policy: open })).ok).toBe(false);
    expect((await checkOutboundUrl({ url: 'http://metadata.google.internal/', policy: open })).ok).toBe(false);
  });

  it('allows listed names and CIDRs, and only those', async () => {
    const policy = parseOutboundPolicy({ allowPrivate: false, allowedHosts: ['hasura', '10.0.0.0/8'] });
    const toPrivate = resolvesTo('10.1.2.3');
    expect((await checkOutboundUrl({ url: 'http://hasura:8080/', policy, lookup: resolvesTo('172.18.0.4') })).ok).toBe(
      true,
    );
    expect((await checkOutboundUrl({ url: 'http://other:8080/', policy, lookup: toPrivate })).ok).toBe(true);
    expect((await checkOutboundUrl({ url: 'http://other:8080/', policy, lookup: resolvesTo('172.18.0.4') })).ok).toBe(
      false,
    );
  });

  it('reports a name that does not resolve', async () => {
    const lookup: LookupAll = () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    expect(await checkOutboundUrl({ url: 'https://nowhere.invalid/', policy: strict, lookup })).toEqual({
      ok: false,
      reason: 'nowhere.invalid does not resolve (ENOTFOUND)',
      unresolved: true,
    });
  });

  it('rejects a malformed CIDR in the policy', () => {
    expect(() => parseOutboundPolicy({ allowPrivate: false, allowedHosts: ['10.0.0.0/99'] })).toThrow(/CIDR/);
  });
});
