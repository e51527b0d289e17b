import { describe, expect, it } from '@jest/globals';
import type { Service } from '@aws-sdk/client-ecs';
import { chooseStrategy, STRATEGIES, strategyFor } from '../../../src/deploy/choose.js';
import type { DeploymentControllerType, TargetService } from '../../../src/deploy/service.js';
import { UserError } from '../../../src/errors.js';

function target(controller: DeploymentControllerType, ecsStrategy?: string): TargetService {
  const service = {
    serviceName: 'web',
    deploymentController: { type: controller },
    // Set up for ECS-native (what explicit deploy-mode: ecs-native needs); ignored otherwise.
    loadBalancers: [
      {
        targetGroupArn: 'tg-blue',
        advancedConfiguration: {
          alternateTargetGroupArn: 'tg-green',
          productionListenerRule: 'rule-prod',
          roleArn: 'arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers',
        },
      },
    ],
    ...(ecsStrategy !== undefined && { deploymentConfiguration: { strategy: ecsStrategy } }),
  } as Service;
  return {
    cluster: 'prod',
    serviceName: 'web',
    serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/web',
    status: 'ACTIVE',
    controller,
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:7',
    desiredCount: 1,
    service,
  };
}

describe('chooseStrategy: the one place a service gets its strategy', () => {
  it.each([
    // deploy-mode, controller, deploymentConfiguration.strategy, strategy
    ['auto', 'CODE_DEPLOY', undefined, 'codedeploy'],
    ['codedeploy', 'CODE_DEPLOY', undefined, 'codedeploy'],
    ['auto', 'ECS', undefined, 'rolling'],
    ['auto', 'ECS', 'ROLLING', 'rolling'],
    ['rolling', 'ECS', 'ROLLING', 'rolling'],
    // ECS runs these itself; they are watched through their service deployments.
    ['auto', 'ECS', 'BLUE_GREEN', 'ecs-native'],
    ['auto', 'ECS', 'LINEAR', 'ecs-native'],
    ['auto', 'ECS', 'CANARY', 'ecs-native'],
    ['rolling', 'ECS', 'BLUE_GREEN', 'ecs-native'],
    ['ecs-native', 'ECS', 'BLUE_GREEN', 'ecs-native'],
    ['ecs-native', 'ECS', 'CANARY', 'ecs-native'],
    ['none', 'ECS', undefined, undefined],
    ['none', 'CODE_DEPLOY', undefined, undefined],
    ['none', 'EXTERNAL', undefined, undefined],
  ] as const)('%s on a %s service (strategy %s) → %s', (requested, controller, ecsStrategy, expected) => {
    expect(chooseStrategy(requested, target(controller, ecsStrategy))?.name).toBe(expected);
  });

  it.each(['CODE_DEPLOY', 'ECS'] as const)('a preview of a %s service is a rolling update', (controller) => {
    expect(chooseStrategy('auto', target(controller), { preview: true })?.name).toBe('rolling');
  });

  it.each(['BLUE_GREEN', 'LINEAR', 'CANARY'])(
    'a preview of an ECS-native (%s) service is a rolling update',
    (s) => {
      expect(chooseStrategy('auto', target('ECS', s), { preview: true })?.name).toBe('rolling');
    },
  );

  it('needs no service for deploy-mode none', () => {
    expect(chooseStrategy('none', undefined)).toBeUndefined();
  });

  it.each([
    ['auto', 'EXTERNAL', /EXTERNAL deployment controller/],
    ['codedeploy', 'ECS', /'codedeploy' but .* uses the ECS deployment controller/],
    ['rolling', 'CODE_DEPLOY', /'rolling' but .* uses the CODE_DEPLOY deployment controller/],
    ['ecs-native', 'ECS', /strategy ROLLING \(the default\), not BLUE_GREEN, LINEAR or CANARY/],
    ['ecs-native', 'CODE_DEPLOY', /uses the CODE_DEPLOY deployment controller, not ECS/],
  ] as const)('refuses %s on a %s service, naming deploy-mode', (requested, controller, what) => {
    let err: unknown;
    try {
      chooseStrategy(requested, target(controller));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).problems[0]).toMatchObject({
      where: 'deploy-mode',
      what: expect.stringMatching(what),
    });
  });

  it('every registered strategy is found under its own name', () => {
    for (const [name, strategy] of Object.entries(STRATEGIES)) expect(strategy.name).toBe(name);
    expect(strategyFor('codedeploy')).toBe(STRATEGIES.codedeploy);
    expect(strategyFor('rolling', 'ROLLING')).toBe(STRATEGIES.rolling);
  });
});
