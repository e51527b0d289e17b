import { readFileSync } from 'node:fs';
import express from 'express';

const packageJson = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
// APP_VERSION lets a deployment label itself (a commit, a release) so a v1 -> v2 switch shows in the
// response; without it the package version answers.
const version = process.env.APP_VERSION || packageJson.version;
const port = Number(process.env.PORT || 8080);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT=${process.env.PORT} is not a TCP port. Fix: set PORT to a number from 1 to 65535.`);
  process.exit(1);
}
// Longer than an in-flight request needs, shorter than ECS's stopTimeout (30 s), after which ECS
// sends SIGKILL.
const shutdownGraceMs = 10_000;

const app = express();
let shuttingDown = false;

app.get('/', (_req, res) => {
  res.type('text/plain').send(`Hello from ECS! version ${version}\n`);
});

// Answers 503 once shutdown has begun so a load balancer stops sending new requests here.
app.get('/health', (_req, res) => {
  res.status(shuttingDown ? 503 : 200).json({ status: shuttingDown ? 'stopping' : 'ok', version });
});

const server = app.listen(port, () => {
  console.log(`example-app ${version} listening on port ${port}`);
});

// ECS (and `docker stop`) sends SIGTERM. Node as PID 1 has no default handler for it, so without
// this the container would only die by SIGKILL after the stop timeout, cutting requests mid-flight.
function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(`${signal} received: finishing open requests`);
  server.close(() => {
    console.log('stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
  setTimeout(() => {
    console.error(`requests still open after ${shutdownGraceMs} ms: exiting anyway`);
    process.exit(1);
  }, shutdownGraceMs).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
