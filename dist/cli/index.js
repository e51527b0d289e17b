#!/usr/bin/env node
import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ // The require scope
/******/ var __nccwpck_require__ = {};
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/************************************************************************/
var __webpack_exports__ = {};

// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  u: () => (/* binding */ USAGE),
  a: () => (/* binding */ runCli)
});

;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:url"
const external_node_url_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:url");
;// CONCATENATED MODULE: external "node:util"
const external_node_util_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util");
;// CONCATENATED MODULE: ./src/errors.ts
function formatProblem(p) {
    return `${p.where}: ${p.what} Fix: ${p.fix}`;
}
/** One or more problems found before anything in AWS was changed. */
class errors_UserError extends Error {
    problems;
    constructor(problems) {
        const list = Array.isArray(problems) ? problems : [problems];
        super(list.map(formatProblem).join('\n'));
        this.name = 'UserError';
        this.problems = list;
    }
}
/** Collects problems so that all of them are reported at once. */
class Problems {
    list = [];
    add(p) {
        this.list.push(p);
    }
    get empty() {
        return this.list.length === 0;
    }
    throwIfAny() {
        if (this.list.length > 0)
            throw new errors_UserError(this.list);
    }
}

;// CONCATENATED MODULE: ./src/deploy/active.ts
/**
 * Another deployment is already running: a second workflow run, a manual deploy, or a
 * rollback. A rolling update started on top of another supersedes it mid-flight, so we wait
 * for it, within a bound, and then deploy; or fail naming it. (CodeDeploy's one-deployment-
 * per-group rule is handled the same way in codedeploy.ts.)
 */



/**
 * Before a rolling update: waits while the service has a deployment IN_PROGRESS that this
 * run did not start, so ours does not supersede it halfway.
 */
async function waitForServiceIdle(ecs, target, opts) {
    const deadline = opts.clock.now() + opts.timeoutMs;
    const inProgress = async () => {
        const svc = (await ecs.send(new DescribeServicesCommand({ cluster: target.cluster, services: [target.service] }))).services?.[0];
        return svc?.deployments?.find((d) => d.rolloutState === 'IN_PROGRESS')?.id;
    };
    const first = await inProgress();
    if (first === undefined)
        return;
    if (opts.timeoutMs <= 0)
        throw serviceBusy(first);
    opts.log.info(`Service ${target.cluster}/${target.service} is busy with deployment ${first}; waiting for it to finish.`);
    const done = await active_waitUntil(async () => ((await inProgress()) === undefined ? 'idle' : undefined), deadline, opts);
    if (done === undefined)
        throw serviceBusy((await inProgress()) ?? first);
    function serviceBusy(id) {
        return new UserError({
            where: 'service',
            what: `Service ${target.cluster}/${target.service} has a deployment in progress (${id}) that this run did not start${opts.timeoutMs > 0 ? `, still running after ${Math.round(opts.timeoutMs / 60_000)} min of waiting` : ''}.`,
            fix: 'Let it finish, or raise wait-for-active-deployment-minutes; give the workflow job a `concurrency:` group so runs queue.',
        });
    }
}
/** Polls `check` until it returns a value or the deadline passes (undefined). */
async function active_waitUntil(check, deadline, opts) {
    while (opts.clock.now() < deadline) {
        await opts.clock.sleep(Math.min(opts.pollIntervalMs, Math.max(0, deadline - opts.clock.now())), opts.signal);
        try {
            const result = await check();
            if (result !== undefined) {
                opts.log.info(result === 'idle' ? 'The other deployment has finished.' : `Deployment ${result}.`);
                return result;
            }
        }
        catch (err) {
            if (!isTransientError(err))
                throw err;
            opts.log.warning(`Checking the other deployment failed for now (${err.name}); trying again.`);
        }
    }
    return undefined;
}
/** wait-for-active-deployment-minutes and poll-interval-seconds, as the waits take them. */
function waitForActiveOptions(config, ctx) {
    return {
        timeoutMs: config.waitForActiveDeploymentMinutes * 60_000,
        pollIntervalMs: config.pollIntervalSeconds * 1000,
        clock: ctx.clock,
        log: ctx.log,
        signal: ctx.signal,
    };
}

;// CONCATENATED MODULE: ./src/deploy/aws-errors.ts
/**
 * Small helpers for reading AWS SDK errors and identifiers. Errors are matched by `name`
 * rather than `instanceof` so that an exception deserialized by another copy of a client
 * package (the bundled action, a test double) is still recognised.
 */
