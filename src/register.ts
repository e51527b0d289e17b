/** Register: one RegisterTaskDefinition call, its ARN back. */
import {
  RegisterTaskDefinitionCommand,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { UserError } from './errors.js';

export async function registerTaskDefinition(
  ecs: ECSClient,
  input: RegisterTaskDefinitionCommandInput,
): Promise<{ arn: string; revision: number }> {
  try {
    const out = await ecs.send(new RegisterTaskDefinitionCommand(input));
    const td = out.taskDefinition;
    if (!td?.taskDefinitionArn) throw new Error('RegisterTaskDefinition returned no task definition ARN.');
    return { arn: td.taskDefinitionArn, revision: td.revision ?? 0 };
  } catch (e) {
    const err = e as Error;
    if (err.name === 'ClientException' || err.name === 'InvalidParameterException') {
      throw new UserError({
        where: 'task-definition',
        what: `ECS refused the task definition: ${err.message}`,
        fix: 'Correct the field ECS names in your task definition file.',
      });
    }
    if (/iam:PassRole/.test(err.message)) {
      throw new UserError({
        where: 'task-definition',
        what: err.message,
        fix: 'Allow the deploying role iam:PassRole on the task role and execution role, with the condition iam:PassedToService = ecs-tasks.amazonaws.com.',
      });
    }
    throw e;
  }
}
