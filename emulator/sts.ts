/**
 * STS GetCallerIdentity: who the signing credentials belong to (EmulatorOptions.credentials
 * `principalArn`). It needs no permission, as in AWS: even an explicit Deny does not stop it.
 */
import type { IamEmulator } from './iam.js';
import type { QueryCaller, QueryService } from './query.js';

export class StsEmulator implements QueryService {
  readonly service = 'sts';
  readonly signingName = 'sts';
  readonly version = '2011-06-15';
  readonly xmlns = 'https://sts.amazonaws.com/doc/2011-06-15/';
  readonly operations = {
    GetCallerIdentity: (_input: unknown, caller: QueryCaller) => this.iam.callerIdentity(caller.accessKeyId),
  };

  constructor(private readonly iam: IamEmulator) {}
}
