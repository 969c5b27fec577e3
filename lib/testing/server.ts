// The HTTP side of the testing issuer: serves the JWKS on 127.0.0.1 and injects faults on demand.
import { createServer, STATUS_CODES, validateHeaderValue, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonWebKey } from 'node:crypto';

export const JWKS_PATH = '/.well-known/jwks.json';
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';

/**
 * A failure the JWKS endpoint simulates, for tests of the verifier's JWKS cache.
 * Only GETs of the JWKS path are affected; every one of them still counts in `jwksRequests`.
 */
export type JwksFault = (
  /** 503 Service Unavailable, as Auth0 (or a proxy in front of it) answers during an outage. */
  | { kind: 'down' }
  /** The normal response, written `delayMs` milliseconds late (with the JWKS as it is then): timeouts. At most 2^31-1 ms (setTimeout's limit). */
  | { kind: 'slow'; delayMs: number }
  /** 200 with `Content-Type: application/json` and a body that is not JSON. */
  | { kind: 'garbage' }
  /** Any status from 200 to 599 with a short text body (none for 204/304), e.g. 429 or 500. */
  | { kind: 'status'; status: number }
  /** An exact body, e.g. `'{"keys":[]}'` or a JWKS with bad keys. `contentType` default 'application/json', `status` default 200. */
  | { kind: 'body'; body: string; contentType?: string; status?: number }
  /**
   * A valid JWKS padded with a `padding` member to `bytes` bytes in all (never less than the real
   * JWKS), for response-size limits. Sent chunked without Content-Length by default, so a client
   * has to count bytes as they arrive; `contentLength: true` announces the size up front instead.
   */
  | { kind: 'huge'; bytes: number; contentLength?: boolean }
  /** The socket is destroyed without any response: a connection reset mid-request. */
  | { kind: 'destroy' }
) & {
  /** How many JWKS requests get this fault before it clears itself (default: until `setFault(null)`). */
  times?: number;
};

export interface JwksServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Current JWKS, read on every response so rotations show up immediately. */
  jwks: () => { keys: JsonWebKey[] };
  /** Values for the discovery document; computed once the port is known. */
  discovery: (port: number) => { issuer: string; jwks_uri: string };
}

export class JwksServer {
  #server: Server;
  #options: JwksServerOptions;
  #requests = 0;
  #fault: JwksFault | null = null;
  #faultRemaining = Infinity;
  #cacheControl: string | null = null;
  #timers = new Set<NodeJS.Timeout>();
  #closing: Promise<void> | undefined;
  #port = 0;

