// The command from the sources, as `node --import tsx src/bin.ts` (the package's bin is dist/cli.mjs).
import { runCli } from './cli.js'

runCli()
