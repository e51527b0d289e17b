/**
 * ECS-native blue/green, linear and canary deployments: what CreateService and UpdateService
 * accept in `deploymentConfiguration` (strategy, bake times, traffic steps, lifecycle hooks) and
 * in `loadBalancers[].advancedConfiguration`, with the InvalidParameterException messages ECS
 * gives. Pure: no state, no clock.
 */
import type {
  DeploymentConfiguration,
  DeploymentLifecycleHook,
  DeploymentLifecycleHookStage,
  LoadBalancer,
} from '@aws-sdk/client-ecs';
import { AwsError, isRecord } from './errors.js';

export type NativeStrategy = 'BLUE_GREEN' | 'LINEAR' | 'CANARY';

export const STRATEGIES = ['ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY'] as const;

/** The stages a lifecycle hook may run at, in the order a deployment goes through them. */
export const HOOK_STAGES: readonly DeploymentLifecycleHookStage[] = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
];

/** Stages a PAUSE hook cannot wait at: the traffic moves there, it does not stand still. */
const NO_PAUSE_STAGES = new Set<string>(['TEST_TRAFFIC_SHIFT', 'PRODUCTION_TRAFFIC_SHIFT']);

export const LINEAR_DEFAULTS = { stepPercent: 10, stepBakeTimeInMinutes: 6 };
export const CANARY_DEFAULTS = { canaryPercent: 5, canaryBakeTimeInMinutes: 10 };
/** timeoutConfiguration defaults (the SDK model documents 1440 minutes and ROLLBACK). */
export const HOOK_TIMEOUT_DEFAULTS = { timeoutInMinutes: 1440, action: 'ROLLBACK' as const };
const MAX_BAKE_MINUTES = 1440;
const MAX_HOOK_TIMEOUT_MINUTES = 20160;

const invalid = (message: string) => new AwsError('InvalidParameterException', message);

export function isNativeStrategy(strategy: string | undefined): strategy is NativeStrategy {
  return strategy === 'BLUE_GREEN' || strategy === 'LINEAR' || strategy === 'CANARY';
}

/** A number given in tenths (3.0, 12.5): floating-point input must land on a tenth. */
function isTenth(value: number): boolean {
  return Math.abs(value * 10 - Math.round(value * 10)) < 1e-9;
}

