// Slow or unsigned requests must not hold the ingress's sockets (#17, defect 11): a delivery without a well-formed
// signature header is refused before its body is read, and a request that arrives slowly is cut off after a short
// request timeout (Node checks it every `connectionsCheckingInterval`, which is lowered to match).
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { parseEnv } from '@hds/core';
import { SIGNATURE_HEADER } from '@hds/heroku';
import { sendRawBytes, testSecret } from '@hds/testkit';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngressEnv } from './env.js';
import { ingressTimeouts } from './server.js';
import { freshReleaseBody, signFor } from './test-support/deliveries.js';
import { countJobs, startIngressWithJobs, type TestIngress } from './test-support/ingress-harness.js';

/** Short enough for a test, in the same proportions as production's (see ingressTimeouts). */
const REQUEST_TIMEOUT_MS = 1000;
const timeouts = ingressTimeouts({ requestTimeoutMs: REQUEST_TIMEOUT_MS });

let harness: Awaited<ReturnType<typeof startIngressWithJobs>> | undefined;
let ingress: TestIngress;
let jobs: Queue;

beforeAll(async () => {
  harness = await startIngressWithJobs({ requestTimeoutMs: REQUEST_TIMEOUT_MS });
  ({ ingress, jobs } = harness);
});
afterAll(() => harness?.close());

const KiB = 1024;
const wellFormedSignature = `${'A'.repeat(42)}A=`;

/** The head of a `POST /webhooks/heroku/:linkId` announcing `contentLength` bytes of body. */
function requestHead(options: { linkId: string; contentLength: number; signature?: string }): string {
  return (
    `POST /webhooks/heroku/${options.linkId} HTTP/1.1\r\nHost: ingress\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${options.contentLength}\r\n` +
    (options.signature === undefined ? '' : `${SIGNATURE_HEADER}: ${options.signature}\r\n`) +
    '\r\n'
  );
}

/** A raw connection that records what the server sends, when it closes, and how many bytes we wrote. */
class RawClient {
  readonly socket: Socket;
  readonly received: Buffer[] = [];
  written = 0;
  closedAt: number | undefined;
  readonly closed: Promise<void>;
  readonly opened = performance.now();

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect({ host: hostname, port: Number(port) });
    this.socket.on('data', (chunk: Buffer) => this.received.push(chunk));
    this.socket.on('error', () => undefined); // a reset is one way for the server to end it
    this.closed = new Promise((resolve) =>
      this.socket.on('close', () => {
        this.closedAt = performance.now();
        resolve();
      }),
    );
  }

  write(data: string | Buffer): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.written += Buffer.byteLength(data);
    this.socket.write(data);
  }

  /** Writes `chunk` every `everyMs` until the server closes the connection or `limitMs` passes. */
  async trickle(options: { chunk: string; everyMs: number; limitMs: number }): Promise<void> {
    const timer = setInterval(() => this.write(options.chunk), options.everyMs);
    const limit = new Promise<void>((resolve) => setTimeout(resolve, options.limitMs));
    await Promise.race([this.closed, limit]);
    clearInterval(timer);
  }

  get status(): number | undefined {
    const match = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(this.received).toString('latin1'));
    return match ? Number(match[1]) : undefined;
  }

  get text(): string {
    return Buffer.concat(this.received).toString('latin1');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('a delivery without a well-formed signature header', () => {
  for (const [name, signature] of [
    ['without the header', undefined],
    ['with an empty header', ''],
    ['with a header that is not a base64 HMAC-SHA256', 'not-a-signature'],
    ['with a signature one character short', wellFormedSignature.slice(1)],
  ] as const) {
    it(`gets 401 ${name} before it sends its 256 KiB body, and the connection is closed`, async () => {
      const before = await countJobs(jobs);
      const client = new RawClient(ingress.url);
      client.write(
        requestHead({
          linkId: randomUUID(),
          contentLength: 256 * KiB,
          ...(signature === undefined ? {} : { signature }),
        }),
      );
      // No body byte is sent: the answer may not wait for it.
      await Promise.race([client.closed, new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS / 2))]);
      try {
        expect(client.status, client.text).toBe(401);
        expect(client.text).toMatch(/^connection: close$/im);
        expect(client.text).toContain(signature ? '"malformed_signature"' : '"missing_signature"');
        expect(client.closedAt, 'the server closed the connection').toBeDefined();
        expect(client.closedAt! - client.opened).toBeLessThan(REQUEST_TIMEOUT_MS / 2);
      } finally {
        client.destroy();
      }
      expect(await countJobs(jobs)).toBe(before);
    });
  }

  it('is refused the same way when the body follows at once (an ordinary client)', async () => {
    const { body } = freshReleaseBody();
    const answer = await sendRawBytes({
      url: ingress.url,
      bytes: Buffer.concat([Buffer.from(requestHead({ linkId: randomUUID(), contentLength: body.length })), body]),
      halfClose: true,
      timeoutMs: 5000,
    });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'missing_signature' } });
  });
});

