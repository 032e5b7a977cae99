import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface RawAnswer {
  /** The status, or undefined when the server closed the connection without answering. */
  status: number | undefined;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One HTTP request through node:http, exactly as given: the path is not normalised (`..`, `%2e%2e` reach the
 * server as written, unlike with fetch), headers may repeat (an array value sends the header once per item), and
 * any method is sent. Loopback targets only.
 */
export function sendHttp(options: {
  url: string;
  method: string;
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: Buffer | string;
  /** Sends the body in 16 KiB chunks without a `Content-Length` (`Transfer-Encoding: chunked`). */
  chunked?: boolean;
  timeoutMs?: number;
}): Promise<RawAnswer> {
  const base = new URL(options.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method: options.method,
        path: options.path,
        headers: options.headers,
        agent: false,
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method} ${options.path}: no answer in time`)));
    req.on('error', reject);
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    if (options.chunked && body) {
      for (let at = 0; at < body.length; at += 16 * 1024) req.write(body.subarray(at, at + 16 * 1024));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/**
 * Writes `bytes` on a new TCP connection (optionally half-closing it after them) and reads until the server closes
 * the connection or `timeoutMs` passes. For what node:http will not send: a body shorter than its
 * `Content-Length`, conflicting framing headers, raw non-ASCII bytes in the request line.
 */
export function sendRawBytes(options: {
  url: string;
  bytes: Buffer | string;
  halfClose?: boolean;
  timeoutMs?: number;
}): Promise<RawAnswer> {
  const base = new URL(options.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: base.hostname, port: Number(base.port), allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 10_000);
    socket.on('connect', () => {
      socket.write(options.bytes);
      if (options.halfClose) socket.end();
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server is done sending: finish our side too, so the connection closes now.
    socket.on('end', () => socket.end());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after the server answered is how some servers end a refused request.
      if (err.code !== 'ECONNRESET') reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks).toString('latin1')));
    });
  });
}

function parseResponse(raw: string): RawAnswer {
  const match = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(raw);
  if (!match) return { status: undefined, headers: {}, text: raw };
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = raw.slice(match[0].length, headEnd < 0 ? raw.length : headEnd);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(match[1]), headers, text: headEnd < 0 ? '' : raw.slice(headEnd + 4) };
}
