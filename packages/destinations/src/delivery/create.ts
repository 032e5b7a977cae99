import type { Keyring, Logger } from '@hds/core';
import type { Database } from '@hds/db';
import type { DestinationKind } from '../kinds/kind.js';
import { createFileKind } from '../kinds/file/file-kind.js';
import { createHasuraKind } from '../kinds/hasura/hasura-kind.js';
import { createWebhookKind } from '../kinds/webhook.js';
import { type LookupAll } from '../outbound/check.js';
import { createGuardedDispatcher } from '../outbound/dispatcher.js';
import type { OutboundPolicy } from '../outbound/policy.js';
import { DeliveryEngine, type DeliveryHooks } from './engine.js';

export type DestinationKinds = Record<string, DestinationKind<unknown, unknown, unknown>>;

/**
 * Every destination kind, sharing one guarded dispatcher (every outbound request goes through the
 * outbound-address guard). The admin uses them to check and store a new destination; the worker to deliver.
 * `close` releases the dispatcher's sockets.
 */
export function createDestinationKinds(options: {
  policy: OutboundPolicy;
  /** A receiver's answer must come within this long. */
  timeoutMs?: number;
  /** Tests: a resolver standing in for DNS. */
  lookup?: LookupAll;
  /** `FILE_DESTINATIONS_ROOT`: without it there is no `file` kind (creating one is refused). */
  fileRoot?: string;
}): { kinds: DestinationKinds; close(): Promise<void> } {
  const lookup = options.lookup ? { lookup: options.lookup } : {};
  const dispatcher = createGuardedDispatcher({ policy: options.policy, ...lookup });
  const kinds: DestinationKinds = {
    webhook: createWebhookKind({
      dispatcher,
      policy: options.policy,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...lookup,
    }),
    hasura: createHasuraKind({
      dispatcher,
      policy: options.policy,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...lookup,
    }),
    ...(options.fileRoot ? { file: createFileKind({ root: options.fileRoot }) } : {}),
  };
  return { kinds, close: () => dispatcher.close() };
}

/** The delivery side as a worker runs it: the kinds and the engine over them. */
export function createDeliveries(options: {
  db: Database;
  keyring: Keyring;
  policy: OutboundPolicy;
  scheduleMs: readonly number[];
  disableAfterMs: number;
  timeoutMs: number;
  logger: Logger;
  hooks?: DeliveryHooks;
  lookup?: LookupAll;
  fileRoot?: string;
}): { engine: DeliveryEngine; kinds: DestinationKinds; close(): Promise<void> } {
  const made = createDestinationKinds({
    policy: options.policy,
    timeoutMs: options.timeoutMs,
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.fileRoot ? { fileRoot: options.fileRoot } : {}),
  });
  const engine = new DeliveryEngine({
    db: options.db,
    keyring: options.keyring,
    kinds: made.kinds,
    scheduleMs: options.scheduleMs,
    disableAfterMs: options.disableAfterMs,
    leaseMs: options.timeoutMs + 15_000,
    logger: options.logger,
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
  return { engine, kinds: made.kinds, close: () => made.close() };
}
