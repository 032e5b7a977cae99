import type { Logger } from 'pino';

export type Closer = () => Promise<unknown>;

/**
 * Runs `closers` in order on SIGTERM or SIGINT, once, then exits. A second signal exits at once;
 * a hung closer is cut off after `timeoutMs`.
 */
export function onShutdown(options: { logger: Logger; closers: Closer[]; timeoutMs?: number }): void {
  let shuttingDown = false;
  const handler = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      options.logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    options.logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      options.logger.error('shutdown timed out');
      process.exit(1);
    }, options.timeoutMs ?? 20_000);
    timer.unref();
    void (async () => {
      let code = 0;
      for (const close of options.closers) {
        try {
          await close();
        } catch (err) {
          code = 1;
          options.logger.error({ err }, 'error while shutting down');
        }
      }
      options.logger.info('stopped');
      options.logger.flush?.();
      process.exit(code);
    })();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
