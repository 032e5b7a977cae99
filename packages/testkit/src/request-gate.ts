import { Agent, type Dispatcher } from 'undici';

/** A request the gate holds back: it goes out (to the real server) when released. */
export interface HeldRequest {
  method: string;
  path: string;
  release(): void;
}

type Matcher = (request: { method: string; path: string }) => boolean;

/**
 * An undici dispatcher (give it as `HerokuSettings.dispatcher`) that holds back the requests a test names until
 * the test releases them, so that a test can stop one piece of work in the middle of its Heroku call, do
 * something else meanwhile, and let it go on: concurrency made deterministic, with the real server answering.
 * Requests it does not hold go out at once.
 */
export class RequestGate extends Agent {
  private rules: { match: Matcher; remaining: number }[] = [];
  private readonly held: HeldRequest[] = [];
  private waiters: { count: number; resolve: (held: HeldRequest[]) => void }[] = [];

  /** Holds the next `count` requests (every one by default) that `match` accepts. */
  hold(match: Matcher, options: { count?: number } = {}): void {
    this.rules.push({ match, remaining: options.count ?? Number.POSITIVE_INFINITY });
  }

  /** Resolves once `count` requests were held (released ones count), with all of them, oldest first. */
  waitForHeld(count = 1): Promise<HeldRequest[]> {
    if (this.held.length >= count) return Promise.resolve([...this.held]);
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Stops holding, and lets every held request go. */
  releaseAll(): void {
    this.rules = [];
    for (const request of this.held) request.release();
  }

  override dispatch(options: Agent.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const request = { method: options.method, path: options.path };
    const rule = this.rules.find((r) => r.remaining > 0 && r.match(request));
    if (!rule) return super.dispatch(options, handler);
    rule.remaining -= 1;
    let released = false;
    this.held.push({
      ...request,
      release: () => {
        if (released) return;
        released = true;
        super.dispatch(options, handler);
      },
    });
    const ready = this.waiters.filter((w) => this.held.length >= w.count);
    this.waiters = this.waiters.filter((w) => this.held.length < w.count);
    for (const waiter of ready) waiter.resolve([...this.held]);
    return true;
  }
}
