/**
 * Where the deployed version answers, for the `url` output (a workflow's `environment: url`,
 * GitHub's "View deployment"): the production listener of the service's load balancer, read
 * with ELBv2 Describe calls. CodeDeploy names the listener in its deployment group; a rolling
 * service names a target group, whose load balancer's listener forwarding to it is the one.
 * Read only; anything missing or denied gives no URL, never a failed run.
 */
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  type Listener,
} from '@aws-sdk/client-elastic-load-balancing-v2';

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

/** `https://dns` (default port left out), `http://dns:8080/` otherwise (pure). */
export function listenerUrl(
  dnsName: string,
  listener: Pick<Listener, 'Protocol' | 'Port'>,
): string | undefined {
  const scheme = listener.Protocol === 'HTTPS' ? 'https' : listener.Protocol === 'HTTP' ? 'http' : undefined;
  if (scheme === undefined || !dnsName) return undefined;
  const port =
    listener.Port !== undefined && listener.Port !== DEFAULT_PORT[scheme] ? `:${listener.Port}` : '';
  return `${scheme}://${dnsName.toLowerCase()}${port}/`;
}

async function dnsNameOf(elb: ElasticLoadBalancingV2Client, loadBalancerArn: string | undefined) {
  if (loadBalancerArn === undefined) return undefined;
  const out = await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [loadBalancerArn] }));
  return out.LoadBalancers?.[0]?.DNSName;
}

/** The URL of a production listener given by ARN (CodeDeploy's prodTrafficRoute). */
export async function urlOfListener(
  elb: ElasticLoadBalancingV2Client,
  listenerArn: string,
): Promise<string | undefined> {
  const listener = (await elb.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] })))
    .Listeners?.[0];
  if (listener === undefined) return undefined;
  const dns = await dnsNameOf(elb, listener.LoadBalancerArn);
  return dns === undefined ? undefined : listenerUrl(dns, listener);
}

const forwardsTo = (l: Listener, targetGroupArn: string) =>
  (l.DefaultActions ?? []).some(
    (a) =>
      a.TargetGroupArn === targetGroupArn ||
      (a.ForwardConfig?.TargetGroups ?? []).some(
        (t) => t.TargetGroupArn === targetGroupArn && (t.Weight ?? 1) > 0,
      ),
  );

/** The URL of the listener whose default action forwards to the service's target group (rolling). */
export async function urlOfTargetGroup(
  elb: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
): Promise<string | undefined> {
  const group = (await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] })))
    .TargetGroups?.[0];
  const loadBalancerArn = group?.LoadBalancerArns?.[0];
  if (loadBalancerArn === undefined) return undefined;
  const listeners =
    (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }))).Listeners ?? [];
  const listener = listeners.find((l) => forwardsTo(l, targetGroupArn));
  if (listener === undefined) return undefined;
  const dns = await dnsNameOf(elb, loadBalancerArn);
  return dns === undefined ? undefined : listenerUrl(dns, listener);
}

/** The production URL of a deployment target: CodeDeploy's listener, else the service's target group. */
export async function deploymentUrl(
  elb: ElasticLoadBalancingV2Client,
  target: { listenerArn?: string; targetGroupArn?: string },
): Promise<string | undefined> {
  if (target.listenerArn !== undefined) return urlOfListener(elb, target.listenerArn);
  if (target.targetGroupArn !== undefined) return urlOfTargetGroup(elb, target.targetGroupArn);
  return undefined;
}
