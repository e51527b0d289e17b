import {
  CreateDeploymentCommand,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  type CodeDeployClient,
  type CreateDeploymentCommandInput,
  type DeploymentGroupInfo,
} from '@aws-sdk/client-codedeploy';
import { UserError } from '../errors.js';
import { type WaitForActiveOptions, waitUntil } from './active.js';
import { isAwsError, resourceName } from './aws-errors.js';

/** The names the ECS console gives the CodeDeploy application and group it creates for a service. */
export function defaultCodeDeployNames(
  cluster: string,
  service: string,
): { application: string; deploymentGroup: string } {
  const suffix = `${resourceName(cluster)}-${resourceName(service)}`;
  return { application: `AppECS-${suffix}`, deploymentGroup: `DgpECS-${suffix}` };
}

export interface DeploymentGroupTarget {
  application: string;
  deploymentGroup: string;
  /** The config this deployment uses: the one asked for, else the group's own. */
  deploymentConfigName: string;
  readyWaitMinutes: number;
  terminationWaitMinutes: number;
  info: DeploymentGroupInfo;
}

export const BUILT_IN_ECS_CONFIGS = [
  'CodeDeployDefault.ECSAllAtOnce',
  'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
  'CodeDeployDefault.ECSLinear10PercentEvery3Minutes',
  'CodeDeployDefault.ECSCanary10Percent5Minutes',
  'CodeDeployDefault.ECSCanary10Percent15Minutes',
];

// CodeDeploy's own fallback when neither the deployment nor the group names a config.
const DEFAULT_ECS_CONFIG = 'CodeDeployDefault.ECSAllAtOnce';

function nameAdvice(input: string, given: string, defaultName: string): string {
  return given === defaultName
    ? `'${given}' is the default name the ECS console uses (${defaultName.slice(0, 7)}<cluster>-<service>); set the ${input} input to the name of yours.`
    : `Check the ${input} input and the region, or leave it unset to use the console's default '${defaultName}'.`;
}

/**
 * GetDeploymentGroup, checked against the service this run deploys to, and the wait
 * times that decide how long a deployment can take.
 */
export async function getDeploymentGroup(
  cd: CodeDeployClient,
  opts: {
    application: string;
    deploymentGroup: string;
    deploymentConfigName?: string;
    cluster: string;
    service: string;
  },
): Promise<DeploymentGroupTarget> {
  const defaults = defaultCodeDeployNames(opts.cluster, opts.service);
  let out;
  try {
    out = await cd.send(
      new GetDeploymentGroupCommand({
        applicationName: opts.application,
        deploymentGroupName: opts.deploymentGroup,
      }),
    );
  } catch (err) {
    if (isAwsError(err, 'ApplicationDoesNotExistException')) {
      throw new UserError({
        where: 'codedeploy-application',
        what: `CodeDeploy application '${opts.application}' does not exist.`,
        fix: nameAdvice('codedeploy-application', opts.application, defaults.application),
      });
    }
    if (isAwsError(err, 'DeploymentGroupDoesNotExistException')) {
      throw new UserError({
        where: 'codedeploy-deployment-group',
        what: `CodeDeploy deployment group '${opts.deploymentGroup}' does not exist in application '${opts.application}'.`,
        fix: nameAdvice('codedeploy-deployment-group', opts.deploymentGroup, defaults.deploymentGroup),
      });
    }
    throw err;
  }
  const info = out.deploymentGroupInfo;
  if (!info) {
    throw new Error(`GetDeploymentGroup returned no deploymentGroupInfo for '${opts.deploymentGroup}'.`);
  }
  const group = `CodeDeploy deployment group '${opts.application}/${opts.deploymentGroup}'`;
  if (info.computePlatform && info.computePlatform !== 'ECS') {
    throw new UserError({
      where: 'codedeploy-deployment-group',
      what: `${group} is for the ${info.computePlatform} compute platform, not ECS.`,
      fix: 'Set codedeploy-application and codedeploy-deployment-group to the ECS deployment group of this service.',
    });
  }
  const cluster = resourceName(opts.cluster);
  const service = resourceName(opts.service);
  const targets = info.ecsServices ?? [];
  if (!targets.some((t) => t.clusterName === cluster && t.serviceName === service)) {
    const actual = targets.map((t) => `${t.clusterName}/${t.serviceName}`).join(', ') || 'no ECS service';
    throw new UserError({
      where: 'codedeploy-deployment-group',
      what: `${group} targets ${actual}, not ${cluster}/${service}.`,
      fix: `Set codedeploy-application and codedeploy-deployment-group to the group that targets ${cluster}/${service}, or check the cluster and service inputs.`,
    });
  }
  if (opts.deploymentConfigName) await checkDeploymentConfig(cd, opts.deploymentConfigName);
  const blueGreen = info.blueGreenDeploymentConfiguration;
  return {
    application: opts.application,
    deploymentGroup: opts.deploymentGroup,
    deploymentConfigName: opts.deploymentConfigName ?? info.deploymentConfigName ?? DEFAULT_ECS_CONFIG,
    readyWaitMinutes: blueGreen?.deploymentReadyOption?.waitTimeInMinutes ?? 0,
    terminationWaitMinutes:
      blueGreen?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes ?? 0,
    info,
  };
}

