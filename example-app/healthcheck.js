// The container health check (task-definition.json, healthCheck): exit 0 when /health answers 200.
// It uses node because the images this app runs on carry no curl or wget.
import { get } from 'node:http';

const request = get(
  { host: '127.0.0.1', port: process.env.PORT || 8080, path: '/health', timeout: 3000 },
  (response) => {
    response.resume();
    process.exit(response.statusCode === 200 ? 0 : 1);
  },
);
request.on('timeout', () => request.destroy(new Error('no answer within 3 s')));
request.on('error', (error) => {
  console.error(`health check failed: ${error.message}`);
  process.exit(1);
});
