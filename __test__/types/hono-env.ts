// Types a Hono app sees through the adapter: which routes may assume an identity.
// Checked by __test__/types.test.mjs (tsc --noEmit); each `@ts-expect-error` must stay an error.
import { Hono } from 'hono';
import { auth, requiredScopes } from '@example/auth0-native/hono';

const options = { domain: 'tenant.auth0.com', audience: 'https://api.example.com' };
const app = new Hono();

// Left out or false: every request past auth() has an identity.
app.get('/a', auth(options), requiredScopes('read:a'), (c) => c.json(c.get('auth').scopes));
app.get('/b', auth({ ...options, optional: false }), (c) => c.json(c.get('auth').scopes));

// true, or a boolean that may be true: the identity may be missing.
app.get('/c', auth({ ...options, optional: true }), (c) => c.json(c.get('auth')?.scopes ?? []));
app.get('/d', auth({ ...options, optional: true }), (c) => {
  // @ts-expect-error: undefined for anonymous requests
  return c.json(c.get('auth').scopes);
});
const allowAnonymous: boolean = process.env.ALLOW_ANONYMOUS === '1';
app.get('/e', auth({ ...options, optional: allowAnonymous }), (c) => {
  // @ts-expect-error: undefined for anonymous requests when allowAnonymous is true
  return c.json(c.get('auth').scopes);
});
