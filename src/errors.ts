/**
 * Errors the user can act on. Every problem names where it is (an input, or a file and
 * field), what is wrong, and how to fix it. `main` prints each one as an `::error::`
 * annotation (with file and line when known) and fails the step.
 */
export interface Problem {
  /** The action input (`task-definition`) or file field (`appspec.yaml: Resources[0]...`). */
  where: string;
  /** What is wrong, in one sentence. */
  what: string;
  /** What to do about it. */
  fix: string;
  /** For problems inside a file: the file path and 1-based line, for annotations. */
  file?: string;
  line?: number;
  column?: number;
}

export function formatProblem(p: Problem): string {
  return `${p.where}: ${p.what} Fix: ${p.fix}`;
}

/** One or more problems found before anything in AWS was changed. */
export class UserError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem | Problem[]) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.map(formatProblem).join('\n'));
    this.name = 'UserError';
    this.problems = list;
  }
}

/** Collects problems so that all of them are reported at once. */
export class Problems {
  readonly list: Problem[] = [];
  add(p: Problem): void {
    this.list.push(p);
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new UserError(this.list);
  }
}