describe('slow requests', () => {
  it(`are cut off after the request timeout (${REQUEST_TIMEOUT_MS} ms here) however slowly the body comes`, async () => {
    const before = await countJobs(jobs);
    const client = new RawClient(ingress.url);
    const linkId = randomUUID();
    client.write(requestHead({ linkId, contentLength: 10 * KiB, signature: wellFormedSignature }));
    // 10 bytes every 50 ms: 10 KiB would take 51 s.
    await client.trickle({ chunk: 'x'.repeat(10), everyMs: 50, limitMs: REQUEST_TIMEOUT_MS * 5 });
    try {
      expect(client.closedAt, 'the server closed the connection').toBeDefined();
      const heldMs = client.closedAt! - client.opened;
      expect(heldMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
      expect(heldMs).toBeLessThan(REQUEST_TIMEOUT_MS + timeouts.checkIntervalMs + 1000);
      expect(client.written).toBeLessThan(10 * KiB);
      expect([408, undefined]).toContain(client.status);
    } finally {
      client.destroy();
    }
    expect(await countJobs(jobs)).toBe(before);
  });

  it(`are cut off after the headers timeout (${timeouts.headersMs} ms here) when the headers never end`, async () => {
    const client = new RawClient(ingress.url);
    client.write(`POST /webhooks/heroku/${randomUUID()} HTTP/1.1\r\nHost: ingress\r\n`);
    await client.trickle({ chunk: 'X-Slow: 1\r\n', everyMs: 50, limitMs: REQUEST_TIMEOUT_MS * 5 });
    try {
      expect(client.closedAt, 'the server closed the connection').toBeDefined();
      const heldMs = client.closedAt! - client.opened;
      expect(heldMs).toBeGreaterThanOrEqual(timeouts.headersMs - 50);
      expect(heldMs).toBeLessThan(timeouts.headersMs + timeouts.checkIntervalMs + 1000);
    } finally {
      client.destroy();
    }
  });

  it('leave idle keep-alive connections alone: a delivery after a pause longer than both timeouts is accepted', async () => {
    const client = new RawClient(ingress.url);
    const linkId = randomUUID();
    const send = () => {
      const { body } = freshReleaseBody();
      const signature = signFor({ body, linkId, signingKey: ingress.signingKeys[0]! });
      client.write(requestHead({ linkId, contentLength: body.length, signature }));
      client.write(body);
    };
    try {
      send();
      await waitForAnswers(client, 1);
      await new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS + timeouts.checkIntervalMs + 200));
      expect(client.closedAt).toBeUndefined();
      send();
      await waitForAnswers(client, 2);
      expect(client.text.match(/HTTP\/1\.1 202 /g)).toHaveLength(2);
    } finally {
      client.destroy();
    }
  });
});

describe('the timeouts the ingress runs with', () => {
  it('default to a 10 s request timeout, a 5 s headers timeout, checked every second', () => {
    const env = parseEnv(IngressEnv, { REDIS_URL: 'redis://127.0.0.1:6379', WEBHOOK_SIGNING_KEYS: testSecret('k') });
    expect(env).toMatchObject({ ok: true, env: { REQUEST_TIMEOUT_MS: 10_000 } });
    expect(ingressTimeouts({ requestTimeoutMs: 10_000 })).toEqual({
      requestMs: 10_000,
      headersMs: 5000,
      checkIntervalMs: 1000,
    });
  });

  it('are the ones the server enforces', () => {
    expect(ingress.server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
    expect(ingress.server.headersTimeout).toBe(timeouts.headersMs);
  });
});

async function waitForAnswers(client: RawClient, count: number): Promise<void> {
  const deadline = performance.now() + 5000;
  while ((client.text.match(/HTTP\/1\.1 \d{3}/g)?.length ?? 0) < count) {
    const left = deadline - performance.now();
    if (left <= 0 || client.closedAt !== undefined) throw new Error(`answer ${count} did not come: ${client.text}`);
    await Promise.race([
      new Promise((resolve) => client.socket.once('data', resolve)),
      client.closed,
      new Promise((resolve) => setTimeout(resolve, left)),
    ]);
  }
}
