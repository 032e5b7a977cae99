// The ingress as a library, for tests and tools that run it in-process (the process entry is main.ts).
export { createIngressApp, defaultBodyLimitBytes, type IngressAppOptions } from './app.js';
export { connectQueue, type IngressQueue } from './queue.js';
