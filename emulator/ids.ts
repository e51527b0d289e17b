/**
 * Resource identifiers in AWS's formats, drawn from a seeded generator so that the same
 * sequence of calls produces the same ids (tests can compare whole responses run to run).
 */
export class IdGenerator {
  private state = 0x5eed;

  /** mulberry32: small, fast, and good enough for identifiers. */
  private next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  private chars(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  hex(length: number): string {
    return this.chars('0123456789abcdef', length);
  }

  uuid(): string {
    const h = this.hex(32);
    const variant = '89ab'[Math.floor(this.next() * 4)];
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** ECS deployment and task set ids: `ecs-svc/` and 19 digits. */
  ecsDeploymentId(): string {
    return `ecs-svc/${this.chars('123456789', 1)}${this.chars('0123456789', 18)}`;
  }

  /** ECS task ids: 32 hex digits. */
  taskId(): string {
    return this.hex(32);
  }

  /** ECS service deployment ids (the ARN's last part), as in `r9i43YFjvgF_xlg7m2eJ1r`. */
  serviceDeploymentId(): string {
    return this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-', 22);
  }

  /** ECS service revision ids: 19 digits. */
  serviceRevisionId(): string {
    return `${this.chars('123456789', 1)}${this.chars('0123456789', 18)}`;
  }

  /** ECS lifecycle hook execution ids, as in `ecs-pause-Xk7rT2mP…` (43 characters after the prefix). */
  hookId(targetType: 'PAUSE' | 'AWS_LAMBDA'): string {
    const prefix = targetType === 'PAUSE' ? 'ecs-pause-' : 'ecs-lambda-';
    return prefix + this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_', 43);
  }

  /** CodeDeploy deployment ids: `d-` and 9 upper-case letters or digits. */
  codeDeployDeploymentId(): string {
    return `d-${this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 9)}`;
  }
}
