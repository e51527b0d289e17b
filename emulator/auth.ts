/**
 * AWS Signature Version 4 verification. The request is signed again with the secret we hold
 * for its access key, over exactly the headers the client says it signed, and the two
 * signatures are compared in constant time. Refusals use the exception types and messages
 * AWS JSON services return, so the SDK reacts as it would against AWS (for instance, it
 * corrects its clock after "Signature expired" using our Date header).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsError } from './errors.js';

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface AuthOptions {
  credentials: ReadonlyMap<string, string>;
  region: string;
  /** Signing names accepted for the service the request targets; any when the endpoint does not serve it. */
  signingNames?: readonly string[];
  /** Real wall-clock ms: signatures are dated by the caller's real clock, not the emulated one. */
  now: number;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

function incomplete(message: string): AwsError {
  return new AwsError('IncompleteSignatureException', message);
}

function parseAuthorization(header: string): ParsedAuthorization {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'.`);
  }
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const name of ['Credential', 'SignedHeaders', 'Signature']) {
    if (!params.get(name)) {
      throw incomplete(`Authorization header requires '${name}' parameter. Authorization=${header}`);
    }
  }
  const scope = (params.get('Credential') as string).split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    throw incomplete(
      `Credential should be scoped to a valid region, and to 'aws4_request'. Credential=${params.get('Credential')}`,
    );
  }
  const [accessKeyId, date, region, service] = scope as [string, string, string, string];
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: (params.get('SignedHeaders') as string).split(';'),
    signature: params.get('Signature') as string,
  };
}

/** `20240102T030405Z` → epoch ms, or undefined when malformed. */
function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
}

function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Returns the access key id of a correctly signed request, or throws the AWS refusal. */
export async function verifySignature(req: SignedRequest, opts: AuthOptions): Promise<string> {
  const authorization = headerValue(req.headers, 'authorization');
  if (!authorization)
    throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const auth = parseAuthorization(authorization);

  const secret = opts.credentials.get(auth.accessKeyId);
  if (secret === undefined) {
    throw new AwsError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }

  const amzDate = headerValue(req.headers, 'x-amz-date');
  if (!amzDate) {
    throw incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`);
  if (signedAt < opts.now - MAX_SKEW_MS) {
    throw new AwsError(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(opts.now - MAX_SKEW_MS)} (${formatAmzDate(opts.now)} - 15 min.)`,
    );
  }
  if (signedAt > opts.now + MAX_SKEW_MS) {
    throw new AwsError(
      'InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(opts.now + MAX_SKEW_MS)} (${formatAmzDate(opts.now)} + 15 min.)`,
    );
  }
  if (auth.date !== amzDate.slice(0, 8)) {
    throw new AwsError(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (auth.region !== opts.region) {
    throw new AwsError(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region. This endpoint serves '${opts.region}', the request was signed for '${auth.region}'.`,
    );
  }
  if (opts.signingNames && !opts.signingNames.includes(auth.service)) {
    throw new AwsError(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${opts.signingNames[0]}'. `,
    );
  }

  // The signer would trust a payload hash the client sent; the body must really have it.
  const payloadHash = headerValue(req.headers, 'x-amz-content-sha256');
  if (payloadHash !== undefined && payloadHash !== createHash('sha256').update(req.body).digest('hex')) {
    throw new AwsError(
      'InvalidSignatureException',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }

  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = headerValue(req.headers, name);
    if (value === undefined) {
      throw new AwsError(
        'InvalidSignatureException',
        `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. (Signed header '${name}' is not in the request.)`,
      );
    }
    headers[name] = value;
  }
  const hostHeader = headerValue(req.headers, 'host') ?? '';
  const request = new HttpRequest({
    method: req.method,
    protocol: 'http:',
    hostname: hostHeader.replace(/:\d+$/, ''),
    path: req.path,
    query: req.query,
    headers,
    body: req.body,
  });
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: secret },
    region: auth.region,
    service: auth.service,
    sha256: Hash.bind(null, 'sha256'),
    // Only what the client signed: the signer must not add a payload-hash header of its own.
    applyChecksum: false,
  });
  const signed = await signer.sign(request, {
    signingDate: new Date(signedAt),
    signableHeaders: new Set(auth.signedHeaders),
  });
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers['authorization']))?.[1] ?? '';
  const a = Buffer.from(expected);
  const b = Buffer.from(auth.signature);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new AwsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return auth.accessKeyId;
}
