// Builds what the package ships (package.json "files"), the one build step (`npm run build`):
// the library in both module formats, the CLI, Swagger UI and the bundled declaration file.
// The tests and the bench run the TypeScript sources (tsx) or these files; nothing else is emitted.
//
//   dist/core.cjs         the whole mock, one CommonJS file: src/core.ts (the API of src/index.ts,
//                         and the CLI) and every runtime dependency but better-sqlite3 (a native
//                         addon), so that an install pulls no ESM-only package (Jest and Vitest's
//                         vm pools cannot require() one) and no package whose `engines` excludes Node 20
//   dist/load-core.cjs    loads core.cjs with a V8 code cache (src/code-cache.ts), for both entries
//   dist/index.cjs        the `require` entry: core.cjs's exports but the CLI's
//   dist/index.mjs        the `import` entry: the same module, its exports by name
//   dist/index.d.ts       the declarations, bundled from src/index.ts; they import nothing,
//   dist/index.d.cts      so a consumer needs neither fastify nor @types/better-sqlite3
//   dist/msw.cjs          the `ai-secret-mock/msw` entry (src/msw.ts), for each module format:
//   dist/msw.mjs          core.cjs's createMswMockWith, handed the caller's own msw (require or
//                         import): the one place msw is loaded, and no copy of the mock
//   dist/msw.d.ts         its declarations, bundled from src/msw.ts; they import msw's types only
//   dist/msw.d.cts
//   dist/cli.mjs          the bin (package.json "bin"): runCli of core.cjs
//   dist/swagger-ui.cjs   @fastify/swagger-ui and what it needs, loaded on the first /docs
//   dist/swagger-ui/      request, and the Swagger UI files it serves (static/)
//   dist/self-signed.cjs  src/self-signed.ts and @peculiar/x509, loaded when TLS is asked for a
//                         certificate made at start-up (half a megabyte a plain start never reads)
//   dist/THIRD-PARTY-LICENSES.txt  the licences of the bundled packages
//
// Why one bundled file: a cold start was mostly Node resolving and loading ~1 000 module files
// (bench/README.md); why a code cache: `npm run bench` measures start-up with and without it.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { chmodSync, cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const DIST = join(ROOT, 'dist')
const SWAGGER_UI = join(ROOT, 'node_modules', '@fastify', 'swagger-ui')
process.chdir(ROOT)

