import { connect } from 'node:net';

/** Resolves with the error code of a TCP connection attempt to 127.0.0.1:`port` (e.g. ECONNREFUSED), or 'connected'. */
export function tcpProbe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