function checkMinutes(value: unknown, member: string, max: number, min = 0): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${member} must be an integer between ${min} and ${max}.`);
  }
}

function checkHook(hook: unknown, i: number): void {
  const where = `deploymentConfiguration.lifecycleHooks[${i}]`;
  if (!isRecord(hook)) throw invalid(`${where} must be an object.`);
  const h = hook as DeploymentLifecycleHook;
  const targetType = h.targetType ?? 'AWS_LAMBDA';
  if (targetType !== 'AWS_LAMBDA' && targetType !== 'PAUSE') {
    throw invalid(
      `${where}.targetType '${String(targetType)}' is not valid. Valid values: AWS_LAMBDA, PAUSE.`,
    );
  }
  if (!Array.isArray(h.lifecycleStages) || h.lifecycleStages.length === 0) {
    throw invalid(`${where}.lifecycleStages must name at least one lifecycle stage.`);
  }
  for (const stage of h.lifecycleStages) {
    if (!HOOK_STAGES.includes(stage)) {
      throw invalid(
        `${where}.lifecycleStages: '${String(stage)}' is not a lifecycle hook stage. Valid values: ${HOOK_STAGES.join(', ')}.`,
      );
    }
    if (targetType === 'PAUSE' && NO_PAUSE_STAGES.has(stage)) {
      throw invalid(
        `${where}: a PAUSE lifecycle hook is not supported at the ${stage} lifecycle stage. Use another stage, such as POST_${stage}.`,
      );
    }
  }
  if (targetType === 'AWS_LAMBDA') {
    if (typeof h.hookTargetArn !== 'string' || h.hookTargetArn === '')
      throw invalid(`${where}.hookTargetArn is required for an AWS_LAMBDA lifecycle hook.`);
    if (typeof h.roleArn !== 'string' || h.roleArn === '')
      throw invalid(`${where}.roleArn is required for an AWS_LAMBDA lifecycle hook.`);
  }
  const timeout = h.timeoutConfiguration;
  if (timeout !== undefined && timeout !== null) {
    if (!isRecord(timeout)) throw invalid(`${where}.timeoutConfiguration must be an object.`);
    checkMinutes(
      timeout.timeoutInMinutes,
      `${where}.timeoutConfiguration.timeoutInMinutes`,
      MAX_HOOK_TIMEOUT_MINUTES,
      1,
    );
    if (timeout.action !== undefined && timeout.action !== 'CONTINUE' && timeout.action !== 'ROLLBACK') {
      throw invalid(
        `${where}.timeoutConfiguration.action '${String(timeout.action)}' is not valid. Valid values: CONTINUE, ROLLBACK.`,
      );
    }
  }
}

function checkLinear(config: DeploymentConfiguration): void {
  const linear = config.linearConfiguration;
  if (linear === undefined || linear === null) return;
  if (!isRecord(linear)) throw invalid('deploymentConfiguration.linearConfiguration must be an object.');
  const step = linear.stepPercent;
  if (step !== undefined && (typeof step !== 'number' || step < 3 || step > 100 || !isTenth(step))) {
    throw invalid(
      `deploymentConfiguration.linearConfiguration.stepPercent must be between 3.0 and 100.0 in increments of 0.1, got ${String(step)}.`,
    );
  }
  checkMinutes(
    linear.stepBakeTimeInMinutes,
    'deploymentConfiguration.linearConfiguration.stepBakeTimeInMinutes',
    MAX_BAKE_MINUTES,
  );
}

function checkCanary(config: DeploymentConfiguration): void {
  const canary = config.canaryConfiguration;
  if (canary === undefined || canary === null) return;
  if (!isRecord(canary)) throw invalid('deploymentConfiguration.canaryConfiguration must be an object.');
  const percent = canary.canaryPercent;
  if (percent !== undefined && (typeof percent !== 'number' || percent < 0.1 || percent > 100)) {
    throw invalid(
      `deploymentConfiguration.canaryConfiguration.canaryPercent must be between 0.1 and 100.0, got ${String(percent)}.`,
    );
  }
  checkMinutes(
    canary.canaryBakeTimeInMinutes,
    'deploymentConfiguration.canaryConfiguration.canaryBakeTimeInMinutes',
    MAX_BAKE_MINUTES,
  );
}

/**
 * Checks a service's deployment configuration (after an update is merged into it) and returns
 * it with the strategy's defaults filled in, as DescribeServices then shows it.
 */
export function checkDeploymentStrategy(
  config: DeploymentConfiguration,
  controller: string,
): DeploymentConfiguration {
  const strategy = config.strategy;
  if (strategy !== undefined && !(STRATEGIES as readonly string[]).includes(strategy)) {
    throw invalid(
      `deploymentConfiguration.strategy '${String(strategy)}' is not valid. Valid values: ${STRATEGIES.join(', ')}.`,
    );
  }
  checkMinutes(config.bakeTimeInMinutes, 'deploymentConfiguration.bakeTimeInMinutes', MAX_BAKE_MINUTES);
  checkLinear(config);
  checkCanary(config);
  if (config.lifecycleHooks !== undefined && config.lifecycleHooks !== null) {
    if (!Array.isArray(config.lifecycleHooks))
      throw invalid('deploymentConfiguration.lifecycleHooks must be a list.');
    config.lifecycleHooks.forEach(checkHook);
  }
  if (!isNativeStrategy(strategy)) return config;
  if (controller !== 'ECS') {
    throw invalid(
      `The ${strategy} deployment strategy is only supported for services using the ECS deployment controller.`,
    );
  }
  if (
    strategy === 'BLUE_GREEN' &&
    (config.bakeTimeInMinutes === undefined || config.bakeTimeInMinutes === null)
  ) {
    throw invalid(
      'deploymentConfiguration.bakeTimeInMinutes is required when the deployment strategy is BLUE_GREEN.',
    );
  }
  const out = { ...config };
  if (strategy === 'LINEAR') out.linearConfiguration = { ...LINEAR_DEFAULTS, ...config.linearConfiguration };
  if (strategy === 'CANARY') out.canaryConfiguration = { ...CANARY_DEFAULTS, ...config.canaryConfiguration };
  return out;
}

/**
 * A native strategy moves traffic between two target groups through listener rules: the first
 * load balancer must say which (`advancedConfiguration`).
 */
export function checkNativeLoadBalancers(strategy: string | undefined, loadBalancers: LoadBalancer[]): void {
  for (const [i, lb] of loadBalancers.entries()) {
    const advanced = lb.advancedConfiguration;
    if (advanced === undefined || advanced === null) continue;
    if (!isRecord(advanced)) throw invalid(`loadBalancers[${i}].advancedConfiguration must be an object.`);
    if (!isNativeStrategy(strategy)) {
      throw invalid(
        `loadBalancers[${i}].advancedConfiguration is only supported with the BLUE_GREEN, LINEAR or CANARY deployment strategy.`,
      );
    }
    for (const member of ['alternateTargetGroupArn', 'productionListenerRule', 'roleArn'] as const) {
      if (typeof advanced[member] !== 'string' || advanced[member] === '')
        throw invalid(`loadBalancers[${i}].advancedConfiguration.${member} is required.`);
    }
    if (advanced.alternateTargetGroupArn === lb.targetGroupArn) {
      throw invalid(
        `loadBalancers[${i}].advancedConfiguration.alternateTargetGroupArn must differ from targetGroupArn.`,
      );
    }
  }
  if (!isNativeStrategy(strategy)) return;
  const first = loadBalancers[0];
  if (!first?.targetGroupArn || !first.advancedConfiguration) {
    throw invalid(
      `The ${strategy} deployment strategy requires a load balancer with a targetGroupArn and an advancedConfiguration (alternateTargetGroupArn, productionListenerRule, roleArn).`,
    );
  }
}

/** One production traffic move: green's share after it, and the wait before the next one. */
export interface TrafficStep {
  weight: number;
  bakeMinutesAfter: number;
}

/** How production traffic moves for a strategy: all at once, in linear steps, or canary then the rest. */
export function productionTrafficSteps(config: DeploymentConfiguration): TrafficStep[] {
  if (config.strategy === 'LINEAR') {
    const { stepPercent, stepBakeTimeInMinutes } = { ...LINEAR_DEFAULTS, ...config.linearConfiguration };
    const steps: TrafficStep[] = [];
    for (let k = 1; ; k++) {
      const weight = Math.min(100, Math.round(k * stepPercent * 10) / 10);
      steps.push({ weight, bakeMinutesAfter: weight < 100 ? stepBakeTimeInMinutes : 0 });
      if (weight >= 100) return steps;
    }
  }
  if (config.strategy === 'CANARY') {
    const { canaryPercent, canaryBakeTimeInMinutes } = { ...CANARY_DEFAULTS, ...config.canaryConfiguration };
    if (canaryPercent >= 100) return [{ weight: 100, bakeMinutesAfter: 0 }];
    return [
      { weight: canaryPercent, bakeMinutesAfter: canaryBakeTimeInMinutes },
      { weight: 100, bakeMinutesAfter: 0 },
    ];
  }
  return [{ weight: 100, bakeMinutesAfter: 0 }];
}

/**
 * Listener rule weights (ELB takes integers 0–999) for green's percent: whole percents as they
 * are, fractions (a 0.5 % canary) in tenths, so the ratio stays exact.
 */
export function ruleWeights(greenPercent: number): { blue: number; green: number } {
  if (Number.isInteger(greenPercent)) return { blue: 100 - greenPercent, green: greenPercent };
  return { blue: Math.round((100 - greenPercent) * 10), green: Math.round(greenPercent * 10) };
}