// Everything this script writes, and what earlier versions of it wrote (tsc's dist/src, cli.cjs).
for (const f of [
  'src',
  'core.cjs',
  'load-core.cjs',
  'index.cjs',
  'index.mjs',
  'index.d.ts',
  'index.d.cts',
  'msw.cjs',
  'msw.mjs',
  'msw.d.ts',
  'msw.d.cts',
  'cli.cjs',
  'cli.mjs',
]) {
  rmSync(join(DIST, f), { recursive: true, force: true })
}
for (const f of [
  'swagger-ui.cjs',
  'swagger-ui',
  'self-signed.cjs',
  'THIRD-PARTY-LICENSES.txt',
  'core.cjs.map',
  'swagger-ui.cjs.map',
  'self-signed.cjs.map',
]) {
  rmSync(join(DIST, f), { recursive: true, force: true })
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // ASCII only: src/code-cache.ts reads core.cjs as latin1 (see checkAscii).
  charset: 'ascii',
  // The licences are in THIRD-PARTY-LICENSES.txt.
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // BUNDLE_SOURCEMAP=1: dist/*.cjs.map beside the bundles, for profiling (`node --cpu-prof`, then
  // map positions back to src/ and node_modules/); not referenced from the files, not shipped.
  sourcemap: process.env.BUNDLE_SOURCEMAP === '1' ? 'external' : false,
  // src/paths.ts finds the package root from import.meta.url, which a CommonJS file does not have.
  define: { 'import.meta.url': '__import_meta_url' },
  banner: { js: "var __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
}

/** Swagger UI is loaded on the first /docs request (src/plugins/docs.ts), from a bundle of its own. */
const swaggerUiOutside = {
  name: 'swagger-ui-outside',
  setup(b) {
    b.onResolve({ filter: /^@fastify\/swagger-ui$/ }, () => ({ path: 'swagger-ui', namespace: 'swagger-ui-outside' }))
    b.onResolve({ filter: /^\.\/swagger-ui\.cjs$/ }, () => ({ path: './swagger-ui.cjs', external: true }))
    // A CommonJS module of the bundle, so that import() of it becomes a require() on first use.
    b.onLoad({ filter: /.*/, namespace: 'swagger-ui-outside' }, () => ({
      contents: "module.exports = require('./swagger-ui.cjs')",
      loader: 'js',
    }))
  },
}

/** The certificate maker is loaded by src/tls.ts on first use, from a bundle of its own, as Swagger UI is. */
const selfSignedOutside = {
  name: 'self-signed-outside',
  setup(b) {
    b.onResolve({ filter: /^\.\/self-signed\.js$/ }, () => ({ path: 'self-signed', namespace: 'self-signed-outside' }))
    b.onResolve({ filter: /^\.\/self-signed\.cjs$/ }, () => ({ path: './self-signed.cjs', external: true }))
    b.onLoad({ filter: /.*/, namespace: 'self-signed-outside' }, () => ({
      contents: "module.exports = require('./self-signed.cjs')",
      loader: 'js',
    }))
  },
}

/**
 * In the Swagger UI bundle, `__dirname` is dist/: each file of @fastify/swagger-ui gets the
 * folder it had in the package, under dist/swagger-ui/, where its static/ files are copied.
 */
const swaggerUiDirname = {
  name: 'swagger-ui-dirname',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]@fastify[\\/]swagger-ui[\\/].*\.js$/ }, (args) => {
      const dir = relative(SWAGGER_UI, dirname(args.path)).split('\\').join('/') || '.'
      const contents = readFileSync(args.path, 'utf8').replace(
        /\b__dirname\b/g,
        `require('node:path').join(__dirname, 'swagger-ui', ${JSON.stringify(dir)})`,
      )
      return { contents, loader: 'js' }
    })
  },
}

// The two declaration bundles take most of the build's time (dts-bundle-generator runs the
// TypeScript compiler over the sources, and over msw's types for the msw entry): they run as
// child processes beside the bundles below, not one after the other.
const dtsBundle = (args) =>
  promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'dts-bundle-generator', 'dist', 'bin', 'dts-bundle-generator.js'),
      '--silent',
      '--no-banner',
      '--no-check',
      ...args,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  )
// BUNDLE_DECLARATIONS=off leaves them out: the Docker image runs the code and ships no types.
const WITH_DECLARATIONS = process.env.BUNDLE_DECLARATIONS !== 'off'
const declarations = WITH_DECLARATIONS
  ? Promise.all([
      dtsBundle(['-o', 'dist/index.d.ts', 'src/index.ts']),
      dtsBundle(['--project', 'scripts/msw-dts.tsconfig.json', '-o', 'dist/msw.d.ts', 'src/msw.ts']),
    ])
  : Promise.resolve()
// (Awaited below; a rejection before then is not an unhandled one.)
declarations.catch(() => {})

