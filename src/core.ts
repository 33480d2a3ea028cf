// What dist/core.cjs bundles: the package's API (src/index.ts) and, for the bin and the code
// cache only (dist/index.cjs leaves them out), runCli and mocksBuilt; for the `ai-secret-mock/msw`
// entry only (dist/msw.cjs, dist/msw.mjs), createMswMockWith, which is handed msw by them.
export * from './index.js'
export { runCli } from './cli.js'
export { mocksBuilt } from './app.js'
export { createMswMockWith } from './msw-mock.js'
