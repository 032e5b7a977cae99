import type { Request, Response } from 'express';
import type { ProjectEvent, ProjectEvents } from './project-events.js';

/** How often an idle stream sends a comment, so proxies and browsers keep it open. */
const HEARTBEAT_MS = 25_000;

/**
 * Serves `text/event-stream` for one open project page: `ready` once subscribed, then `change` (and `resync`) events
 * that tell the page to fetch itself again. The events carry no data about the project: the page reads it through
 * its normal, authenticated GET, so a stream never holds more than the page would.
 */
export function streamProjectEvents(options: {
  req: Request;
  res: Response;
  events: ProjectEvents;
  projectId: string;
  heartbeatMs?: number;
}): void {
  const { req, res, projectId } = options;
  res.status(200).set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  const send = (event: string) => res.write(`event: ${event}\ndata: ${JSON.stringify({ projectId })}\n\n`);
  let unsubscribe = (): void => {};
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), options.heartbeatMs ?? HEARTBEAT_MS);
  const stop = () => {
    clearInterval(heartbeat);
    unsubscribe();
  };
  unsubscribe = options.events.subscribe(projectId, (event: ProjectEvent) => {
    if (event === 'end') {
      stop();
      res.end();
      return;
    }
    send(event);
  });
  req.once('close', stop);
  // Reconnect after 2 s if the stream breaks (EventSource does it by itself).
  res.write('retry: 2000\n\n');
  send('ready');
}