const results = await Promise.all([
  build({
    ...common,
    entryPoints: ['src/core.ts'],
    outfile: 'dist/core.cjs',
    external: ['better-sqlite3'],
    plugins: [swaggerUiOutside, selfSignedOutside],
    // A third less to read, decode and keep in memory at each start; names stay, so stack traces still read.
    minifyWhitespace: true,
    minifySyntax: true,
  }),
  build({
    ...common,
    stdin: {
      // The code cache is kept from runs that built a mock (see CodeCacheOptions.worthKeeping).
      contents:
        "const { join } = require('node:path')\n" +
        "const { codeCacheDir, loadWithCodeCache } = require('./code-cache.ts')\n" +
        "const core = loadWithCodeCache(join(__dirname, 'core.cjs'), codeCacheDir(), () => require('./core.cjs'), {\n" +
        '  worthKeeping: () => core.mocksBuilt() > 0,\n' +
        '})\n' +
        'module.exports = core\n',
      resolveDir: join(ROOT, 'src'),
      sourcefile: 'load-core.cjs',
      loader: 'js',
    },
    outfile: 'dist/load-core.cjs',
    external: ['./core.cjs'],
  }),
  build({
    ...common,
    entryPoints: [join(SWAGGER_UI, 'index.js')],
    outfile: 'dist/swagger-ui.cjs',
    plugins: [swaggerUiDirname],
  }),
  build({
    ...common,
    entryPoints: ['src/self-signed.ts'],
    outfile: 'dist/self-signed.cjs',
    minifyWhitespace: true,
    minifySyntax: true,
  }),
])
// Swagger UI's own files, but swagger-ui.js: the page loads swagger-ui-bundle.js, which holds it.
cpSync(join(SWAGGER_UI, 'static'), join(DIST, 'swagger-ui', 'static'), {
  recursive: true,
  filter: (f) => !f.endsWith(join('static', 'swagger-ui.js')),
})

checkAscii(join(DIST, 'core.cjs'))
checkAscii(join(DIST, 'self-signed.cjs'))
checkOnly(results[0].metafile, 'dist/core.cjs', ['better-sqlite3', './swagger-ui.cjs', './self-signed.cjs'])
checkOnly(results[1].metafile, 'dist/load-core.cjs', ['./core.cjs'])
checkOnly(results[3].metafile, 'dist/self-signed.cjs', [])

/** What core.cjs exports for the bin, the code cache and the msw entry only: not part of the package's API. */
const INTERNAL = ['runCli', 'mocksBuilt', 'createMswMockWith']
writeFileSync(
  join(DIST, 'index.cjs'),
  `const { ${INTERNAL.join(', ')}, ...api } = require('./load-core.cjs')\n\nmodule.exports = api\n`,
)
// The `import` entry: the CommonJS module through createRequire (importing it would make Node
// scan the whole 2 MB file for its export names first), its exports by name.
const names = Object.keys(createRequire(import.meta.url)(join(DIST, 'index.cjs'))).sort()
writeFileSync(
  join(DIST, 'index.mjs'),
  "import { createRequire } from 'node:module'\n\n" +
    "const mock = createRequire(import.meta.url)('./index.cjs')\n\n" +
    `export const { ${names.join(', ')} } = mock\n`,
)
writeFileSync(
  join(DIST, 'cli.mjs'),
  "#!/usr/bin/env node\nimport { createRequire } from 'node:module'\n\ncreateRequire(import.meta.url)('./load-core.cjs').runCli()\n",
)
chmodSync(join(DIST, 'cli.mjs'), 0o755)
// `ai-secret-mock/msw`: what src/msw.ts exports, with msw loaded by the caller's own module
// system (an ES module imports msw's ES build, as the caller's msw/node does: one msw).
const MSW_EXPORTS = ['MockControlError', 'SeedError']
writeFileSync(
  join(DIST, 'msw.cjs'),
  "const core = require('./load-core.cjs')\n\n" +
    "exports.createMswMock = (options) => core.createMswMockWith(() => require('msw'), options)\n" +
    MSW_EXPORTS.map((n) => `exports.${n} = core.${n}\n`).join(''),
)
writeFileSync(
  join(DIST, 'msw.mjs'),
  "import { createRequire } from 'node:module'\n\n" +
    "const core = createRequire(import.meta.url)('./load-core.cjs')\n\n" +
    "export const createMswMock = (options) => core.createMswMockWith(() => import('msw'), options)\n" +
    `export const { ${MSW_EXPORTS.join(', ')} } = core\n`,
)

