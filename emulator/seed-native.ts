/**
 * Seeding an ECS-native (BLUE_GREEN, LINEAR, CANARY) service's load balancer: two target groups,
 * an Application Load Balancer with a production and a test listener, and on each a listener rule
 * that forwards to both target groups (100 / 0), as AWS's guide sets it up. Made through the ELB
 * emulator's own operations, so the seed is validated like requests would be.
 */
import type { LoadBalancer } from '@aws-sdk/client-ecs';
import type {
  Listener,
  LoadBalancer as ElbLoadBalancer,
  Rule,
  TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { EmulatorContext } from './context.js';
import type { Elbv2Emulator } from './elbv2.js';
import type { QueryInput } from './query.js';

export interface SeedNativeLoadBalancer {
  containerName: string;
  containerPort: number;
  /** Default `<service>` (at most 26 characters); target groups are `<name>-blue` and `<name>-green`. */
  name?: string;
  /** Default 80. */
  productionPort?: number;
  /** Default 8080; `null`: no test listener and no testListenerRule. */
  testPort?: number | null;
  /** The ECS infrastructure role for load balancers; default `arn:aws:iam::ACCOUNT:role/ecsInfrastructureRoleForLoadBalancers`. */
  roleArn?: string;
  /**
   * Default true. `false` leaves the alternate (green) target group out of the listener rules,
   * to rehearse AWS's "Both targetGroup and alternateTargetGroup must be associated …" rollback.
   */
  attachAlternate?: boolean;
}

/** What a seeded native load balancer is made of, for tests to look at. */
export interface SeededNativeLoadBalancer {
  /** The service's `loadBalancers[0]`, with its advancedConfiguration. */
  loadBalancer: LoadBalancer;
  loadBalancerArn: string;
  productionListenerArn: string;
  testListenerArn?: string;
}

type Ops = Elbv2Emulator['operations'];

function call<T>(ops: Ops, name: keyof Ops, input: QueryInput): T {
  return (ops[name] as (input: QueryInput) => unknown)(input) as T;
}

function forwardRule(ops: Ops, listenerArn: string, targetGroups: { arn: string; weight: number }[]): string {
  const out = call<{ Rules: Rule[] }>(ops, 'CreateRule', {
    ListenerArn: listenerArn,
    Priority: '1',
    Conditions: [{ Field: 'path-pattern', Values: ['/*'] }],
    Actions: [
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: targetGroups.map((t) => ({ TargetGroupArn: t.arn, Weight: String(t.weight) })),
        },
      },
    ],
  });
  return out.Rules[0]?.RuleArn as string;
}

export function seedNativeLoadBalancer(
  ctx: EmulatorContext,
  elbv2: Elbv2Emulator,
  service: string,
  spec: SeedNativeLoadBalancer,
): SeededNativeLoadBalancer {
  const ops = elbv2.operations;
  const name = (spec.name ?? service)
    .slice(0, 26)
    .replace(/[^A-Za-z0-9-]/g, '-')
    .replace(/-+$/, '');
  const testPort = spec.testPort === undefined ? 8080 : spec.testPort;
  const [blue, green] = ['blue', 'green'].map((color) => {
    const out = call<{ TargetGroups: TargetGroup[] }>(ops, 'CreateTargetGroup', {
      Name: `${name}-${color}`,
      Protocol: 'HTTP',
      Port: String(spec.containerPort),
      VpcId: 'vpc-0e0000000000000a1',
      TargetType: 'ip',
    });
    return out.TargetGroups[0]?.TargetGroupArn as string;
  }) as [string, string];
  elbv2.seed(
    {
      loadBalancers: [
        {
          name,
          listeners: [
            { port: spec.productionPort ?? 80 },
            ...(testPort === null ? [] : [{ port: testPort }]),
          ],
        },
      ],
    },
    (_what, step) => step(),
  );
  const lb = call<{ LoadBalancers: ElbLoadBalancer[] }>(ops, 'DescribeLoadBalancers', { Names: [name] })
    .LoadBalancers[0] as ElbLoadBalancer;
  const listeners = call<{ Listeners: Listener[] }>(ops, 'DescribeListeners', {
    LoadBalancerArn: lb.LoadBalancerArn as string,
  }).Listeners;
  const listenerOn = (port: number) => listeners.find((l) => l.Port === port)?.ListenerArn as string;
  const targets = [
    { arn: blue, weight: 100 },
    ...(spec.attachAlternate === false ? [] : [{ arn: green, weight: 0 }]),
  ];
  const productionListenerArn = listenerOn(spec.productionPort ?? 80);
  const testListenerArn = testPort === null ? undefined : listenerOn(testPort);
  const productionListenerRule = forwardRule(ops, productionListenerArn, targets);
  const testListenerRule = testListenerArn ? forwardRule(ops, testListenerArn, targets) : undefined;
  return {
    loadBalancer: {
      targetGroupArn: blue,
      containerName: spec.containerName,
      containerPort: spec.containerPort,
      advancedConfiguration: {
        alternateTargetGroupArn: green,
        productionListenerRule,
        ...(testListenerRule && { testListenerRule }),
        roleArn: spec.roleArn ?? `arn:aws:iam::${ctx.accountId}:role/ecsInfrastructureRoleForLoadBalancers`,
      },
    },
    loadBalancerArn: lb.LoadBalancerArn as string,
    productionListenerArn,
    testListenerArn,
  };
}