async function checkDeploymentConfig(cd: CodeDeployClient, name: string): Promise<void> {
  let out;
  try {
    out = await cd.send(new GetDeploymentConfigCommand({ deploymentConfigName: name }));
  } catch (err) {
    if (isAwsError(err, 'DeploymentConfigDoesNotExistException')) {
      throw new UserError({
        where: 'codedeploy-deployment-config',
        what: `CodeDeploy deployment config '${name}' does not exist.`,
        fix: `Use one of the built-in ECS configs (${BUILT_IN_ECS_CONFIGS.join(', ')}), create '${name}' with compute platform ECS, or leave the input unset to use the deployment group's config.`,
      });
    }
    throw err;
  }
  const platform = out.deploymentConfigInfo?.computePlatform;
  if (platform && platform !== 'ECS') {
    throw new UserError({
      where: 'codedeploy-deployment-config',
      what: `CodeDeploy deployment config '${name}' is for the ${platform} compute platform, not ECS.`,
      fix: `Use an ECS config, such as one of the built-in ${BUILT_IN_ECS_CONFIGS.join(', ')}.`,
    });
  }
}

/**
 * How long a deployment may take before the watch gives up: CodeDeploy reports Succeeded
 * only after the ready wait and the blue tasks' termination wait, so both count on top of
 * the user's own minutes.
 */
export function waitBudgetMs(group: DeploymentGroupTarget, waitForMinutes: number): number {
  return (waitForMinutes + group.readyWaitMinutes + group.terminationWaitMinutes) * 60_000;
}

export function deploymentConsoleUrl(deploymentId: string, region: string): string {
  return `https://console.aws.amazon.com/codesuite/codedeploy/deployments/${encodeURIComponent(deploymentId)}?region=${encodeURIComponent(region)}`;
}

/** CreateDeployment of an AppSpec given inline; returns the deployment id. */
export async function createDeployment(
  cd: CodeDeployClient,
  opts: {
    application: string;
    deploymentGroup: string;
    deploymentConfigName?: string;
    description?: string;
    appSpecContent: { content: string; sha256: string };
    region: string;
    /** When the group is busy: wait this long for its active deployment, then try again. */
    waitForActive?: WaitForActiveOptions;
    /**
     * Whether the group's active deployment is the one this call asked for: a CreateDeployment
     * retried after its answer was lost meets its own deployment, which is then adopted
     * instead of waited for and started a second time.
     */
    isOurs?: (activeDeploymentId: string) => Promise<boolean>;
  },
): Promise<string> {
  const input: CreateDeploymentCommandInput = {
    applicationName: opts.application,
    deploymentGroupName: opts.deploymentGroup,
    revision: {
      revisionType: 'AppSpecContent',
      appSpecContent: { content: opts.appSpecContent.content, sha256: opts.appSpecContent.sha256 },
    },
  };
  if (opts.deploymentConfigName) input.deploymentConfigName = opts.deploymentConfigName;
  if (opts.description) input.description = opts.description;
  const wait = opts.waitForActive;
  const deadline = wait ? wait.clock.now() + wait.timeoutMs : 0;
  for (;;) {
    try {
      const out = await cd.send(new CreateDeploymentCommand(input));
      if (!out.deploymentId) throw new Error('CreateDeployment returned no deploymentId.');
      return out.deploymentId;
    } catch (err) {
      if (!isAwsError(err, 'DeploymentLimitExceededException')) throw err;
      const active = /active Deployment '([^']+)'/i.exec(err.message)?.[1];
      if (active !== undefined && (await opts.isOurs?.(active))) return active;
      if (wait === undefined || active === undefined || wait.clock.now() >= deadline) {
        throw groupBusy(opts, active, err.message);
      }
      wait.log.info(
        `Deployment group ${opts.deploymentGroup} is busy with deployment ${active} (${deploymentConsoleUrl(active, opts.region)}); waiting for it to finish.`,
      );
      await waitUntil(
        async () => {
          const status = (await cd.send(new GetDeploymentCommand({ deploymentId: active }))).deploymentInfo
            ?.status;
          return status === undefined || CODEDEPLOY_DONE.has(status)
            ? `${active} ended: ${status ?? 'gone'}`
            : undefined;
        },
        deadline,
        wait,
      );
    }
  }
}

const CODEDEPLOY_DONE = new Set(['Succeeded', 'Failed', 'Stopped']);

function groupBusy(
  opts: { deploymentGroup: string; region: string; waitForActive?: WaitForActiveOptions },
  active: string | undefined,
  message: string,
): UserError {
  const which = active
    ? `deployment ${active} (${deploymentConsoleUrl(active, opts.region)})`
    : `a deployment (${message})`;
  const waited = opts.waitForActive?.timeoutMs
    ? `, still running after ${Math.round(opts.waitForActive.timeoutMs / 60_000)} min of waiting`
    : '';
  return new UserError({
    where: 'codedeploy-deployment-group',
    what: `CodeDeploy deployment group '${opts.deploymentGroup}' already has an active ${which}${waited}, and a group runs one deployment at a time.`,
    fix: 'Wait for that deployment to finish or stop it, then re-run, or raise wait-for-active-deployment-minutes to queue behind it. To stop runs colliding, give the workflow job a `concurrency:` group per environment (with cancel-in-progress: false) so deployments queue.',
  });
}
