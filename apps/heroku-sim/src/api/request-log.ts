/** One call the sim answered on the Platform API or the OAuth token endpoint. */
export interface RecordedRequest {
  requestId: string;
  at: string;
  method: string;
  path: string;
  query: string;
  /** The authenticated account, null when the call was not authenticated. */
  accountId: string | null;
  status: number;
  durationMs: number;
  range: string | null;
  userAgent: string | null;
}

export interface RequestFilter {
  method?: string;
  /** A path prefix, e.g. `/apps/my-app/config-vars`. */
  path?: string;
  accountId?: string;
  status?: number;
}

/** What the sim received, for tests that count calls (how many config fetches, how many retries). */
export class RequestLog {
  private entries: RecordedRequest[] = [];

  add(entry: RecordedRequest): void {
    this.entries.push(entry);
  }

  list(filter: RequestFilter = {}): RecordedRequest[] {
    return this.entries.filter(
      (e) =>
        (filter.method === undefined || e.method === filter.method.toUpperCase()) &&
        (filter.path === undefined || e.path.startsWith(filter.path)) &&
        (filter.accountId === undefined || e.accountId === filter.accountId) &&
        (filter.status === undefined || e.status === filter.status),
    );
  }

  clear(): void {
    this.entries = [];
  }
}