function aws_errors_isAwsError(err, ...names) {
    return err instanceof Error && names.includes(err.name);
}
// The same codes the SDK's own retry strategy treats as throttling or transient; a watch
// loop keeps polling through them because the SDK already gave up retrying that one call.
const THROTTLING_NAMES = (/* unused pure expression or super */ null && ([
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
]));
const TIMEOUT_NAMES = (/* unused pure expression or super */ null && (['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']));
const NETWORK_CODES = (/* unused pure expression or super */ null && ([
    'ECONNRESET',
    'ECONNREFUSED',
    'EPIPE',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'ENOTFOUND',
    'EAI_AGAIN',
]));
/** Throttling, a 5xx, a timeout or a dropped connection: worth another poll, not a failure. */
function aws_errors_isTransientError(err, depth = 0) {
    if (typeof err !== 'object' || err === null || depth > 5)
        return false;
    const e = err;
    if (e.name === 'AbortError')
        return false;
    const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : 0;
    return (e.$retryable !== undefined ||
        status === 429 ||
        status >= 500 ||
        (typeof e.name === 'string' && (THROTTLING_NAMES.includes(e.name) || TIMEOUT_NAMES.includes(e.name))) ||
        (typeof e.code === 'string' && NETWORK_CODES.includes(e.code)) ||
        aws_errors_isTransientError(e.cause, depth + 1));
}
/** `arn:aws:ecs:…:service/cluster/name` → `name`; a plain name is returned unchanged. */
function aws_errors_resourceName(nameOrArn) {
    if (!nameOrArn.startsWith('arn:'))
        return nameOrArn;
    const slash = nameOrArn.lastIndexOf('/');
    return slash >= 0 ? nameOrArn.slice(slash + 1) : nameOrArn;
}
function errorText(err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

;// CONCATENATED MODULE: ./src/deploy/codedeploy.ts




/** The names the ECS console gives the CodeDeploy application and group it creates for a service. */
function defaultCodeDeployNames(cluster, service) {
    const suffix = `${aws_errors_resourceName(cluster)}-${aws_errors_resourceName(service)}`;
    return { application: `AppECS-${suffix}`, deploymentGroup: `DgpECS-${suffix}` };
}
const BUILT_IN_ECS_CONFIGS = (/* unused pure expression or super */ null && ([
    'CodeDeployDefault.ECSAllAtOnce',
    'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
    'CodeDeployDefault.ECSLinear10PercentEvery3Minutes',
    'CodeDeployDefault.ECSCanary10Percent5Minutes',
    'CodeDeployDefault.ECSCanary10Percent15Minutes',
]));
// CodeDeploy's own fallback when neither the deployment nor the group names a config.
const DEFAULT_ECS_CONFIG = 'CodeDeployDefault.ECSAllAtOnce';
function nameAdvice(input, given, defaultName) {
    return given === defaultName
        ? `'${given}' is the default name the ECS console uses (${defaultName.slice(0, 7)}<cluster>-<service>); set the ${input} input to the name of yours.`
        : `Check the ${input} input and the region, or leave it unset to use the console's default '${defaultName}'.`;
}
/**
 * GetDeploymentGroup, checked against the service this run deploys to, and the wait
 * times that decide how long a deployment can take.
 */
async function getDeploymentGroup(cd, opts) {
    const defaults = defaultCodeDeployNames(opts.cluster, opts.service);
    let out;
    try {
        out = await cd.send(new GetDeploymentGroupCommand({
            applicationName: opts.application,
            deploymentGroupName: opts.deploymentGroup,
        }));
    }
    catch (err) {
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
    if (opts.deploymentConfigName)
        await checkDeploymentConfig(cd, opts.deploymentConfigName);
    const blueGreen = info.blueGreenDeploymentConfiguration;
    return {
        application: opts.application,
        deploymentGroup: opts.deploymentGroup,
        deploymentConfigName: opts.deploymentConfigName ?? info.deploymentConfigName ?? DEFAULT_ECS_CONFIG,
        readyWaitMinutes: blueGreen?.deploymentReadyOption?.waitTimeInMinutes ?? 0,
        terminationWaitMinutes: blueGreen?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes ?? 0,
        info,
    };
}
async function checkDeploymentConfig(cd, name) {
    let out;
    try {
        out = await cd.send(new GetDeploymentConfigCommand({ deploymentConfigName: name }));
    }
    catch (err) {
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
function waitBudgetMs(group, waitForMinutes) {
    return (waitForMinutes + group.readyWaitMinutes + group.terminationWaitMinutes) * 60_000;
}
function deploymentConsoleUrl(deploymentId, region) {
    return `https://console.aws.amazon.com/codesuite/codedeploy/deployments/${encodeURIComponent(deploymentId)}?region=${encodeURIComponent(region)}`;
}
/** CreateDeployment of an AppSpec given inline; returns the deployment id. */
async function createDeployment(cd, opts) {
    const input = {
        applicationName: opts.application,
        deploymentGroupName: opts.deploymentGroup,
        revision: {
            revisionType: 'AppSpecContent',
            appSpecContent: { content: opts.appSpecContent.content, sha256: opts.appSpecContent.sha256 },
        },
    };
    if (opts.deploymentConfigName)
        input.deploymentConfigName = opts.deploymentConfigName;
    if (opts.description)
        input.description = opts.description;
    const wait = opts.waitForActive;
    const deadline = wait ? wait.clock.now() + wait.timeoutMs : 0;
    for (;;) {
        try {
            const out = await cd.send(new CreateDeploymentCommand(input));
            if (!out.deploymentId)
                throw new Error('CreateDeployment returned no deploymentId.');
            return out.deploymentId;
        }
        catch (err) {
            if (!isAwsError(err, 'DeploymentLimitExceededException'))
                throw err;
            const active = /active Deployment '([^']+)'/i.exec(err.message)?.[1];
            if (active !== undefined && (await opts.isOurs?.(active)))
                return active;
            if (wait === undefined || active === undefined || wait.clock.now() >= deadline) {
                throw groupBusy(opts, active, err.message);
            }
            wait.log.info(`Deployment group ${opts.deploymentGroup} is busy with deployment ${active} (${deploymentConsoleUrl(active, opts.region)}); waiting for it to finish.`);
            await waitUntil(async () => {
                const status = (await cd.send(new GetDeploymentCommand({ deploymentId: active }))).deploymentInfo
                    ?.status;
                return status === undefined || CODEDEPLOY_DONE.has(status)
                    ? `${active} ended: ${status ?? 'gone'}`
                    : undefined;
            }, deadline, wait);
        }
    }
}
const CODEDEPLOY_DONE = new Set(['Succeeded', 'Failed', 'Stopped']);
function groupBusy(opts, active, message) {
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

;// CONCATENATED MODULE: ./src/iam.ts
/** What a group of actions acts on: one statement of the policy each, in this order. */
const RESOURCE_KINDS = [
    'EcrLogin',
    'EcrRepositories',
    'EcrImages',
    'TaskDefinitions',
    'TagTaskDefinitions',
    'PreviewTaskDefinitions',
    'Cluster',
    'Service',
    'PreviewServices',
    'TagPreviewServices',
    'ListServiceTasks',
    'DescribeServiceTasks',
    'DeploymentGroup',
    'ApplicationRevisions',
    'DeploymentConfig',
    'PassTaskRoles',
    'ReadRoles',
    'SimulateOwnPolicies',
    'LoadBalancers',
    'PreviewListener',
    'PreviewRules',
    'TagPreviewRules',
    'PreviewTargetGroups',
    'TagPreviewTargetGroups',
    'ServiceDeployments',
    'RunTaskDefinitions',
    'OneOffTasks',
    'TagOneOffTasks',
    'TaskLogs',
    'DeleteTaskDefinitions',
    'ContainerLogs',
];
/**
 * docker push, as AWS documents its permissions ("IAM permissions for pushing an image to
 * an Amazon ECR private repository"). These go through the registry, not the ECR API, so
 * no API call shows them. ecr:BatchGetImage is there because the pusher first asks the
 * registry for the manifest it is about to put.
 */
const ECR_PUSH_ACTIONS = [
    'ecr:BatchCheckLayerAvailability',
    'ecr:InitiateLayerUpload',
    'ecr:UploadLayerPart',
    'ecr:CompleteLayerUpload',
    'ecr:PutImage',
    'ecr:BatchGetImage',
];
/** Pulling layers through the registry, when the build pulls from its own repositories (needs.pull). */
const ECR_PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'];
/**
 * What CodeDeploy checks on CreateDeployment besides codedeploy:CreateDeployment, with no
 * call of their own: GetDeploymentConfig on the deployment's config, and GetApplicationRevision
 * or RegisterApplicationRevision on the application (CodeDeploy permissions reference, note
 * 1 to CreateDeployment). RegisterApplicationRevision is the one of the two that also covers
 * a revision the application has not seen yet (each appspec is a new AppSpecContent
 * revision); aws-actions/amazon-ecs-deploy-task-definition documents the same pair.
 */
const CREATE_DEPLOYMENT_ALSO_CHECKS = (/* unused pure expression or super */ null && ([
    'codedeploy:GetDeploymentConfig',
    'codedeploy:RegisterApplicationRevision',
]));
/** The actions of every run these needs describe, grouped by what they act on. */
function requiredActions(needs) {
    const groups = new Map();
    const add = (resource, ...actions) => {
        const set = groups.get(resource) ?? new Set();
        for (const a of actions)
            set.add(a);
        groups.set(resource, set);
    };
    const deploys = needs.mode !== 'none';
    const preview = needs.preview !== undefined;
    const rollback = needs.rollback === true && deploys;
    // Every deploy registers a task definition: the roles it names are passed to ECS, and its
    // tags (the file's own, a preview's) are set as it is created. DescribeTaskDefinition
    // reads the revision a run starts from when no file is given, and the live one a dry run
    // compares with.
    add('TaskDefinitions', 'ecs:DescribeTaskDefinition');
    if (needs.register !== false) {
        add('TaskDefinitions', 'ecs:RegisterTaskDefinition');
        add('TagTaskDefinitions', 'ecs:TagResource');
    }
    add('PassTaskRoles', 'iam:PassRole');
    addTaskActions(add, needs);
    if (needs.build) {
        add('EcrLogin', 'ecr:GetAuthorizationToken');
        // DescribeImages: in an immutable repository, whether this commit's tag exists already.
        add('EcrRepositories', 'ecr:DescribeRepositories', 'ecr:DescribeImages', ...ECR_PUSH_ACTIONS);
        if (needs.createRepository)
            add('EcrRepositories', 'ecr:CreateRepository');
        if (needs.pull)
            add('EcrRepositories', ...ECR_PULL_ACTIONS);
    }
    if (needs.existingImage) {
        // DescribeRepositories: an image whose host is not an ECR host name is matched to the
        // repository whose URI it has.
        add('EcrImages', 'ecr:DescribeRepositories', 'ecr:DescribeImages');
    }
    if (deploys || preview)
        add('Service', 'ecs:DescribeServices');
    if (deploys || preview) {
        // The stopped tasks and their reasons, when a deployment fails.
        add('ListServiceTasks', 'ecs:ListTasks');
        add('DescribeServiceTasks', 'ecs:DescribeTasks');
    }
    if (needs.mode === 'rolling')
        add('Service', 'ecs:UpdateService');
    if (needs.mode === 'codedeploy') {
        add('DeploymentGroup', 'codedeploy:GetDeploymentGroup', 'codedeploy:CreateDeployment', 'codedeploy:GetDeployment', 'codedeploy:ListDeploymentTargets', 'codedeploy:GetDeploymentTarget', 
        // On a timeout, and by the post step when the job is cancelled.
        'codedeploy:StopDeployment');
        add('DeploymentConfig', 'codedeploy:GetDeploymentConfig');
        add('ApplicationRevisions', 'codedeploy:RegisterApplicationRevision');
    }
    if (needs.mode === 'ecs-native')
        addNativeActions(add);
    if (rollback) {
        // The family's previous ACTIVE revision, when nothing newer says what was live before.
        add('TaskDefinitions', 'ecs:ListTaskDefinitions');
        if (needs.mode === 'codedeploy') {
            // The group's history: the deployment in progress to stop, the appspecs of earlier ones.
            add('DeploymentGroup', 'codedeploy:ListDeployments', 'codedeploy:BatchGetDeployments');
        }
    }
    if (needs.preflight) {
        add('Cluster', 'ecs:DescribeClusters');
        // The task definition's roles must exist; the deploying role's own ARN carries its path.
        add('ReadRoles', 'iam:GetRole');
        add('SimulateOwnPolicies', 'iam:SimulatePrincipalPolicy');
    }
    if (preview)
        addPreviewActions(add, needs);
    if (deploys && needs.url) {
        // CodeDeploy names the production listener; a rolling service names its target group.
        add('LoadBalancers', 'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeLoadBalancers');
        if (needs.mode === 'rolling')
            add('LoadBalancers', 'elasticloadbalancing:DescribeTargetGroups');
    }
    // A failed deployment's stopped containers: their last lines, read from their log streams.
    if ((deploys || preview) && (needs.containerLogGroups ?? []).length > 0)
        add('ContainerLogs', 'logs:GetLogEvents');
    return RESOURCE_KINDS.filter((kind) => groups.has(kind)).map((resource) => ({
        resource,
        actions: [...groups.get(resource)].sort(),
    }));
}
/**
 * ECS-native blue/green, linear and canary: UpdateService starts the service deployment, which
 * is found (List), watched (Describe, with its revisions' task definitions), stopped with
 * rollback on a timeout or cancel, and continued at a PAUSE hook (paused-hook). The check
 * reads the listener rules and target groups. No iam:PassRole: a new task definition does not
 * pass the service's infrastructure role again (only a change of its load balancers would).
 */
function addNativeActions(add) {
    add('Service', 'ecs:UpdateService', 'ecs:ListServiceDeployments');
    add('ServiceDeployments', 'ecs:DescribeServiceDeployments', 'ecs:StopServiceDeployment', 'ecs:ContinueServiceDeployment', 'ecs:DescribeServiceRevisions');
    add('LoadBalancers', 'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetGroups');
}
/** The one-off task and revision hygiene. */
function addTaskActions(add, needs) {
    if (needs.task) {
        // RunTask passes the task and execution roles (PassTaskRoles) and tags the task as it
        // starts (its tags, the revision's by propagateTags, and ECS-managed ones).
        add('RunTaskDefinitions', 'ecs:RunTask');
        add('OneOffTasks', 'ecs:DescribeTasks', 'ecs:StopTask');
        add('TagOneOffTasks', 'ecs:TagResource');
        // The post step finds a task whose RunTask answer was lost by its startedBy.
        add('ListServiceTasks', 'ecs:ListTasks');
        add('TaskLogs', 'logs:GetLogEvents');
    }
    if (needs.pruneRevisions) {
        // Which revisions the service's deployments still use: DescribeServices, granted with the deploy.
        add('TaskDefinitions', 'ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition');
        if (needs.pruneRevisions.delete)
            add('DeleteTaskDefinitions', 'ecs:DeleteTaskDefinitions');
    }
}
/** A preview's own service, task definition family, image tags and routing. */
function addPreviewActions(add, needs) {
    add('PreviewServices', 'ecs:DescribeServices', 'ecs:CreateService', 'ecs:UpdateService', 'ecs:DeleteService');
    add('TagPreviewServices', 'ecs:TagResource');
    // A destroy deregisters every revision of the preview's family, then deletes them.
    add('TaskDefinitions', 'ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition');
    add('PreviewTaskDefinitions', 'ecs:DeleteTaskDefinitions');
    if (needs.build)
        add('EcrRepositories', 'ecr:DescribeImages', 'ecr:BatchDeleteImage');
    if (needs.preview?.routing) {
        add('LoadBalancers', 'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags');
        add('PreviewListener', 'elasticloadbalancing:CreateRule');
        add('PreviewRules', 'elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule');
        add('TagPreviewRules', 'elasticloadbalancing:AddTags');
        add('PreviewTargetGroups', 'elasticloadbalancing:CreateTargetGroup', 'elasticloadbalancing:DeleteTargetGroup');
        add('TagPreviewTargetGroups', 'elasticloadbalancing:AddTags');
    }
}
/** Every action the runs can call, once each, sorted: for checks that a policy grants them all. */
function allActions(needs) {
    return [...new Set(requiredActions(needs).flatMap((g) => g.actions))].sort();
}

;// CONCATENATED MODULE: external "node:crypto"
const external_node_crypto_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");
;// CONCATENATED MODULE: ./src/preview/names.ts
/**
 * What a pull request's preview is called, everywhere: service, task definition family,
 * target group, host name, URL, tags, and the marker of its comment. Pure, so deploy and
 * destroy always agree on the names, and a destroy finds exactly what a deploy created.
 */




const PREVIEW_OF_TAG = 'preview-of';
const PULL_REQUEST_TAG = 'pull-request';
/** ECS names: service and task definition family. */
const ECS_NAME_MAX = 255;
/** Elastic Load Balancing target group names. */
const TARGET_GROUP_NAME_MAX = 32;
function previewNames(service, preview) {
    const base = resourceName(service);
    const n = preview.pullRequest;
    const name = `${base}-pr-${n}`;
    if (name.length > ECS_NAME_MAX) {
        throw new UserError({
            where: 'service',
            what: `The preview service name ${name.slice(0, 40)}… would be ${name.length} characters long; ECS allows ${ECS_NAME_MAX}.`,
            fix: `Use a base service whose name is at most ${ECS_NAME_MAX - `-pr-${n}`.length} characters.`,
        });
    }
    const host = preview.domain === undefined ? undefined : `pr-${n}.${preview.domain}`;
    return {
        baseService: base,
        pullRequest: n,
        service: name,
        targetGroup: targetGroupName(base, n),
        imageTagPrefix: previewTagPrefix(n),
        host,
        url: host !== undefined ? `https://${host}` : expandUrl(preview.urlTemplate, base, n),
        tags: [
            { key: PREVIEW_OF_TAG, value: base },
            { key: PULL_REQUEST_TAG, value: String(n) },
        ],
        commentMarker: `<!-- ecs-deploy-pipeline:preview:${base} -->`,
    };
}
/** The preview's task definition family: the base family with `-pr-<N>`. */
function previewFamily(baseFamily, pullRequest) {
    const family = `${baseFamily}-pr-${pullRequest}`;
    if (family.length > ECS_NAME_MAX) {
        throw new UserError({
            where: 'task-definition-family',
            what: `The preview family ${family.slice(0, 40)}… would be ${family.length} characters long; ECS allows ${ECS_NAME_MAX}.`,
            fix: 'Register the task definition under a shorter family (task-definition-family).',
        });
    }
    return family;
}
/**
 * `<service>-pr-<N>` when that is a valid target group name (at most 32 letters, digits and
 * hyphens, no hyphen at either end, not starting with "internal-"); otherwise as much of
 * the service name as fits, a hash of the whole name (so two long names sharing a prefix
 * stay apart), and `-pr-<N>`.
 */
function targetGroupName(service, pullRequest) {
    const suffix = `-pr-${pullRequest}`;
    const plain = `${service}${suffix}`;
    if (plain.length <= TARGET_GROUP_NAME_MAX &&
        /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/.test(plain) &&
        !plain.toLowerCase().startsWith('internal-')) {
        return plain;
    }
    const hash = (0,external_node_crypto_namespaceObject.createHash)('sha256').update(service).digest('hex').slice(0, 6);
    const room = TARGET_GROUP_NAME_MAX - suffix.length - hash.length - 1;
    const head = service
        .replace(/[^A-Za-z0-9]+/g, '-')
        .replace(/^(?:internal-)+/i, '')
        .slice(0, Math.max(0, room))
        .replace(/^-+|-+$/g, '');
    return `${head === '' ? 'pr' : head}-${hash}${suffix}`;
}
/** The preview-url template with {number} and {service} filled in. */
function expandUrl(template, service, pullRequest) {
    return template
        ?.replace(/\{number\}/g, String(pullRequest))
        .replace(/\{service\}/g, encodeURIComponent(service));
}
/** Whether AWS tags (ECS `key`/`value` or ELB `Key`/`Value`) mark this preview. */
function isPreviewTagged(tags, names) {
    const map = new Map((tags ?? []).map((t) => [t.key ?? t.Key, t.value ?? t.Value]));
    return (map.get(PREVIEW_OF_TAG) === names.baseService && map.get(PULL_REQUEST_TAG) === String(names.pullRequest));
}

;// CONCATENATED MODULE: ./src/policy.ts
/**
 * The least-privilege IAM policy for the role that runs this action: every action from
 * src/iam.ts, each on the resources AWS documents for it, so that a user can paste the
 * output and a preflight can simulate exactly that. Pure: no AWS calls.
 *
 * Resource types follow the Service Authorization Reference and the CodeDeploy permissions
 * reference: actions without resource-level permissions get "*", everything else the ARN of
 * this run's repository, cluster, service, task family, deployment group, role, listener or
 * target group.
 */





/** The service ecs:RegisterTaskDefinition passes the task and execution roles to. */
const ECS_TASKS_PRINCIPAL = 'ecs-tasks.amazonaws.com';
/** The ARN partition of a region: aws-cn and aws-us-gov have their own. */
function partitionOf(region) {
    if (region.startsWith('cn-'))
        return 'aws-cn';
    if (region.startsWith('us-gov-'))
        return 'aws-us-gov';
    return 'aws';
}
/** What the preflight reads and simulates for a caller ARN. */
function principalResources(principalArn) {
    const session = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(principalArn);
    if (session) {
        // A session ARN has no role path: it names a role at the root path.
        const role = `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
        return { role, simulated: role };
    }
    if (/^arn:[\w-]+:iam::\d{12}:role\/.+$/.test(principalArn)) {
        return { role: principalArn, simulated: principalArn };
    }
    if (/^arn:[\w-]+:iam::\d{12}:user\/.+$/.test(principalArn))
        return { simulated: principalArn };
    throw new errors_UserError({
        where: 'deploy role',
        what: `${principalArn} is not an IAM role or user ARN, nor a role session ARN.`,
        fix: 'Name the role the action runs as: arn:aws:iam::ACCOUNT:role/NAME (with its path, if it has one).',
    });
}
/**
 * Target group names of a base service's previews, as IAM patterns: `<service>-pr-*`, and
 * for the pull-request numbers whose plain name would pass 32 characters, the shortened
 * form `<head>…-<hash>-pr-*` (see targetGroupName), for numbers of up to ten digits.
 */
function previewTargetGroupPatterns(service) {
    const patterns = new Set();
    const plain = targetGroupName(service, 1);
    if (plain === `${service}-pr-1`)
        patterns.add(`${service}-pr-*`);
    const largest = 9_999_999_999;
    const suffix = `-pr-${largest}`;
    const shortened = targetGroupName(service, largest);
    if (shortened !== `${service}${suffix}`) {
        const stem = shortened.slice(0, -suffix.length);
        const hash = stem.slice(-6);
        // Fewer digits leave room for more of the service name before the hash.
        patterns.add(`${stem.slice(0, -7)}*-${hash}-pr-*`);
    }
    return [...patterns];
}
/**
 * The policy document granting exactly `allActions(input.needs)`, scoped to this run's
 * resources. A statement with nothing to name is left out: iam:PassRole when the task
 * definition names no role, iam:GetRole when there is no role to read, the image checks
 * when the images are in the repositories the run pushes to (granted there already).
 */
function buildPolicy(input) {
    const resources = new RunResources(input);
    const statements = [];
    for (const group of requiredActions(input.needs)) {
        const scoped = SCOPES[group.resource](resources, input);
        if (scoped.Resource.length === 0)
            continue;
        statements.push({ Sid: group.resource, Effect: 'Allow', Action: group.actions, ...scoped });
    }
    return { Version: '2012-10-17', Statement: statements };
}
/** This run's resources as ARNs; each throws a named problem when what it needs is not given. */
class RunResources {
    input;
    cluster;
    service;
    partition;
    constructor(input) {
        this.input = input;
        this.partition = partitionOf(input.region);
        this.cluster = aws_errors_resourceName(input.cluster);
        this.service = input.service === undefined ? undefined : aws_errors_resourceName(input.service);
    }
    arn(service, resource) {
        return `arn:${this.partition}:${service}:${this.input.region}:${this.input.accountId}:${resource}`;
    }
    requireService() {
        if (this.service === undefined) {
            const { needs } = this.input;
            throw new errors_UserError({
                where: 'service',
                what: `${needs.preview ? 'Previews copy a base service' : `Deploy mode ${needs.mode} deploys to a service`}, but no service is named.`,
                fix: 'Name the ECS service (it scopes the service, preview and CodeDeploy statements), or use deploy mode none.',
            });
        }
        return this.service;
    }
    codedeploy() {
        return this.input.codedeploy ?? defaultCodeDeployNames(this.cluster, this.requireService());
    }
    repositoryArns(names) {
        return unique(names).map((r) => this.arn('ecr', `repository/${r}`));
    }
    principal() {
        if (this.input.principalArn === undefined) {
            throw new errors_UserError({
                where: 'deploy role',
                what: 'The preflight reads and simulates the role the action runs as, but no role is named.',
                fix: 'Name the role the action runs as, or leave the preflight out (preflight: false).',
            });
        }
        return principalResources(this.input.principalArn);
    }
    previewServices() {
        return this.arn('ecs', `service/${this.cluster}/${this.requireService()}-pr-*`);
    }
    previewFamilies() {
        return this.arn('ecs', `task-definition/${this.input.taskDefinitionFamily}-pr-*:*`);
    }
    listener() {
        const listenerArn = this.input.previewListenerArn;
        if (listenerArn === undefined || !/:listener\/(app|net)\/[^/]+\/[^/]+\/[^/]+$/.test(listenerArn)) {
            throw new errors_UserError({
                where: 'preview-listener-arn',
                what: listenerArn === undefined
                    ? 'Previews are routed through a load balancer listener, but no listener is named.'
                    : `${listenerArn} is not a load balancer listener ARN.`,
                fix: 'Give the ARN of the listener previews are reached through (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID).',
            });
        }
        return listenerArn;
    }
    previewTargetGroups() {
        return previewTargetGroupPatterns(this.requireService()).map((name) => this.arn('elasticloadbalancing', `targetgroup/${name}/*`));
    }
}
function ecrRepositories(r, input) {
    if (input.repositories.length === 0) {
        throw new errors_UserError({
            where: 'ecr-repository',
            what: 'The run builds and pushes an image, but no ECR repository is named.',
            fix: 'Name the repository the image is pushed to.',
        });
    }
    return { Resource: r.repositoryArns(input.repositories) };
}
function ecrImages(r, input) {
    const images = input.imageRepositories ?? [];
    if (images.length === 0) {
        throw new errors_UserError({
            where: 'image',
            what: 'The run deploys existing images, checked in ECR first, but no ECR repository of theirs is named.',
            fix: 'Name the repositories the images are in (for an image outside ECR nothing is checked: leave existing images out).',
        });
    }
    // Repositories the run pushes to have these reads granted with the push.
    const pushed = new Set(input.needs.build ? input.repositories : []);
    return { Resource: r.repositoryArns(images.filter((name) => !pushed.has(name))) };
}
const onCreate = (key, action) => ({ StringEquals: { [key]: action } });
/** The resources (and conditions) of each kind of statement, for this run. */
const SCOPES = {
    EcrLogin: () => ({ Resource: ['*'] }),
    TaskDefinitions: () => ({ Resource: ['*'] }),
    LoadBalancers: () => ({ Resource: ['*'] }),
    EcrRepositories: ecrRepositories,
    EcrImages: ecrImages,
    // Tags sent with RegisterTaskDefinition, and no tagging of anything else.
    TagTaskDefinitions: (r, input) => ({
        Resource: [
            r.arn('ecs', `task-definition/${input.taskDefinitionFamily}:*`),
            ...(input.needs.preview ? [r.previewFamilies()] : []),
        ],
        Condition: onCreate('ecs:CreateAction', 'RegisterTaskDefinition'),
    }),
    PreviewTaskDefinitions: (r) => ({ Resource: [r.previewFamilies()] }),
    Cluster: (r) => ({ Resource: [r.arn('ecs', `cluster/${r.cluster}`)] }),
    Service: (r) => ({ Resource: [r.arn('ecs', `service/${r.cluster}/${r.requireService()}`)] }),
    PreviewServices: (r) => ({ Resource: [r.previewServices()] }),
    TagPreviewServices: (r) => ({
        Resource: [r.previewServices()],
        Condition: onCreate('ecs:CreateAction', 'CreateService'),
    }),
    // ListTasks is authorized on container instances; the cluster is its condition key.
    ListServiceTasks: (r) => ({
        Resource: ['*'],
        Condition: { ArnEquals: { 'ecs:cluster': r.arn('ecs', `cluster/${r.cluster}`) } },
    }),
    DescribeServiceTasks: (r) => ({ Resource: [r.arn('ecs', `task/${r.cluster}/*`)] }),
    DeploymentGroup: (r) => {
        const cd = r.codedeploy();
        return { Resource: [r.arn('codedeploy', `deploymentgroup:${cd.application}/${cd.deploymentGroup}`)] };
    },
    ApplicationRevisions: (r) => ({
        Resource: [r.arn('codedeploy', `application:${r.codedeploy().application}`)],
    }),
    // CreateDeployment needs GetDeploymentConfig on the config it uses, which is the group's
    // own when none is named: unknown here, so any config of the account.
    DeploymentConfig: (r, input) => ({
        Resource: [r.arn('codedeploy', `deploymentconfig:${input.codedeploy?.deploymentConfigName ?? '*'}`)],
    }),
    PassTaskRoles: (_r, input) => ({
        Resource: unique(input.passRoles),
        Condition: onCreate('iam:PassedToService', ECS_TASKS_PRINCIPAL),
    }),
    ReadRoles: (r, input) => {
        const own = r.principal().role;
        return { Resource: unique([...input.passRoles, ...(own === undefined ? [] : [own])]) };
    },
    SimulateOwnPolicies: (r) => ({ Resource: [r.principal().simulated] }),
    PreviewListener: (r) => ({ Resource: [r.listener()] }),
    PreviewRules: (r) => ({ Resource: [rulesOf(r.listener())] }),
    TagPreviewRules: (r) => ({
        Resource: [rulesOf(r.listener())],
        Condition: onCreate('elasticloadbalancing:CreateAction', 'CreateRule'),
    }),
    PreviewTargetGroups: (r) => ({ Resource: r.previewTargetGroups() }),
    TagPreviewTargetGroups: (r) => ({
        Resource: r.previewTargetGroups(),
        Condition: onCreate('elasticloadbalancing:CreateAction', 'CreateTargetGroup'),
    }),
    // ECS-native: the service's service deployments and the service revisions they move between.
    ServiceDeployments: (r) => ({
        Resource: [
            r.arn('ecs', `service-deployment/${r.cluster}/${r.requireService()}/*`),
            r.arn('ecs', `service-revision/${r.cluster}/${r.requireService()}/*`),
        ],
    }),
    // RunTask from this family's revisions, in this cluster only.
    RunTaskDefinitions: (r, input) => ({
        Resource: [r.arn('ecs', `task-definition/${input.taskDefinitionFamily}:*`)],
        Condition: { ArnEquals: { 'ecs:cluster': r.arn('ecs', `cluster/${r.cluster}`) } },
    }),
    OneOffTasks: (r) => ({ Resource: [r.arn('ecs', `task/${r.cluster}/*`)] }),
    TagOneOffTasks: (r) => ({
        Resource: [r.arn('ecs', `task/${r.cluster}/*`)],
        Condition: onCreate('ecs:CreateAction', 'RunTask'),
    }),
    TaskLogs: (r, input) => ({
        Resource: unique(input.taskLogGroups ?? []).map((g) => r.arn('logs', `log-group:${g}:log-stream:*`)),
    }),
    DeleteTaskDefinitions: (r, input) => ({
        Resource: [r.arn('ecs', `task-definition/${input.taskDefinitionFamily}:*`)],
    }),
    // GetLogEvents is authorized on the log stream: every stream of the groups the task definition names.
    ContainerLogs: (r, input) => ({
        Resource: unique(input.needs.containerLogGroups ?? []).map((g) => r.arn('logs', `log-group:${g}:log-stream:*`)),
    }),
};
/** Every rule of a listener: `listener-rule/app/<lb>/<lb id>/<listener id>/*`. */
function rulesOf(listenerArn) {
    return `${listenerArn.replace(':listener/', ':listener-rule/')}/*`;
}
/** Every action the policy grants. */
function policyActions(policy) {
    return new Set(policy.Statement.flatMap((s) => s.Action));
}
/** The statements as simulation checks; conditions become the context a real call carries. */
function permissionChecks(policy) {
    return policy.Statement.map((s) => ({
        sid: s.Sid,
        actions: [...s.Action],
        resources: [...s.Resource],
        context: Object.values(s.Condition ?? {}).flatMap((keys) => Object.entries(keys).map(([key, value]) => ({ key, values: [value] }))),
    }));
}
/**
 * The part of a policy that grants the given action/resource pairs: the statements to add
 * when only those are missing. Each statement keeps its condition.
 */
function restrictPolicy(policy, missing) {
    const statements = [];
    for (const s of policy.Statement) {
        const hits = missing.filter((m) => s.Action.includes(m.action) && s.Resource.includes(m.resource));
        if (hits.length === 0)
            continue;
        statements.push({
            ...s,
            Action: unique(hits.map((h) => h.action)).sort(),
            Resource: s.Resource.filter((r) => hits.some((h) => h.resource === r)),
        });
    }
    return { Version: policy.Version, Statement: statements };
}
function unique(values) {
    return [...new Set(values)];
}

;// CONCATENATED MODULE: ./src/cli.ts
/**
 * The command line: `ecs-deploy-pipeline policy …` prints the least-privilege IAM policy
 * for the role that runs the action, so it can be created before the first run. runCli is
 * pure (arguments in, text and exit code out); the last lines run it as a program.
 */






const USAGE = `Usage: ecs-deploy-pipeline policy --region REGION --account ACCOUNT_ID --family FAMILY
         --mode codedeploy|rolling|ecs-native|none [--cluster CLUSTER] [--service SERVICE]
         (--deploy-role ROLE | --no-preflight)
         [--repository NAME ...] [--create-repository] [--pull] [--image-repository NAME ...]
         [--application APP] [--deployment-group GROUP] [--deployment-config CONFIG]
         [--pass-role ROLE_ARN ...] [--rollback] [--preview [--preview-listener LISTENER_ARN]]
         [--log-group GROUP ...] [--load-balanced]

Prints the IAM policy (JSON) that the role running the action needs, scoped to these resources.
Give every kind of run the role makes (a build, an existing image, a rollback, previews): the
policy grants what all of them call, and nothing else.

  --region             AWS region, e.g. us-east-1
  --account            the 12-digit AWS account ID
  --family             the task definition family
  --mode               codedeploy (blue/green), rolling (ECS), ecs-native (ECS blue/green, linear, canary), or none (register the task definition only)
  --cluster            the ECS cluster (default: default)
  --service            the ECS service (required unless --mode none); for previews, the base service
  --deploy-role        the role the action runs as (NAME, PATH/NAME or its ARN): the preflight reads it
                       and simulates its policies (preflight: true, the action's default)
  --no-preflight       the workflow sets preflight: false; then no --deploy-role is needed
  --repository         an ECR repository the action pushes to; repeat for several; leave out when it builds nothing
  --create-repository  the action may create the repository (create-repository: true)
  --pull               the build pulls from its --repository too (a cache-from registry cache or a FROM image there);
                       pulls from other repositories need ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on them
  --image-repository   the ECR repository of an existing image the action deploys (the image input); repeat for several
  --application        CodeDeploy application (default: AppECS-<cluster>-<service>)
  --deployment-group   CodeDeploy deployment group (default: DgpECS-<cluster>-<service>)
  --deployment-config  CodeDeploy deployment config (default: any, as the group's own is used)
  --pass-role          the task definition's taskRoleArn or executionRoleArn; repeat for both
  --rollback           rollback runs too (rollback: true)
  --preview            pull-request previews too (preview: deploy and destroy), next to --service
  --preview-listener   the load balancer listener previews are routed through (preview-listener-arn)
  --log-group          an awslogs-group of the task definition: a failed deployment's container logs are
                       read from it (container-log-lines); repeat for several
  --load-balanced      the service is behind a load balancer: its production listener is read for the url output
`;
const OPTIONS = {
    region: { type: 'string' },
    account: { type: 'string' },
    family: { type: 'string' },
    mode: { type: 'string' },
    cluster: { type: 'string' },
    service: { type: 'string' },
    repository: { type: 'string', multiple: true },
    'create-repository': { type: 'boolean' },
    application: { type: 'string' },
    'deployment-group': { type: 'string' },
    'deployment-config': { type: 'string' },
    'pass-role': { type: 'string', multiple: true },
    'deploy-role': { type: 'string' },
    'no-preflight': { type: 'boolean' },
    pull: { type: 'boolean' },
    'image-repository': { type: 'string', multiple: true },
    rollback: { type: 'boolean' },
    preview: { type: 'boolean' },
    'preview-listener': { type: 'string' },
    'log-group': { type: 'string', multiple: true },
    'load-balanced': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
};
const MODES = ['codedeploy', 'rolling', 'ecs-native', 'none'];
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT = /^\d{12}$/;
const FAMILY = /^[A-Za-z0-9_-]{1,255}$/;
const ECS_NAME = /^(?:[A-Za-z0-9_-]{1,255}|arn:aws[\w-]*:ecs:\S+)$/;
const REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const CODEDEPLOY_NAME = /^[A-Za-z0-9_.+=,@-]{1,100}$/;
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
/** A role name, optionally after its path: ci/deploy. */
const ROLE_NAME = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const LISTENER_ARN = /^arn:aws[\w-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[^/]+\/[^/]+\/[^/]+$/;
/** Runs one command line (without `node` and the script) and returns what to print. */
function runCli(argv) {
    const usageError = (errors) => ({
        exitCode: 2,
        stdout: '',
        stderr: `${errors.map((e) => `error: ${e}`).join('\n')}\n\n${USAGE}`,
    });
    let parsed;
    try {
        parsed = parseOptions(argv);
    }
    catch (err) {
        return usageError([err.message]);
    }
    const { values, positionals } = parsed;
    if (values.help || positionals[0] === 'help')
        return { exitCode: 0, stdout: USAGE, stderr: '' };
    if (positionals.length !== 1 || positionals[0] !== 'policy') {
        return usageError([
            positionals.length === 0
                ? 'no command given; the command is policy.'
                : `unknown command "${positionals.join(' ')}"; the command is policy.`,
        ]);
    }
    const errors = [];
    const o = checkOptions(values, errors);
    if (errors.length > 0)
        return usageError(errors);
    let policy;
    try {
        policy = buildPolicy(policyInputOf(values, o));
    }
    catch (err) {
        if (err instanceof errors_UserError)
            return usageError(err.problems.map(formatProblem));
        throw err;
    }
    return {
        exitCode: 0,
        stdout: `${JSON.stringify(policy, null, 2)}\n`,
        stderr: o.passRoles.length === 0
            ? 'note: no --pass-role given, so the policy grants no iam:PassRole; registering a task definition that names a task role or execution role needs it.\n'
            : '',
    };
}
/** The ARN of a role given by name (with or without its path) or by ARN. */
function roleArn(role, region, account) {
    return ROLE_ARN.test(role) ? role : `arn:${partitionOf(region)}:iam::${account}:role/${role}`;
}
const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === (0,external_node_url_namespaceObject.pathToFileURL)((0,external_node_fs_namespaceObject.realpathSync)(invokedPath)).href) {
    const result = runCli(process.argv.slice(2));
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.exitCode;
}
function parseOptions(argv) {
    return (0,external_node_util_namespaceObject.parseArgs)({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}
/** Every option checked; each problem appended to `errors`. */
function checkOptions(values, errors) {
    const required = (name, pattern, shape) => {
        const value = values[name];
        if (value === undefined)
            errors.push(`--${name} is required.`);
        else if (!pattern.test(value))
            errors.push(`--${name} "${value}" is not ${shape}.`);
        return value ?? '';
    };
    const region = required('region', REGION, 'an AWS region such as us-east-1');
    const account = required('account', ACCOUNT, 'a 12-digit AWS account ID');
    const family = required('family', FAMILY, 'a task definition family (letters, digits, - and _)');
    const mode = required('mode', new RegExp(`^(${MODES.join('|')})$`), `one of ${MODES.join(', ')}`);
    const cluster = values.cluster ?? 'default';
    if (!ECS_NAME.test(cluster))
        errors.push(`--cluster "${cluster}" is not a cluster name or ARN.`);
    const service = values.service;
    if (service !== undefined && !ECS_NAME.test(service)) {
        errors.push(`--service "${service}" is not a service name or ARN.`);
    }
    if (service === undefined && (mode === 'codedeploy' || mode === 'rolling' || mode === 'ecs-native')) {
        errors.push(`--mode ${mode} deploys to a service: give --service.`);
    }
    const repositories = values.repository ?? [];
    for (const r of repositories) {
        if (!REPOSITORY.test(r))
            errors.push(`--repository "${r}" is not an ECR repository name.`);
    }
    if (values['create-repository'] && repositories.length === 0) {
        errors.push('--create-repository needs the --repository to create.');
    }
    const codedeployNames = ['application', 'deployment-group', 'deployment-config'].filter((n) => values[n] !== undefined);
    for (const name of codedeployNames) {
        if (mode !== 'codedeploy')
            errors.push(`--${name} applies to --mode codedeploy only.`);
        else if (!CODEDEPLOY_NAME.test(values[name])) {
            errors.push(`--${name} "${values[name]}" is not a CodeDeploy name.`);
        }
    }
    const { passRoles, preflight, deployRole } = checkRoleOptions(values, errors);
    if (values.pull && repositories.length === 0)
        errors.push('--pull needs the --repository the build pulls from.');
    const imageRepositories = values['image-repository'] ?? [];
    for (const r of imageRepositories) {
        if (!REPOSITORY.test(r))
            errors.push(`--image-repository "${r}" is not an ECR repository name.`);
    }
    if (values.rollback && mode === 'none') {
        errors.push('--rollback redeploys through the service: give --mode codedeploy or rolling.');
    }
    if (values.preview && service === undefined) {
        errors.push('--preview runs next to a base service: give --service.');
    }
    const listenerArn = values['preview-listener'];
    if (listenerArn !== undefined && !values.preview) {
        errors.push('--preview-listener routes previews: give --preview too.');
    }
    else if (listenerArn !== undefined && !LISTENER_ARN.test(listenerArn)) {
        errors.push(`--preview-listener "${listenerArn}" is not an Application Load Balancer listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID).`);
    }
    return {
        region,
        account,
        family,
        mode,
        cluster,
        service,
        repositories,
        codedeployNames,
        passRoles,
        preflight,
        deployRole,
        imageRepositories,
        listenerArn,
    };
}
/** --pass-role, --deploy-role and --no-preflight. */
function checkRoleOptions(values, errors) {
    const passRoles = values['pass-role'] ?? [];
    for (const role of passRoles) {
        if (!ROLE_ARN.test(role))
            errors.push(`--pass-role "${role}" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).`);
    }
    const preflight = !(values['no-preflight'] ?? false);
    const deployRole = values['deploy-role'];
    if (deployRole !== undefined && !ROLE_ARN.test(deployRole) && !ROLE_NAME.test(deployRole)) {
        errors.push(`--deploy-role "${deployRole}" is not a role name (NAME or PATH/NAME) or an IAM role ARN.`);
    }
    else if (deployRole !== undefined && !preflight) {
        errors.push('--deploy-role is for the preflight, and --no-preflight leaves it out: give one of them.');
    }
    else if (deployRole === undefined && preflight) {
        errors.push('--deploy-role is required: the preflight (on unless the workflow sets preflight: false) reads and simulates the role the action runs as. Name that role, or give --no-preflight.');
    }
    return { passRoles, preflight, deployRole };
}
/** The policy's input from the checked options. */
function policyInputOf(values, o) {
    const { region, account, family, mode, cluster, service, repositories, codedeployNames } = o;
    const { passRoles, preflight, deployRole, imageRepositories, listenerArn } = o;
    return {
        region,
        accountId: account,
        repositories,
        imageRepositories,
        cluster,
        service,
        taskDefinitionFamily: family,
        ...(mode === 'codedeploy' &&
            codedeployNames.length > 0 && {
            codedeploy: {
                ...defaultCodeDeployNames(cluster, service),
                ...(values.application !== undefined && { application: values.application }),
                ...(values['deployment-group'] !== undefined && { deploymentGroup: values['deployment-group'] }),
                deploymentConfigName: values['deployment-config'],
            },
        }),
        passRoles,
        principalArn: deployRole === undefined ? undefined : roleArn(deployRole, region, account),
        previewListenerArn: listenerArn,
        needs: {
            build: repositories.length > 0,
            createRepository: values['create-repository'] ?? false,
            mode: mode,
            preflight,
            existingImage: imageRepositories.length > 0,
            pull: values.pull ?? false,
            rollback: values.rollback ?? false,
            ...(values.preview && { preview: { routing: listenerArn !== undefined } }),
            containerLogGroups: values['log-group'] ?? [],
            url: values['load-balanced'] ?? false,
        },
    };
}

var __webpack_exports__USAGE = __webpack_exports__.u;
var __webpack_exports__runCli = __webpack_exports__.a;
export { __webpack_exports__USAGE as USAGE, __webpack_exports__runCli as runCli };
