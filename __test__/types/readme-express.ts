// The README's Express example, as a TypeScript user would paste it (strict).
// Checked by __test__/types.test.mjs; keep it in step with README.md.
import express from 'express';
import { auth, requiredScopes, requiredPermissions, claimCheck } from '@example/auth0-native/express';

const domain = 'tenant.auth0.com';
const audience = 'https://api.example.com';
const handler: express.RequestHandler = (req, res) => {
  res.json(req.auth);
};

const app = express();
app.use('/api', auth({ domain, audience }));              // 401/400 with RFC 6750 headers
app.get('/api/messages', requiredScopes('read:messages'), (req, res) => res.json(req.auth));
app.get('/api/admin', requiredPermissions('admin:access'), handler);
app.get('/api/roles', claimCheck((claims) => {
  const roles = claims['https://example.com/roles'];
  return Array.isArray(roles) && roles.includes('admin');
}), handler);
