import { Auth0Verifier } from '../../index.js';
import type { Auth0VerifierOptions } from '../../index.js';

/** Either the core's options (a verifier is built from them) or a ready, possibly shared, verifier. */
export type VerifierSource = Auth0VerifierOptions & {
  /**
   * A ready verifier to use instead of building one. Share one between adapters so they share
   * one JWKS cache and token cache. No other verifier option may be given with it.
   */
  verifier?: Auth0Verifier;
};

// `realm` is used by both layers: the core puts it in the challenges it builds, the adapters in
// theirs. Beside a ready verifier it may only repeat the verifier's own: a different one would
// challenge one route with two realms (the core's for bad tokens, the adapter's for missing
// ones), so it is refused. Left out, the adapter takes the verifier's.
const SHARED_KEYS = ['realm'];

/**
 * The verifier an adapter should use. `adapterKeys` are the adapter's own option names: they
 * are not handed to the core, and are the only ones allowed next to `verifier` (with `realm`),
 * so a stray `audience` beside a ready verifier fails loudly instead of being silently ignored.
 */
export function resolveVerifier(options: object, adapterKeys: readonly string[]): Auth0Verifier {
  const coreOptions: Record<string, unknown> = {};
  let verifier: Auth0Verifier | undefined;
  for (const [key, value] of Object.entries(options)) {
    if (key === 'verifier') verifier = value as Auth0Verifier | undefined;
    else if (!adapterKeys.includes(key) && value !== undefined) coreOptions[key] = value;
  }
  if (!verifier) return new Auth0Verifier(coreOptions as Auth0VerifierOptions);
  const stray = Object.keys(coreOptions).filter((key) => !SHARED_KEYS.includes(key));
  if (stray.length > 0) {
    throw new TypeError(`Pass either a verifier or verifier options, not both (got verifier and ${stray.join(', ')})`);
  }
  const realm = coreOptions.realm;
  if (realm !== undefined && realm !== verifier.realm) {
    throw new TypeError(
      `realm ${JSON.stringify(realm)} differs from the verifier's (${JSON.stringify(verifier.realm)}): set it once, on the verifier (new Auth0Verifier({ realm }))`,
    );
  }
  return verifier;
}
