const mode = process.argv[2];
if (mode !== 'none') { const { Auth0Verifier } = await import('@example/auth0-native'); if (mode === 'new') globalThis.v = new Auth0Verifier({ domain: 'x.auth0.com', audience: 'a' }); }
process.once('SIGINT', () => { console.log('sigint'); process.exit(0); });
console.log('ready');
setInterval(() => {}, 1000);
