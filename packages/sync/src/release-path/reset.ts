/** A link's fetch lease, given up (opt-out): a later enable may fetch at once. */
export const leaseCleared = { leaseOwner: null, leaseExpiresAt: null } as const;

/**
 * What moving a link to another app resets: release versions are per app, so the applied and target versions
 * start over, and nobody's lease on the old app counts. Work still running for the old app is refused by its
 * app id (see the module header).
 */
export const releasePathReset = {
  appliedVersion: 0,
  appliedMappings: null,
  targetVersion: 0,
  ...leaseCleared,
} as const;
