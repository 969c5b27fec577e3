// The HTTP share targets (ours with a repeated token, as a share of the framework's
// no-auth ceiling), shared by `npm run bench` and `npm run bench:instructions:http`.
export const HTTP_SHARE_TARGETS = { hono: 0.8, express: 0.9 };
