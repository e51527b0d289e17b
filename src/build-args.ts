/**
 * Build args that look like secrets. A build arg is written into the image's history (and its
 * provenance), so anyone who can pull the image can read it; BuildKit secrets are not. Pure:
 * the release stage prints each finding as a warning, never the value.
 */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_?KEY|(^|_)KEY($|_)/i;
const SECRET_VALUE: readonly [RegExp, string][] = [
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/, 'an AWS access key id'],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{20,}/, 'a GitHub token'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
];

/** The warnings for `NAME=value` build args (`where`: build-args or containers.<name>.build-args). */
export function secretLookingBuildArgs(args: readonly string[], where: string): string[] {
  const out: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const value = eq < 0 ? '' : arg.slice(eq + 1);
    const byValue = SECRET_VALUE.find(([re]) => re.test(value))?.[1];
    const why =
      byValue !== undefined ? `its value looks like ${byValue}` : SECRET_NAME.test(name) ? 'its name' : '';
    if (why === '') continue;
    out.push(
      `${where}: the build arg ${name} looks like a secret (${why}). A build arg is stored in the pushed image's history, where anyone who can pull the image reads it. Pass secrets as BuildKit secrets instead: RUN --mount=type=secret,id=${name.toLowerCase()} in the Dockerfile (see "Build args and secrets" in the README).`,
    );
  }
  return out;
}
