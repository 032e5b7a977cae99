import { afterEach, describe, expect, it, vi } from 'vitest';
import { appPorts, localEnv } from './local-env.js';

afterEach(() => vi.unstubAllEnvs());

describe('localEnv (npm start, npm run dev)', () => {
  it('wires the apps on their default ports', () => {
    const env = localEnv();
    expect(appPorts(env)).toEqual({ ingress: 3000, admin: 3001, worker: 3002, 'heroku-sim': 5000 });
    expect(env).toMatchObject({
      HEROKU_API_URL: 'http://127.0.0.1:5000',
      HEROKU_OAUTH_URL: 'http://127.0.0.1:5000',
      PUBLIC_WEBHOOK_BASE_URL: 'http://127.0.0.1:3000',
      ADMIN_PUBLIC_URL: 'http://localhost:3001',
    });
  });

  it('keeps them wired when an app moves to another port', () => {
    vi.stubEnv('INGRESS_PORT', '13000');
    vi.stubEnv('HEROKU_SIM_PORT', '15000');
    vi.stubEnv('ADMIN_PORT', '13001');
    const env = localEnv();
    expect(appPorts(env)).toEqual({ ingress: 13000, admin: 13001, worker: 3002, 'heroku-sim': 15000 });
    expect(env).toMatchObject({
      HEROKU_API_URL: 'http://127.0.0.1:15000',
      PUBLIC_WEBHOOK_BASE_URL: 'http://127.0.0.1:13000',
      ADMIN_PUBLIC_URL: 'http://localhost:13001',
    });
  });

  it('lets the shell override any value', () => {
    vi.stubEnv('PUBLIC_WEBHOOK_BASE_URL', 'https://hooks.example.com');
    expect(localEnv().PUBLIC_WEBHOOK_BASE_URL).toBe('https://hooks.example.com');
  });
});
