// dist/post/index.js, action.yml's `post:` step (copied there by `npm run build`): the same
// bundle as the main step; src/index.ts tells the steps apart by this file's path.
import '../index.js';
