// Bundles the built CLI into one file, dist/cli.mjs: the package's bin.
//
// Why: the CLI's cold start was mostly Node resolving and loading ~1 000 module files
// (fastify, TypeBox, Ajv, pino...). One bundled file loads in a fraction of that. Two
// dependencies stay outside: better-sqlite3 (a native addon) and @fastify/swagger-ui
// (it serves Swagger UI's files from its own folder).
import { build } from 'esbuild'

await build({
  entryPoints: ['dist/src/cli.js'],
  outfile: 'dist/cli.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', '@fastify/swagger-ui'],
  // The CommonJS packages inside call require(): give the ES module one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
})
