// The worker as a library, for tests and tools that run it in-process (the process entry is main.ts).
export { startWorkerRuntime, type WorkerRuntime, type WorkerRuntimeOptions } from './runtime.js';
export { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
