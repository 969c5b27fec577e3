import { DEFAULT_REALM } from './challenge.js';

/** How an `auth()` answers: the challenge realm and the app's error hook. */
export interface Responder<Hook> {
  realm: string;
  onError?: Hook;
}

/**
 * How `auth()` answered each request, so the guards after it answer the same way (same realm,
 * same hook). `Request` is the framework's per-request object (Express `req`, Hono `Context`).
 */
export class Responders<Request extends object, Hook> {
  readonly #byRequest = new WeakMap<Request, Responder<Hook>>();
  readonly #default: Responder<Hook> = { realm: DEFAULT_REALM };

  /** The answer style an `auth()` with these options uses (the shared default when it sets none). */
  forOptions(options: { realm?: string; onError?: Hook }): Responder<Hook> {
    if ((options.realm === undefined || options.realm === DEFAULT_REALM) && !options.onError) return this.#default;
    return { realm: options.realm ?? DEFAULT_REALM, onError: options.onError };
  }

  /**
   * Remembers `responder` for `request`. The default is not recorded, since lookups fall back
   * to it: a WeakMap entry per request costs ephemeron work in every GC. It is recorded when it
   * overrides an earlier `auth()` on the same request.
   */
  record(request: Request, responder: Responder<Hook>): void {
    if (responder !== this.#default || this.#byRequest.has(request)) this.#byRequest.set(request, responder);
  }

  /** How `auth()` answered `request`; the default when no `auth()` ran. */
  of(request: Request): Responder<Hook> {
    return this.#byRequest.get(request) ?? this.#default;
  }
}
