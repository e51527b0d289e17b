/**
 * The settings every AWS client gets: region, adaptive retries (throttling bursts and 5xx
 * are absorbed by the SDK) and our user agent. Kept apart from the clients themselves so
 * an entry point bundles only the clients it uses.
 */
export const USER_AGENT = 'ecs-deploy-pipeline/0.1.0';

export function clientConfig(region: string, maxRetries: number) {
  return {
    region,
    maxAttempts: maxRetries + 1,
    retryMode: 'adaptive' as const,
    customUserAgent: USER_AGENT,
  };
}
