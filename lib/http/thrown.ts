/**
 * An Error standing for a non-Error value a user hook threw (`throw undefined`, `throw 'route'`),
 * so the framework's error path sees an error. The value itself is `cause`.
 */
export function wrapThrown(thrown: unknown): Error {
  return new Error(`auth0-native: a hook threw ${describe(thrown)}, not an Error`, { cause: thrown });
}

// Never calls the value's own toString: it may throw, or have none (Object.create(null)).
function describe(thrown: unknown): string {
  if (typeof thrown === 'string') return JSON.stringify(thrown.length > 40 ? `${thrown.slice(0, 40)}...` : thrown);
  if (thrown === null || (typeof thrown !== 'object' && typeof thrown !== 'function' && typeof thrown !== 'symbol')) return String(thrown);
  return `a ${typeof thrown}`;
}
