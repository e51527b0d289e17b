import { describe, expect, it } from '@jest/globals';
import { ClusterNotFoundException } from '@aws-sdk/client-ecs';
import { isAwsError, isTransientError, resourceName } from '../../../src/deploy/aws-errors.js';
import { sdkError } from './fakes.js';

describe('isTransientError', () => {
  it.each([
    ['ThrottlingException', sdkError('ThrottlingException', 'Rate exceeded', 400)],
    ['TooManyRequestsException', sdkError('TooManyRequestsException', 'slow down', 400)],
    ['HTTP 429', sdkError('Unknown', 'too many', 429)],
    ['HTTP 500', sdkError('ServerException', 'internal', 500)],
    ['HTTP 503', sdkError('ServiceUnavailable', 'unavailable', 503)],
    ['a timeout', Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a DNS failure', Object.assign(new Error('getaddrinfo'), { code: 'EAI_AGAIN' })],
    [
      'a wrapped network error',
      new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
    ],
    ['an error the SDK marked retryable', Object.assign(new Error('x'), { $retryable: {} })],
  ])('is true for %s', (_, err) => {
    expect(isTransientError(err)).toBe(true);
  });

  it.each([
    ['AccessDeniedException', sdkError('AccessDeniedException', 'not authorized', 400)],
    [
      'ClusterNotFoundException',
      new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: { httpStatusCode: 400 } }),
    ],
    ['an AbortError', Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ECONNRESET' })],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'status')")],
    ['a string', 'oops'],
  ])('is false for %s', (_, err) => {
    expect(isTransientError(err)).toBe(false);
  });
});

describe('isAwsError', () => {
  it('matches by name', () => {
    const err = new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} });
    expect(isAwsError(err, 'ServiceNotFoundException', 'ClusterNotFoundException')).toBe(true);
    expect(isAwsError(err, 'ServiceNotFoundException')).toBe(false);
    expect(isAwsError({ name: 'ClusterNotFoundException' }, 'ClusterNotFoundException')).toBe(false);
  });
});

describe('resourceName', () => {
  it.each([
    ['web', 'web'],
    ['arn:aws:ecs:us-east-1:123456789012:cluster/prod', 'prod'],
    ['arn:aws:ecs:us-east-1:123456789012:service/prod/web', 'web'],
    ['arn:aws:ecs:us-east-1:123456789012:service/web', 'web'],
  ])('%s → %s', (input, name) => {
    expect(resourceName(input)).toBe(name);
  });
});
