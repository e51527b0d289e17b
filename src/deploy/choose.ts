/**
 * The one place that decides which deployment strategy a service gets: from its
 * deploymentController.type, its deploymentConfiguration.strategy and the deploy-mode input.
 * Runs, the rollback and the post step all ask here; none branches on the controller.
 *
 * Adding a strategy: write its module in strategies/, add it to STRATEGIES, and add the
 * line in `strategyFor` that picks it. The ECS-native strategies (deploymentController ECS
 * with deploymentConfiguration.strategy BLUE_GREEN, LINEAR or CANARY) go where marked below;
 * until that module exists such a service is deployed with a rolling UpdateService, which
 * ECS carries out with the service's own strategy.
 */
import { UserError } from '../errors.js';
import { serviceProblems } from './native-check.js';
import { isNativeStrategy } from './native.js';
import { codedeployStrategy } from './strategies/codedeploy.js';
import { ecsNativeStrategy } from './strategies/ecs-native.js';
import { rollingStrategy } from './strategies/rolling.js';
import type { DeploymentControllerType, TargetService } from './service.js';
import type { DeploymentStrategy, StrategyName } from './strategy.js';

/** Every strategy, by name (the post step finds a recorded deployment's strategy here). */
export const STRATEGIES: Record<StrategyName, DeploymentStrategy> = {
  codedeploy: codedeployStrategy,
  rolling: rollingStrategy,
  'ecs-native': ecsNativeStrategy,
};

export type ResolvedDeployMode = 'codedeploy' | 'rolling' | 'ecs-native' | 'none';

const CONTROLLER_MODE: Record<DeploymentControllerType, ResolvedDeployMode | undefined> = {
  CODE_DEPLOY: 'codedeploy',
  ECS: 'rolling',
  EXTERNAL: undefined,
};

/**
 * Which deployment this run performs. The service's deployment controller decides what is
 * possible: ECS refuses a task definition change through UpdateService on a CODE_DEPLOY
 * service, and CodeDeploy cannot deploy to an ECS-controlled one.
 */
export function resolveDeployMode(
  requested: 'auto' | 'codedeploy' | 'rolling' | 'ecs-native' | 'none',
  svc: TargetService | undefined,
): ResolvedDeployMode {
  if (requested === 'none') return 'none';
  if (!svc) {
    throw new UserError({
      where: 'deploy-mode',
      what: `deploy-mode '${requested}' deploys to an ECS service, but no service was given.`,
      fix: 'Set the service (and cluster) inputs, or set deploy-mode: none to only build, push and register the task definition.',
    });
  }
  const name = `ECS service '${svc.serviceName}'`;
  const supported = CONTROLLER_MODE[svc.controller];
  if (!supported) {
    throw new UserError({
      where: 'deploy-mode',
      what: `${name} uses the ${svc.controller} deployment controller, which this action cannot deploy through.`,
      fix: 'Set deploy-mode: none to only register the task definition and deploy it with your own controller, or recreate the service with the ECS or CODE_DEPLOY deployment controller.',
    });
  }
  if (requested === 'ecs-native') return explicitNative(svc);
  if (requested === 'auto' || requested === supported) return supported;
  if (requested === 'codedeploy') {
    throw new UserError({
      where: 'deploy-mode',
      what: `deploy-mode is 'codedeploy' but ${name} uses the ECS deployment controller, so CodeDeploy cannot deploy to it.`,
      fix: 'Set deploy-mode: rolling (or auto) to deploy with UpdateService, or recreate the service with deploymentController CODE_DEPLOY and a CodeDeploy application and deployment group for it.',
    });
  }
  throw new UserError({
    where: 'deploy-mode',
    what: `deploy-mode is 'rolling' but ${name} uses the CODE_DEPLOY deployment controller, and ECS only accepts a new task definition for it through CodeDeploy.`,
    fix: 'Set deploy-mode: codedeploy (or auto) for a blue/green deployment through CodeDeploy.',
  });
}

/** deploy-mode: ecs-native on a service not set up for it is refused before any change, naming what is missing. */
function explicitNative(svc: TargetService): ResolvedDeployMode {
  const problems = serviceProblems(svc.service);
  if (problems.length > 0) throw new UserError(problems);
  return 'ecs-native';
}

/**
 * The strategy for a service and deploy-mode; undefined for deploy-mode none. A pull
 * request's preview is a service of its own with the ECS controller, whatever the base
 * service uses, so it is always updated with a rolling UpdateService.
 */
export function chooseStrategy(
  requested: 'auto' | 'codedeploy' | 'rolling' | 'ecs-native' | 'none',
  svc: TargetService | undefined,
  opts: { preview?: boolean } = {},
): DeploymentStrategy | undefined {
  if (opts.preview) return STRATEGIES.rolling;
  const mode = resolveDeployMode(requested, svc);
  return mode === 'none' ? undefined : strategyFor(mode, svc?.service.deploymentConfiguration?.strategy);
}

/**
 * The strategy module for a controller's mode and the service's deployment strategy: an ECS
 * service whose deploymentConfiguration.strategy is BLUE_GREEN, LINEAR or CANARY is deployed
 * (and watched) as ECS-native, since a rolling watch cannot see its stages.
 */
export function strategyFor(
  mode: 'codedeploy' | 'rolling' | 'ecs-native',
  ecsStrategy?: string,
): DeploymentStrategy {
  if (mode === 'rolling' && isNativeStrategy(ecsStrategy)) return STRATEGIES['ecs-native'];
  return STRATEGIES[mode];
}
