/**
 * Small helpers for reading AWS SDK errors and identifiers. Errors are matched by `name`
 * rather than `instanceof` so that an exception deserialized by another copy of a client
 * package (the bundled action, a test double) is still recognised.
 */

export function isAwsError(err: unknown, ...names: string[]): err is Error {
  return err instanceof Error && names.includes(err.name);
}

// The same codes the SDK's own retry strategy treats as throttling or transient; a watch
// loop keeps polling through them because the SDK already gave up retrying that one call.
const THROTTLING_NAMES = [
  'BandwidthLimitExceeded',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
];
const TIMEOUT_NAMES = ['TimeoutError', 'RequestTimeout', 'RequestTimeoutException'];
const NETWORK_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
];

interface SdkErrorFields {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** Throttling, a 5xx, a timeout or a dropped connection: worth another poll, not a failure. */
export function isTransientError(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 5) return false;
  const e = err as SdkErrorFields;
  if (e.name === 'AbortError') return false;
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : 0;
  return (
    e.$retryable !== undefined ||
    status === 429 ||
    status >= 500 ||
    (typeof e.name === 'string' && (THROTTLING_NAMES.includes(e.name) || TIMEOUT_NAMES.includes(e.name))) ||
    (typeof e.code === 'string' && NETWORK_CODES.includes(e.code)) ||
    isTransientError(e.cause, depth + 1)
  );
}

/** `arn:aws:ecs:…:service/cluster/name` → `name`; a plain name is returned unchanged. */
export function resourceName(nameOrArn: string): string {
  if (!nameOrArn.startsWith('arn:')) return nameOrArn;
  const slash = nameOrArn.lastIndexOf('/');
  return slash >= 0 ? nameOrArn.slice(slash + 1) : nameOrArn;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
