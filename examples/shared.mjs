// What the example servers share, kept out of them so each one shows only its framework's wiring:
// - which tenant to trust: yours (AUTH0_DOMAIN + AUTH0_AUDIENCE) or a local stand-in,
// - how to try the server with curl,
// - the request runner behind `--self-test` and `npm run demo`.
import { startLocalIssuer } from '@example/auth0-native/testing';

/**
 * Your Auth0 tenant when AUTH0_DOMAIN and AUTH0_AUDIENCE are both set; otherwise a local issuer
 * on 127.0.0.1 that signs test tokens (no tenant, no network). Setting only one of the two is a
 * mistake, not a reason to quietly trust a local issuer instead.
 *
 * `verifierOptions` goes to `new Auth0Verifier(...)` or to any adapter's options.
 */
export async function connectTenant() {
  const domain = process.env.AUTH0_DOMAIN;
  const audience = process.env.AUTH0_AUDIENCE;
  if (domain && audience) {
    return { local: false, issuer: undefined, verifierOptions: { domain, audience }, close: async () => {} };
  }
  if (domain || audience) {
    console.error('Set both AUTH0_DOMAIN and AUTH0_AUDIENCE to use your tenant, or neither to use a local test issuer.');
    process.exit(2);
  }
  const issuer = await startLocalIssuer();
  return { local: true, issuer, verifierOptions: issuer.verifierOptions(), close: () => issuer.close() };
}

/** `--self-test` or EXAMPLE_SELF_TEST=1: make a few requests against ourselves, then exit 0/1. */
export const selfTest = process.argv.includes('--self-test') || process.env.EXAMPLE_SELF_TEST === '1';

/** Where to listen: HOST (default loopback only) and PORT, or any free port for a self-test. */
export function listenAddress(defaultPort) {
  return { host: process.env.HOST ?? '127.0.0.1', port: selfTest ? 0 : Number(process.env.PORT ?? defaultPort) };
}

/** The server's base URL; an IPv6 host (HOST=::1) goes in brackets. */
export function serverUrl(host, port) {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The banner every example prints: where it listens, whom it trusts, and what each route needs. */
export function printBanner(title, { url, verifier, routes }) {
  const rows = [
    ['server', url],
    ['issuer', verifier.issuer],
    ['audience', verifier.audiences.join(', ')],
    ['jwks', verifier.jwksUri],
  ];
  console.log(`\n${title}\n`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(9)} ${value}`);
  console.log('\n  routes');
  const width = Math.max(...routes.map((r) => `${r.method} ${r.path}`.length));
  for (const r of routes) console.log(`    ${`${r.method} ${r.path}`.padEnd(width)}   ${r.requires}`);
  console.log('');
}

/**
 * Ready-to-paste curl commands. With the local issuer each carries a freshly minted token (valid
 * one hour); with a real tenant, where tokens come from Auth0, the commands use $TOKEN.
 */
export function printTryIt(url, tenant, tries) {
  console.log('  try it');
  for (const { path, token, note } of tries) {
    const header = token === undefined ? '' : ` -H "Authorization: Bearer ${tenant.local ? token() : '$TOKEN'}"`;
    console.log(`    # ${note}`);
    console.log(`    curl -i${header} ${url}${path}\n`);
  }
  if (!tenant.local) {
    const { domain, audience } = tenant.verifierOptions;
    // AUTH0_DOMAIN may carry a scheme and a trailing slash, as the verifier tolerates.
    const host = domain.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
    console.log('    # get a TOKEN for a machine-to-machine application authorized for this API:');
    console.log(`    curl -s https://${host}/oauth/token -H 'content-type: application/json' \\`);
    console.log(`      -d '{"grant_type":"client_credentials","client_id":"...","client_secret":"...","audience":"${audience}"}'\n`);
  }
  console.log('  Ctrl-C to stop\n');
}

/**
 * Makes each request and prints one aligned line per request: ok/FAIL, who, what, expected and
 * actual status, and what the server said. Resolves to true when every status matched.
 *
 * A check is `{ who, method?, path, token?, authorization?, expect }`: `token` becomes
 * `Authorization: Bearer <token>`, `authorization` is sent verbatim.
 */
export async function runChecks(url, checks) {
  const whoWidth = Math.max(...checks.map((c) => c.who.length));
  const reqWidth = Math.max(...checks.map((c) => `${c.method ?? 'GET'} ${c.path}`.length));
  console.log(`  ${'    '}  ${'who'.padEnd(whoWidth)}  ${'request'.padEnd(reqWidth)}  expect  got  response`);
  let failures = 0;
  for (const check of checks) {
    const method = check.method ?? 'GET';
    const headers = {};
    if (check.token !== undefined) headers.authorization = `Bearer ${check.token}`;
    if (check.authorization !== undefined) headers.authorization = check.authorization;
    let status;
    let detail;
    try {
      const res = await fetch(`${url}${check.path}`, { method, headers });
      status = res.status;
      detail = describeBody(await res.text());
      // A 403 from a scope or permission guard names what was needed in its challenge.
      const needed = /\bscope="([^"]*)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1];
      if (needed) detail += ` (needs ${needed})`;
    } catch (e) {
      status = 'ERR';
      detail = e.cause?.message ?? e.message;
    }
    const ok = status === check.expect;
    if (!ok) failures++;
    console.log(
      `  ${ok ? 'ok  ' : 'FAIL'}  ${check.who.padEnd(whoWidth)}  ${`${method} ${check.path}`.padEnd(reqWidth)}  ` +
        `${String(check.expect).padEnd(6)}  ${String(status).padEnd(3)}  ${detail}`,
    );
  }
  console.log(`\n  ${checks.length - failures}/${checks.length} requests got the expected status`);
  return failures === 0;
}

/** One short line out of a response body: the OAuth error, or who the server saw. */
function describeBody(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return truncate(text);
  }
  if (body && typeof body.error === 'string') {
    return truncate(body.error_description ? `${body.error}: ${body.error_description}` : body.error);
  }
  return truncate(JSON.stringify(body));
}

function truncate(text, max = 80) {
  const line = String(text).replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/**
 * Runs until SIGINT/SIGTERM, or with `selfTest`, runs `checks()` and exits 0/1.
 * `close` stops the HTTP server and the issuer; nothing is killed mid-request.
 */
export async function runOrSelfTest({ url, checks, close }) {
  if (!selfTest) {
    const stop = async () => {
      await close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }
  let ok = false;
  try {
    ok = await runChecks(url, checks());
  } finally {
    await close();
  }
  console.log(ok ? '\nself-test passed' : '\nself-test FAILED');
  process.exitCode = ok ? 0 : 1;
}

/** Closes a node:http server now, dropping idle keep-alive connections (fetch keeps them open). */
export function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
