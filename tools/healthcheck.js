// Container health check without curl: `node tools/healthcheck.js <port> [path]` exits 0 when the app answers 2xx.
const [port = '3000', path = '/healthz'] = process.argv.slice(2);
const timeout = AbortSignal.timeout(3000);
fetch(`http://127.0.0.1:${port}${path}`, { signal: timeout }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
