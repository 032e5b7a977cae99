import type { Keyring, Logger } from '@hds/core';
import type { Database } from '@hds/db';
import type { DestinationKind } from '../kinds/kind.js';
import { createWebhookKind } from '../kinds/webhook.js';
import { type LookupAll } from '../outbound/check.js';
import { createGuardedDispatcher } from '../outbound/dispatcher.js';
import type { OutboundPolicy } from '../outbound/policy.js';
import { DeliveryEngine, type DeliveryHooks } from './engine.js';

/**
 * The delivery side as a process runs it: the guarded dispatcher every outbound request goes through, the kinds,
 * and the engine. `close` releases the dispatcher's sockets.
 */
export function createDeliveries(options: {
  db: Database;
  keyring: Keyring;
  policy: OutboundPolicy;
  scheduleMs: readonly number[];
  disableAfterMs: number;
  timeoutMs: number;
  logger: Logger;
  hooks?: DeliveryHooks;
  /** Tests: a resolver standing in for DNS. */
  lookup?: LookupAll;
}): {
  engine: DeliveryEngine;
  kinds: Record<string, DestinationKind<unknown, unknown, unknown>>;
  close(): Promise<void>;
} {
  const dispatcher = createGuardedDispatcher({
    policy: options.policy,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  const kinds = {
    webhook: createWebhookKind({ dispatcher, timeoutMs: options.timeoutMs }),
  } as Record<string, DestinationKind<unknown, unknown, unknown>>;
  const engine = new DeliveryEngine({
    db: options.db,
    keyring: options.keyring,
    kinds,
    scheduleMs: options.scheduleMs,
    disableAfterMs: options.disableAfterMs,
    leaseMs: options.timeoutMs + 15_000,
    logger: options.logger,
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
  return { engine, kinds, close: () => dispatcher.close() };
}