  constructor(options: JwksServerOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  /** JWKS GETs received, faulted or not. */
  get requests(): number { return this.#requests; }
  get port(): number { return this.#port; }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      // Loopback only: a test issuer must never be reachable from the network.
      this.#server.listen({ port: this.#options.port, host: '127.0.0.1' }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    return this.#port;
  }

  setFault(fault: JwksFault | null): void {
    if (fault !== null) validateFault(fault);
    this.#fault = fault === null ? null : { ...fault };
    this.#faultRemaining = fault?.times ?? Infinity;
  }

  setCacheControl(value: string | null): void {
    if (value !== null && !isHeaderValue(value)) {
      throw new TypeError('setCacheControl: expected a string Node can send as a header value, or null');
    }
    this.#cacheControl = value;
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      // close() alone waits for idle keep-alive sockets (5 s by default); the verifier keeps
      // its connection pooled, so drop every connection to let the process exit now.
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === JWKS_PATH || path === OPENID_CONFIGURATION_PATH) {
      if (req.method !== 'GET') {
        return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed', { Allow: 'GET' });
      }
      if (path === OPENID_CONFIGURATION_PATH) {
        return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(this.#options.discovery(this.#port)));
      }
      this.#requests++;
      return this.#serveJwks(req, res, this.#takeFault());
    }
    send(res, 404, 'text/plain; charset=utf-8', 'Not Found');
  }

  #takeFault(): JwksFault | null {
    const fault = this.#fault;
    if (fault && --this.#faultRemaining <= 0) this.#fault = null;
    return fault;
  }

  #serveJwks(req: IncomingMessage, res: ServerResponse, fault: JwksFault | null): void {
    switch (fault?.kind) {
      case undefined:
        return this.#sendJwks(res);
      case 'down':
        return send(res, 503, 'text/plain; charset=utf-8', 'Service Unavailable');
      case 'slow': {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          if (!res.destroyed) this.#sendJwks(res);
        }, fault.delayMs);
        this.#timers.add(timer);
        res.once('close', () => { clearTimeout(timer); this.#timers.delete(timer); });
        return;
      }
      case 'garbage':
        return send(res, 200, 'application/json; charset=utf-8', '<html><body>502 Bad Gateway (not JSON)</body></html>');
      case 'status': {
        const empty = fault.status === 204 || fault.status === 304;
        return send(res, fault.status, 'text/plain; charset=utf-8', empty ? '' : STATUS_CODES[fault.status] ?? 'Injected');
      }
      case 'body':
        return send(res, fault.status ?? 200, fault.contentType ?? 'application/json', fault.body);
      case 'huge':
        return this.#sendHuge(res, fault.bytes, fault.contentLength === true);
      case 'destroy':
        req.socket.destroy();
        return;
    }
  }

  #sendJwks(res: ServerResponse): void {
    const extra: Record<string, string> = {};
    if (this.#cacheControl !== null) extra['Cache-Control'] = this.#cacheControl;
    send(res, 200, 'application/json; charset=utf-8', JSON.stringify(this.#options.jwks()), extra);
  }

  #sendHuge(res: ServerResponse, bytes: number, contentLength: boolean): void {
    const prefix = `{"keys":${JSON.stringify(this.#options.jwks().keys)},"padding":"`;
    const suffix = '"}';
    let left = Math.max(0, bytes - Buffer.byteLength(prefix) - suffix.length);
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json; charset=utf-8' };
    if (contentLength) headers['Content-Length'] = Buffer.byteLength(prefix) + left + suffix.length;
    res.writeHead(200, headers);
    res.write(prefix);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    // Honour backpressure so a multi-megabyte body never sits in memory; a client that hangs up
    // (as a verifier enforcing its byte limit should) just ends the loop.
    const pump = (): void => {
      while (left > 0) {
        if (res.destroyed) return;
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end(suffix);
    };
    pump();
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

/** The longest delay setTimeout honours. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Whether Node's HTTP server would send `value` as a header value (else writeHead throws). */
function isHeaderValue(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    validateHeaderValue('x', value);
    return true;
  } catch {
    return false;
  }
}

function validateFault(fault: JwksFault): void {
  const bad = (why: string): never => { throw new TypeError(`setFault: ${why}`); };
  if (typeof fault !== 'object' || fault === null) bad('expected an object or null');
  if (fault.times !== undefined && !(Number.isInteger(fault.times) && fault.times > 0)) bad('times must be a positive integer');
  switch (fault.kind) {
    case 'down': case 'garbage': case 'destroy':
      return;
    case 'slow':
      // setTimeout fires at once (with a warning) past 2^31-1 ms: "never answers" would answer.
      if (!(Number.isFinite(fault.delayMs) && fault.delayMs >= 0 && fault.delayMs <= MAX_DELAY_MS)) {
        bad(`delayMs must be a number of milliseconds from 0 to ${MAX_DELAY_MS} (about 24.8 days)`);
      }
      return;
    case 'status':
      if (!(Number.isInteger(fault.status) && fault.status >= 200 && fault.status <= 599)) bad('status must be an integer from 200 to 599');
      return;
    case 'body':
      if (typeof fault.body !== 'string') bad('body must be a string');
      // Checked now: a bad value would throw inside the request handler and end the process.
      if (fault.contentType !== undefined && !isHeaderValue(fault.contentType)) bad('contentType must be a valid header value');
      if (fault.status !== undefined && !(Number.isInteger(fault.status) && fault.status >= 200 && fault.status <= 599)) bad('status must be an integer from 200 to 599');
      return;
    case 'huge':
      if (!(Number.isInteger(fault.bytes) && fault.bytes >= 0)) bad('bytes must be a non-negative integer');
      return;
    default:
      bad(`unknown kind ${JSON.stringify((fault as { kind?: unknown }).kind)}`);
  }
}
