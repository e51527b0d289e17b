/**
 * A stand-in for the GitHub REST API at GITHUB_API_URL, on 127.0.0.1: issue comments kept in
 * memory (list with Link-header paging, create, update), every request recorded with the
 * authorization it carried, and refusals on demand. Enough for Octokit's issues.* calls.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  body?: unknown;
}

export interface IssueComment {
  id: number;
  body: string;
  user: { login: string };
  created_at: string;
  updated_at: string;
}

export interface FakeGitHub {
  /** e.g. http://127.0.0.1:PORT, for GITHUB_API_URL. */
  url: string;
  requests: RecordedRequest[];
  /** Comments by `owner/repo#number`. */
  comments: Map<string, IssueComment[]>;
  /** The next `count` requests are answered with this status and message. */
  refuse(status: number, message: string, count?: number): void;
  /** Requests must carry `token <token>` or `Bearer <token>`; others get 401. */
  token: string;
  stop(): Promise<void>;
}

const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(value));
};

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

export async function startFakeGitHub(opts: { token: string; login?: string }): Promise<FakeGitHub> {
  const requests: RecordedRequest[] = [];
  const comments = new Map<string, IssueComment[]>();
  const refusals: { status: number; message: string }[] = [];
  let nextId = 1000;
  const login = opts.login ?? 'github-actions[bot]';

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(req).catch(() => undefined);
      requests.push({
        method: req.method ?? '',
        path: url.pathname + url.search,
        authorization: req.headers.authorization,
        body,
      });
      const refusal = refusals.shift();
      if (refusal) return json(res, refusal.status, { message: refusal.message });
      const auth = req.headers.authorization ?? '';
      if (auth !== `token ${opts.token}` && auth !== `Bearer ${opts.token}`) {
        return json(res, 401, { message: 'Bad credentials' });
      }

      if (url.pathname === '/user' && req.method === 'GET') {
        // The workflow's token is an installation token: /user is refused, as GitHub does.
        return login.endsWith('[bot]')
          ? json(res, 403, { message: 'Resource not accessible by integration' })
          : json(res, 200, { login });
      }
      const list = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname);
      if (list) {
        const key = `${list[1]}/${list[2]}#${list[3]}`;
        const all = comments.get(key) ?? [];
        if (req.method === 'GET') {
          const perPage = Number(url.searchParams.get('per_page') ?? 30);
          const page = Number(url.searchParams.get('page') ?? 1);
          const last = Math.max(1, Math.ceil(all.length / perPage));
          const headers: Record<string, string> = {};
          if (page < last) {
            const next = new URL(url.toString());
            next.searchParams.set('page', String(page + 1));
            headers.link = `<http://${req.headers.host}${next.pathname}${next.search}>; rel="next"`;
          }
          return json(res, 200, all.slice((page - 1) * perPage, page * perPage), headers);
        }
        if (req.method === 'POST') {
          const text = (body as { body?: unknown } | undefined)?.body;
          if (typeof text !== 'string') return json(res, 422, { message: 'body is required' });
          const now = new Date().toISOString();
          const comment = { id: nextId++, body: text, user: { login }, created_at: now, updated_at: now };
          comments.set(key, [...all, comment]);
          return json(res, 201, comment);
        }
      }
      const one = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname);
      if (one && req.method === 'PATCH') {
        const prefix = `${one[1]}/${one[2]}#`;
        const id = Number(one[3]);
        for (const [key, list] of comments) {
          const found = key.startsWith(prefix) ? list.find((c) => c.id === id) : undefined;
          if (!found) continue;
          const text = (body as { body?: unknown } | undefined)?.body;
          if (typeof text !== 'string') return json(res, 422, { message: 'body is required' });
          found.body = text;
          found.updated_at = new Date().toISOString();
          return json(res, 200, found);
        }
      }
      return json(res, 404, { message: 'Not Found' });
    })().catch((err: unknown) => json(res, 500, { message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    comments,
    token: opts.token,
    refuse(status, message, count = 1) {
      for (let i = 0; i < count; i++) refusals.push({ status, message });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
