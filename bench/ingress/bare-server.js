// Baseline (a) of the ingress benchmark: a bare express 5 handler that reads the body (same raw reader and limit
// as the ingress) and answers 202. Plain JavaScript run by plain node, like the built ingress.
import express from 'express';

const app = express();
app.post('/webhooks/heroku/:linkId', express.raw({ type: () => true, limit: 256 * 1024 }), (_req, res) => {
  res.status(202).json({ status: 'accepted' });
});
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
