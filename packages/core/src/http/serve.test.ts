import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { listen } from './serve.js';

describe('listen', () => {
  it('closes once the answers in flight are done, even on keep-alive connections', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived: () => void = () => {};
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    const running = await listen(
      (_req, res) => {
        arrived();
        void released.then(() => res.end('done'));
      },
      { port: 0, host: '127.0.0.1' },
    );
    const agent = new Agent({ keepAlive: true });
    try {
      const answer = new Promise<{ text: string; connection: string | undefined }>((resolve, reject) => {
        request(`${running.url}/slow`, { agent }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ text, connection: res.headers.connection }));
        })
          .once('error', reject)
          .end();
      });
      await requestArrived;
      // A grace period far beyond the test timeout: `close` must not rely on it.
      const closed = running.close(120_000);
      release();
      expect(await answer).toEqual({ text: 'done', connection: 'close' });
      await closed;
      expect(running.server.listening).toBe(false);
    } finally {
      agent.destroy();
    }
  });
});
