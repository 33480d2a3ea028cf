// `npm start` (scripts/start.mjs): it builds only when dist/ is missing or older than the
// sources, then runs the bin with the given flags, passing signals on and exiting as it does.
// The decision is checked on folders made here with chosen file times; the script itself runs
// in such a folder, with a stand-in bin, so no real build or server is needed.

import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { PACKAGE_ROOT } from '../../src/paths.js'

const START = join(PACKAGE_ROOT, 'scripts', 'start.mjs')
const { buildReason, BUILD_INPUTS, BUILD_OUTPUTS } = (await import(pathToFileURL(START).href)) as {
  buildReason: (root: string) => string | null
  BUILD_INPUTS: string[]
  BUILD_OUTPUTS: string[]
}

const T0 = Date.parse('2026-01-01T00:00:00Z') / 1000

/** Writes `files` (path → seconds after T0) under a fresh folder, with those modification times. */
function tree(files: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'start-'))
  for (const [path, at] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), '')
    utimesSync(join(root, path), T0 + at, T0 + at)
  }
  return root
}

const SOURCES = { 'src/app.ts': 0, 'src/db/repository.ts': 5, 'scripts/bundle.mjs': 0, 'package.json': 0 }
const BUILT = { 'dist/cli.mjs': 10, 'dist/load-core.cjs': 10, 'dist/core.cjs': 10 }

t.test('package.json starts with scripts/start.mjs', async (t) => {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
  t.equal(pkg.scripts.start, 'node scripts/start.mjs')
  t.same(BUILD_INPUTS, ['src', 'scripts/bundle.mjs', 'package.json', 'migrations'])
  t.same(BUILD_OUTPUTS, ['dist/cli.mjs', 'dist/load-core.cjs', 'dist/core.cjs'])
})

t.test('needs a build?', async (t) => {
  t.equal(buildReason(tree(SOURCES)), 'dist/cli.mjs is missing', 'a fresh clone: no dist/')
  t.equal(
    buildReason(tree({ ...SOURCES, 'dist/cli.mjs': 10, 'dist/load-core.cjs': 10 })),
    'dist/core.cjs is missing',
    'one output missing',
  )
  t.equal(buildReason(tree({ ...SOURCES, ...BUILT })), null, 'dist/ newer than every source')
  t.equal(
    buildReason(tree({ ...SOURCES, ...BUILT, 'src/db/repository.ts': 20 })),
    'src/db/repository.ts is newer than dist/cli.mjs',
    'a source changed after the build, in a sub-folder',
  )
  t.equal(
    buildReason(tree({ ...SOURCES, ...BUILT, 'package.json': 20 })),
    'package.json is newer than dist/cli.mjs',
    'package.json changed',
  )
  t.equal(
    buildReason(tree({ ...SOURCES, ...BUILT, 'scripts/bundle.mjs': 20 })),
    'scripts/bundle.mjs is newer than dist/cli.mjs',
  )
  t.equal(
    buildReason(tree({ ...SOURCES, ...BUILT, 'migrations/004-x.sql': 20 })),
    'migrations/004-x.sql is newer than dist/cli.mjs',
    'a new migration',
  )
  t.equal(
    buildReason(tree({ ...SOURCES, ...BUILT, 'dist/core.cjs': 3 })),
    'src/db/repository.ts is newer than dist/core.cjs',
    'judged against the oldest output',
  )
  t.equal(buildReason(tree({ ...SOURCES, ...BUILT, 'test/x.test.ts': 20, 'README.md': 20 })), null, 'not sources')
})

/** Runs scripts/start.mjs, copied into `root`, to its end; `signal` is sent once the bin has printed `ready`. */
async function start(
  root: string,
  args: string[],
  signal?: NodeJS.Signals,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  mkdirSync(join(root, 'scripts'), { recursive: true })
  cpSync(START, join(root, 'scripts', 'start.mjs'))
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? root }
  // Without tap's NODE_OPTIONS: the module it loads into child processes catches signals, and
  // would turn the signal the script raises on itself into an exit with code 0.
  const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, join(root, 'scripts', 'start.mjs'), ...args], {
    env,
  })
  let out = ''
  const onData = (d: Buffer) => {
    out += d.toString()
    if (signal !== undefined && out.includes('ready')) {
      child.kill(signal)
      signal = undefined
    }
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  return new Promise((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig, out })))
}

/** A stand-in bin: prints its flags, exits with the code given as --exit, answers SIGTERM with exit 0. */
const BIN = `
console.log('args: ' + process.argv.slice(2).join(' '))
const exit = process.argv.indexOf('--exit')
if (exit !== -1) process.exit(Number(process.argv[exit + 1]))
if (!process.argv.includes('--die')) process.on('SIGTERM', () => { console.log('SIGTERM'); process.exit(0) })
setInterval(() => {}, 1000)
console.log('ready')
`

function built(): string {
  const root = tree({ ...SOURCES, ...BUILT })
  writeFileSync(join(root, 'dist', 'cli.mjs'), BIN)
  utimesSync(join(root, 'dist', 'cli.mjs'), T0 + 10, T0 + 10)
  return root
}

t.test('on a built folder: runs the bin with the flags, exits with its code, passes signals on', async (t) => {
  const exited = await start(built(), ['--port', '0', '--exit', '3'])
  t.equal(exited.out, 'args: --port 0 --exit 3\n', 'no build, the flags passed on')
  t.equal(exited.code, 3, "the bin's exit code")

  const stopped = await start(built(), ['--port', '0'], 'SIGTERM')
  t.match(stopped.out, /ready\nSIGTERM\n$/, 'SIGTERM reached the bin')
  t.equal(stopped.code, 0, 'the bin stopped with 0, and so did npm start')

  const killed = await start(built(), ['--die'], 'SIGTERM')
  t.equal(killed.signal, 'SIGTERM', 'a bin ended by the signal: npm start ends by it too')
})

t.test('on a folder whose dist/ is older than its sources: builds first', async (t) => {
  const root = built()
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({
      name: 'start-test',
      scripts: { build: `node -e "require('fs').writeFileSync('dist/core.cjs', '')"` },
    }),
  )
  const r = await start(root, ['--exit', '0'])
  t.equal(r.code, 0)
  t.match(r.out, /^ai-secret-mock: building first \(package\.json is newer than dist\/cli\.mjs\)\n/)
  t.match(r.out, /args: --exit 0\n$/, 'then the bin runs')
  t.equal(buildReason(root), 'package.json is newer than dist/cli.mjs', 'this build wrote only core.cjs')
})
