/**
 * The IAM actions the action calls, by what the run does. One list, read by the least-
 * privilege policy in example-app/infra (a test checks it) and by anything that prints a
 * policy, so the documentation cannot drift from the code.
 */
export interface PermissionNeeds {
  /** Builds and pushes an image (ECR login, push). */
  build: boolean;
  createRepository: boolean;
  mode: 'codedeploy' | 'rolling' | 'none';
}

export const ECR_PUSH_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
] as const;

/** Actions, grouped by the resource they apply to. */
export function requiredActions(needs: PermissionNeeds): {
  account: string[];
  repository: string[];
  ecs: string[];
  codedeploy: string[];
  passRole: boolean;
} {
  // TagResource: RegisterTaskDefinition with tags needs it.
  const account: string[] = ['ecs:RegisterTaskDefinition', 'ecs:DescribeTaskDefinition', 'ecs:TagResource'];
  const repository: string[] = [];
  if (needs.build) {
    account.push('ecr:GetAuthorizationToken');
    repository.push('ecr:DescribeRepositories', 'ecr:DescribeImages', ...ECR_PUSH_ACTIONS);
    if (needs.createRepository) repository.push('ecr:CreateRepository');
  }
  const ecs: string[] = [];
  const codedeploy: string[] = [];
  if (needs.mode !== 'none') {
    ecs.push('ecs:DescribeServices', 'ecs:ListTasks', 'ecs:DescribeTasks');
  }
  if (needs.mode === 'rolling') ecs.push('ecs:UpdateService');
  if (needs.mode === 'codedeploy') {
    codedeploy.push(
      'codedeploy:GetDeploymentGroup',
      'codedeploy:GetDeploymentConfig',
      'codedeploy:CreateDeployment',
      'codedeploy:GetDeployment',
      'codedeploy:ListDeploymentTargets',
      'codedeploy:GetDeploymentTarget',
      'codedeploy:StopDeployment',
      'codedeploy:RegisterApplicationRevision',
      'codedeploy:GetApplicationRevision',
    );
  }
  return { account, repository, ecs, codedeploy, passRole: true };
}

/** Every action a full run can call, for checks that a policy grants them all. */
export function allActions(needs: PermissionNeeds): string[] {
  const a = requiredActions(needs);
  return [...a.account, ...a.repository, ...a.ecs, ...a.codedeploy, ...(a.passRole ? ['iam:PassRole'] : [])];
}
