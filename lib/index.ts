/**
 * Package root: the native verifier, its error helpers and the Mastra provider.
 * Nothing here requires express, hono or @mastra/core at runtime; the framework middleware
 * lives in the `/express` and `/hono` subpaths.
 */
// `../index.js` is the napi-rs loader at the package root: the same relative path from lib/ and dist/.
export { Auth0Verifier } from '../index.js';
export type { Auth0VerifierOptions, JwtClaims, VerifierStats } from '../index.js';
export { isAuth0VerifyError } from './errors.js';
export type { Auth0VerifyError, Auth0VerifyErrorCode } from './errors.js';
export { MastraAuthAuth0Native } from './mastra.js';
export type { MastraAuthAuth0NativeOptions, MastraAuthRequestLike, MastraMethod, MastraRoutePattern } from './mastra.js';
