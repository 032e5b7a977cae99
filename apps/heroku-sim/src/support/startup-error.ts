/** A reason the sim cannot start, naming the variable to fix: `main.ts` prints it and exits 1. */
export class SimStartupError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'SimStartupError';
  }
}
