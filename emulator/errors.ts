/**
 * A service error as AWS JSON 1.1 puts it on the wire: HTTP status, `x-amzn-ErrorType` and
 * `{"__type": type, "message": …}`. The SDK turns `type` into its exception class, so `type`
 * must be the exact shape name from the service model.
 */
export class AwsError extends Error {
  readonly type: string;
  readonly status: number;
  /** Extra members some exceptions carry (e.g. ECS `ClientException` has none, ECR has `registryId`). */
  readonly fields: Record<string, unknown>;

  constructor(type: string, message: string, status = 400, fields: Record<string, unknown> = {}) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
    this.fields = fields;
  }
}

export function optionalString(
  input: Record<string, unknown>,
  member: string,
  errorType: string,
): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsError(errorType, `${member} must be a string.`);
  return value;
}

export function optionalNumber(
  input: Record<string, unknown>,
  member: string,
  errorType: string,
): number | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new AwsError(errorType, `${member} must be a number.`);
  return value;
}

export function optionalStringList(
  input: Record<string, unknown>,
  member: string,
  errorType: string,
): string[] | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new AwsError(errorType, `${member} must be a list of strings.`);
  }
  return value as string[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
