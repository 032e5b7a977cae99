/** Every queue the service uses. Bull Board shows these; the prefix (env `QUEUE_PREFIX`) namespaces them in Redis. */
export const queueNames = {
  /** Verified webhook deliveries, one job per Heroku event id (ingress → worker). */
  events: 'heroku-events',
  /** Link maintenance: scheduled reconcile ticks and per-link reconcile jobs (worker, admin → worker). */
  reconcile: 'heroku-reconcile',
  /** Outbound deliveries to destinations, one job per delivery id (worker relay → worker). */
  deliveries: 'deliveries',
  /** Data migrations off Heroku Postgres, one job per migration (admin → worker). */
  migrations: 'data-migrations',
} as const;

export type QueueName = (typeof queueNames)[keyof typeof queueNames];