// The declarations: one file that imports nothing (checked here and by test/package.test.ts;
// `tsc --noEmit -p .` has type-checked the sources).
await declarations
if (WITH_DECLARATIONS) {
  const dts = readFileSync(join(DIST, 'index.d.ts'), 'utf8')
  const imports = dts.match(/^\s*(import|export .* from|\/\/\/ <reference)\b.*$/gm)
  if (imports !== null) throw new Error(`dist/index.d.ts must import nothing, but has:\n${imports.join('\n')}`)
  writeFileSync(join(DIST, 'index.d.cts'), dts)
  // The msw entry's: msw's types, which the caller has (it is the peer this entry needs), and nothing else.
  const mswDts = readFileSync(join(DIST, 'msw.d.ts'), 'utf8')
  const mswImports = (mswDts.match(/^\s*(import|export .* from|\/\/\/ <reference)\b.*$/gm) ?? []).filter(
    (l) => !/^import (type )?\{[^}]*\} from 'msw';$/.test(l),
  )
  if (mswImports.length > 0)
    throw new Error(`dist/msw.d.ts must import msw's types only, but has:\n${mswImports.join('\n')}`)
  writeFileSync(join(DIST, 'msw.d.cts'), mswDts)
}

writeFileSync(join(DIST, 'THIRD-PARTY-LICENSES.txt'), thirdPartyLicenses(results.map((r) => r.metafile)))

/** core.cjs is read as latin1 (src/code-cache.ts): a byte over 0x7f would be read wrong. */
function checkAscii(file) {
  const bytes = readFileSync(file)
  const at = bytes.findIndex((b) => b > 0x7f)
  if (at !== -1) throw new Error(`${relative(ROOT, file)} is not ASCII (byte ${at}): the code cache reads it as latin1`)
}

/** Fails when an output imports a package the bundle was meant to hold. */
function checkOnly(metafile, output, allowed) {
  const builtin = new Set(builtinModules)
  const imports = Object.values(metafile.outputs)[0].imports.filter(
    (i) => i.external && !i.path.startsWith('node:') && !builtin.has(i.path),
  )
  const unexpected = imports.map((i) => i.path).filter((p) => !allowed.includes(p))
  if (unexpected.length > 0)
    throw new Error(
      `${output} requires ${unexpected.join(', ')} at run time; only ${allowed.join(', ')} may stay outside`,
    )
}

/**
 * The licence texts of every package inside the bundles, which their MIT/ISC/BSD/Apache terms ask to ship with them.
 */
function thirdPartyLicenses(metafiles) {
  const packages = new Map()
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile.inputs)) {
      const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
      if (m === null || packages.has(m[1])) continue
      const pkg = JSON.parse(readFileSync(join(ROOT, m[1], 'package.json'), 'utf8'))
      const file = readdirSync(join(ROOT, m[1])).find((f) => /^licen[cs]e/i.test(f))
      packages.set(m[1], {
        name: pkg.name,
        version: pkg.version,
        license: pkg.license,
        text: file === undefined ? null : readFileSync(join(ROOT, m[1], file), 'utf8').trim(),
      })
    }
  }
  const list = [...packages.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version))
  const seen = new Set()
  const unique = list.filter((p) => !seen.has(`${p.name}@${p.version}`) && seen.add(`${p.name}@${p.version}`))
  return (
    'ai-secret-mock bundles these packages into dist/*.cjs; their licences follow.\n' +
    'dist/swagger-ui/static/ holds the files of Swagger UI (swagger-ui-dist, Apache-2.0, the licence\n' +
    'in LICENSE), as @fastify/swagger-ui ships them.\n\n' +
    unique
      .map(
        (p) =>
          `${'-'.repeat(78)}\n${p.name}@${p.version} (${p.license})\n\n${p.text ?? `(no licence file in the package; its package.json says ${p.license})`}\n`,
      )
      .join('\n')
  )
}
