// `npm start [-- FLAGS]`: the bin of this checkout, built first only when it has to be. A clone
// that `npm install` (its prepare script) or `npm test` has built answers within a second or so,
// instead of waiting ~10 s for a build that changes nothing.
//
// A build is needed when a file dist/cli.mjs loads is missing, or older than the newest file of
// what the build reads: src/, scripts/bundle.mjs, package.json and migrations/. Then
// `node dist/cli.mjs` runs with the given flags; SIGINT, SIGTERM and SIGHUP are passed on to it,
// and its exit code (or signal) is this script's.
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** What the build reads, relative to the package root (files, or folders read whole). */
export const BUILD_INPUTS = ['src', 'scripts/bundle.mjs', 'package.json', 'migrations']
/** What `node dist/cli.mjs` loads at start-up, relative to the package root. */
export const BUILD_OUTPUTS = ['dist/cli.mjs', 'dist/load-core.cjs', 'dist/core.cjs']

/** The newest file under a path (the path itself for a file), or null when there is none. */
function newest(path) {
  let stat
  try {
    stat = statSync(path)
  } catch {
    return null
  }
  if (!stat.isDirectory()) return { path, mtimeMs: stat.mtimeMs }
  let best = null
  for (const entry of readdirSync(path)) {
    const found = newest(join(path, entry))
    if (found !== null && (best === null || found.mtimeMs > best.mtimeMs)) best = found
  }
  return best
}

/**
 * Why `root` needs a build before it can start, or null when dist/ is up to date: the first
 * output that is missing, or the newest input when it is newer than the oldest output.
 */
export function buildReason(root) {
  let oldest = null
  for (const output of BUILD_OUTPUTS) {
    let mtimeMs
    try {
      mtimeMs = statSync(join(root, output)).mtimeMs
    } catch {
      return `${output} is missing`
    }
    if (oldest === null || mtimeMs < oldest.mtimeMs) oldest = { path: output, mtimeMs }
  }
  for (const input of BUILD_INPUTS) {
    const found = newest(join(root, input))
    if (found !== null && found.mtimeMs > oldest.mtimeMs)
      return `${relative(root, found.path)} is newer than ${oldest.path}`
  }
  return null
}

function main() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const reason = buildReason(root)
  if (reason !== null) {
    process.stderr.write(`ai-secret-mock: building first (${reason})\n`)
    const npm = process.env.npm_execpath
    // Under npm, its own CLI (npm_execpath) with this node; else `npm` from PATH.
    const built =
      npm === undefined
        ? spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
        : spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' })
    if (built.status !== 0) process.exit(built.status ?? 1)
  }
  const child = spawn(process.execPath, [join(root, 'dist', 'cli.mjs'), ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP']
  const pass = (signal) => child.kill(signal)
  for (const signal of signals) process.on(signal, pass)
  child.on('exit', (code, signal) => {
    for (const s of signals) process.off(s, pass)
    if (signal !== null) process.kill(process.pid, signal)
    else process.exit(code ?? 1)
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main()
