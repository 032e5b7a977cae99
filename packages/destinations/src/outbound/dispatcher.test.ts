import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { checkOutboundUrl, type LookupAll } from './check.js';
import { createGuardedDispatcher, OutboundRefusedError } from './dispatcher.js';
import { parseOutboundPolicy } from './policy.js';

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('createGuardedDispatcher', () => {
  it('connects to the checked address when private targets are allowed', async () => {
    const dispatcher = createGuardedDispatcher({
      policy: parseOutboundPolicy({ allowPrivate: true, allowedHosts: [] }),
    });
    const response = await request(`http://localhost:${port}/`, { dispatcher });
    expect(response.statusCode).toBe(204);
    await response.body.dump();
    await dispatcher.close();
  });

  it('refuses at connect time when the name now resolves to loopback (DNS rebinding)', async () => {
    // The name was public when it was checked; by connect time it answers 127.0.0.1.
    const answers = ['93.184.216.34', '127.0.0.1'];
    let calls = 0;
    const lookup: LookupAll = () => Promise.resolve([{ address: answers[Math.min(calls++, 1)]!, family: 4 }]);
    const strict = parseOutboundPolicy({ allowPrivate: false, allowedHosts: [] });
    expect(await checkOutboundUrl({ url: `https://rebind.test:${port}/`, policy: strict, lookup })).toMatchObject({
      ok: true,
    });
    const dispatcher = createGuardedDispatcher({ policy: strict, lookup });
    const error = await request(`https://rebind.test:${port}/`, { dispatcher }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboundRefusedError);
    expect((error as OutboundRefusedError).reason).toContain('loopback');
    await dispatcher.close();
  });

  it('refuses an IP literal without a lookup', async () => {
    const dispatcher = createGuardedDispatcher({
      policy: parseOutboundPolicy({ allowPrivate: false, allowedHosts: [] }),
    });
    const error = await request(`http://127.0.0.1:${port}/`, { dispatcher }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboundRefusedError);
    await dispatcher.close();
  });
});
