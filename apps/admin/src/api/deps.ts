import type { DestinationsService } from '@hds/destinations';
import type { MigrationService } from '@hds/migrate-data';
import type { JobProducer } from '@hds/queue';
import type { SyncService } from '@hds/sync';

export interface ApiDeps {
  sync: SyncService;
  destinations: DestinationsService;
  migrations: MigrationService;
  producer: JobProducer;
  /** Queues a reconcile for each link a new sign-in re-armed (best effort: the reconciler catches up anyway). */
  reconcileRearmed(linkIds: readonly string[]): Promise<void>;
}
