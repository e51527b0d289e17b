/**
 * The one bundle the runner starts, for both steps of the action: action.yml's `main` is
 * dist/index.js and its `post` is dist/post/index.js, a one-line file that loads this one.
 * Which step this is follows from the file the runner started, never from saved state, so
 * a post step can never start a deployment. Each step's code is loaded only in its step.
 */
const started = process.argv[1] ?? '';
if (/[\\/]post[\\/]index\.js$/.test(started)) await (await import('./post.js')).post();
else await (await import('./main.js')).main();
