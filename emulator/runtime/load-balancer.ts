/**
 * A local Application Load Balancer for one service: a production listener and a test listener,
 * each a reverse proxy on 127.0.0.1 that forwards every request to a healthy task of the target
 * group live for it (weighted per request while CodeDeploy shifts traffic). Upstreams are the
 * tasks' containers, on 127.0.0.1 as well.
 */
import {
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { chooseRoute, type ListenerName, type Route } from './routing.js';

export interface LoadBalancerOptions {
  cluster: string;
  service: string;
  /** 0 picks a free port. */
  productionPort: number;
  testPort: number;
  /** Where the listener forwards now. */
  routes(listener: ListenerName): Route[];
  /** The host port of a healthy task's container, undefined while it is not serving. */
  port(taskArn: string, containerName: string | undefined): number | undefined;
}

export interface LocalLoadBalancer {
  productionUrl: string;
  testUrl: string;
  close(): Promise<void>;
}

/** Connection-level headers belong to one hop, not to the request forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out = { ...headers };
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startLoadBalancer(opts: LoadBalancerOptions): Promise<LocalLoadBalancer> {
  const handler = (listener: ListenerName) => (req: IncomingMessage, res: ServerResponse) => {
    const targets = opts
      .routes(listener)
      .map((route) => ({
        weight: route.weight,
        ports: route.tasks.flatMap((t) => opts.port(t.taskArn, route.containerName) ?? []),
      }))
      .filter((t) => t.ports.length > 0);
    const chosen = chooseRoute(targets, Math.random());
    if (!chosen) {
      return plain(
        res,
        503,
        `503 Service Unavailable: the ${listener} listener of ${opts.cluster}/${opts.service} has no healthy target.\n`,
      );
    }
    const port = chosen.ports[Math.floor(Math.random() * chosen.ports.length)] as number;
    const upstream = request(
      {
        host: '127.0.0.1',
        port,
        method: req.method,
        path: req.url,
        headers: {
          ...withoutHopByHop(req.headers),
          'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1',
          'x-forwarded-proto': 'http',
          'x-forwarded-port': String(req.socket.localPort),
        },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (res.headersSent) res.destroy(error);
      else plain(res, 502, `502 Bad Gateway: the target on port ${port} failed: ${error.message}\n`);
    });
    req.pipe(upstream);
  };

  const production = createServer(handler('production'));
  const test = createServer(handler('test'));
  try {
    const productionPort = await listen(production, opts.productionPort);
    const testPort = await listen(test, opts.testPort);
    return {
      productionUrl: `http://127.0.0.1:${productionPort}`,
      testUrl: `http://127.0.0.1:${testPort}`,
      close: async () => {
        await Promise.all([close(production), close(test)]);
      },
    };
  } catch (error) {
    await Promise.all([close(production), close(test)]);
    throw error;
  }
}
