import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { RequestHandler, Router } from 'express';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * The console's anti-framing headers, for every Bull Board answer (its auth challenge included). Its buttons retry,
 * clean and remove jobs, and browsers resend cached Basic credentials: a framing page could make those clicks.
 * The policy only restricts framing, `<base>` and plugins: Bull Board's page loads its own scripts, inline styles
 * and web fonts, which the console's stricter `default-src 'none'` would block.
 */
export const bullBoardSecurityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'content-security-policy': "frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
  });
  next();
};

/** Bull Board for every queue of the service (release events, reconciles). Mount it behind auth. */
export function createBullBoardRouter(queues: Queue[]): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'heroku-db-sync', miscLinks: [{ text: 'Back to the console', url: '/' }] } },
  });
  return serverAdapter.getRouter() as Router;
}
