// What dist/core.cjs bundles: the package's API (src/index.ts) and, for the bin and the code
// cache only (dist/index.cjs leaves them out), runCli and mocksBuilt.
export * from './index.js'
export { runCli } from './cli.js'
export { mocksBuilt } from './app.js'
