import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { buildMockApp } from './app.js'
import { banner } from './banner.js'
import { ConfigError, USAGE, parseConfig } from './config.js'
import { LOOPBACKS, connectableHost, listen, type Listening } from './listen.js'
import { prettyDestination } from './logging.js'
import { PACKAGE_ROOT } from './paths.js'
import { SeedError } from './seed.js'
import { readTlsFiles, serverTls, writeCertificate, type ServerTls } from './tls.js'

/** After this long, connections still open at shutdown are cut, so the process exits within 2 s. */
const SHUTDOWN_GRACE_MS = 1500

function fail(message: string, code: number): never {
  process.stderr.write(`ai-secret-mock: ${message}\n`)
  process.exit(code)
}

/**
 * The files of a file database that do not exist yet: this start-up creates them. Removed
 * again when start-up does not finish (stopped by a signal, or a bad seed), so that no
 * half-written database is left behind; an existing database is never removed.
 */
function filesToCreate(db: string): string[] {
  if (db === ':memory:' || db === '' || db.startsWith('file:') || existsSync(db)) return []
  return [db, `${db}-wal`, `${db}-shm`, `${db}-journal`].filter((f) => !existsSync(f))
}

function removeFiles(files: string[]): void {
  for (const f of files) rmSync(f, { force: true })
}

async function main() {
  // The conformance run is a tool of its own: loaded only when asked for, so the mock's
  // start-up never evaluates it (it handles its own signals).
  if (process.argv[2] === 'conformance') {
    const { conformance } = await import('./conformance/cli.js')
    process.exitCode = await conformance(process.argv.slice(3))
    return
  }
  // The signal handlers come first: SIGTERM or SIGINT at any point of start-up (a big seed
  // takes seconds) stops it with exit 0 instead of killing the process (exit 143), and as
  // PID 1 in a container the signal is not ignored until the engine's SIGKILL.
  const startup = new AbortController()
  let stopRequested: string | null = null
  let onSignal = (signal: string) => {
    stopRequested ??= signal
    startup.abort(new Error(`stopped by ${signal} during start-up`))
  }
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('SIGINT', () => onSignal('SIGINT'))
  const stoppedDuringStartup = (created: string[]): never => {
    removeFiles(created)
    process.stderr.write(
      `ai-secret-mock: stopped by ${stopRequested} during start-up${created.length > 0 ? '; the database it had begun was removed' : ''}\n`,
    )
    process.exit(0)
  }

  let config
  try {
    config = parseConfig(process.argv.slice(2), process.env, process.stdout.isTTY === true)
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2)
    throw err
  }
  if (config.help) return void process.stdout.write(USAGE)
  if (config.version) {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
    return void process.stdout.write(`${pkg.version}\n`)
  }
  // The certificate's files are configuration too: a missing, unreadable or mismatched one is
  // said (exit 2) before the database is opened or anything listens.
  let https: ServerTls | undefined
  try {
    if (config.tls === true) https = await serverTls(true)
    else if (config.tls !== undefined) https = readTlsFiles(config.tls, config.tls.names)
  } catch (err) {
    fail((err as Error).message, 2)
  }

  const created = filesToCreate(config.db)
  let built
  try {
    built = await buildMockApp({
      db: config.db,
      seed: config.seed,
      // JSON lines (pino's own) for machines; pino-pretty's lines for a person.
      logger:
        config.logFormat === 'pretty'
          ? {
              level: config.logLevel,
              stream: await prettyDestination(process.stdout, process.stdout.isTTY === true && !process.env.NO_COLOR),
            }
          : config.logLevel,
      deterministic: config.deterministic,
      adminToken: config.adminToken,
      rateLimitPerMinute: config.rateLimitPerMinute,
      journalSize: config.journalSize,
      jwtSecret: config.jwtSecret,
      corsOrigins: config.corsOrigins,
      requestTimeoutMs: config.requestTimeoutMs,
      // Aborted by a signal: the seed being applied is rolled back.
      signal: startup.signal,
      https,
    })
  } catch (err) {
    if (stopRequested !== null) stoppedDuringStartup(created)
    // One line that names the file, the JSON path and the problem; nothing was started, nor kept.
    removeFiles(created)
    if (err instanceof SeedError) fail(err.message, 1)
    fail((err as Error).message, 1)
  }
  const { app, mock } = built
  if (stopRequested !== null) {
    // Stopped once the seed was whole: the database is kept.
    await app.close()
    stoppedDuringStartup([])
  }

  let closing = false
  let listening: Listening | null = null
  // The PEM file the banner names: the one given, or one of ours, written once the port is
  // known and removed at shutdown: the generated certificate's, or the certificates alone of a
  // file given that holds the private key too (clients are never pointed at a key).
  const ours = config.tls === true || https?.keyWithCert === true
  let certificate = typeof config.tls === 'object' && !ours ? config.tls.cert : undefined
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    if (ours && certificate !== undefined) rmSync(certificate, { force: true })
    app.log.info({ signal }, 'shutting down')
    // In-flight requests finish and idle keep-alive connections close (Fastify's
    // forceCloseConnections: 'idle'); whatever is still open after the grace period is cut.
    setTimeout(
      () => (listening === null ? app.server.closeAllConnections() : listening.closeAllConnections()),
      SHUTDOWN_GRACE_MS,
    ).unref()
    app.close().then(
      () => process.exit(0),
      (err: Error) => fail(`error while closing: ${err.message}`, 1),
    )
  }
  // While it starts to listen, a signal is noted; once it listens, it shuts down.
  onSignal = (signal) => {
    stopRequested ??= signal
  }

  // The banner comes first, as the server starts listening: before the JSON "Server listening
  // at …" line Fastify logs for log readers (listen() calls onListening before that).
  const onListening = (l: Listening) => {
    try {
      if (ours) certificate = writeCertificate(https!.cert, l.port)
    } catch (err) {
      fail(`cannot write the certificate's PEM file: ${(err as Error).message}`, 1)
    }
    if (stopRequested === null) process.stdout.write(banner(l.displayUrl, config.db, mock, mock.seeded, certificate))
  }
  try {
    listening = await listen(app, {
      port: config.port,
      host: config.host,
      allowedHosts: config.allowedHosts,
      onListening,
      tls: https,
    })
  } catch (err) {
    await app.close()
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number }
    const where = e.address === undefined ? (config.host ?? LOOPBACKS[0]) : e.address
    fail(`cannot listen on ${connectableHost(where)}:${e.port ?? config.port}: ${e.message}`, 1)
  }
  onSignal = shutdown
  if (stopRequested !== null) return shutdown(stopRequested)
}

/**
 * The `ai-secret-mock` command (the package's bin, dist/cli.mjs; src/bin.ts from the sources):
 * reads process.argv and the environment, serves until SIGTERM or SIGINT, exits with 0, or 1
 * or 2 after one line on stderr (see USAGE).
 */
export function runCli(): void {
  main().catch((err: Error) => fail(err.message, 1))
}
