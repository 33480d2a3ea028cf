#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { buildApp } from './app.js'
import { banner } from './banner.js'
import { ConfigError, USAGE, parseConfig } from './config.js'
import { prettyDestination } from './logging.js'
import { PACKAGE_ROOT } from './paths.js'
import { SeedError } from './seed.js'

/** After this long, connections still open at shutdown are cut, so the process exits within 2 s. */
const SHUTDOWN_GRACE_MS = 1500

function fail(message: string, code: number): never {
  process.stderr.write(`ai-secret-mock: ${message}\n`)
  process.exit(code)
}

async function main() {
  // The conformance run is a tool of its own: loaded only when asked for, so the mock's
  // start-up never evaluates it.
  if (process.argv[2] === 'conformance') {
    const { conformance } = await import('./conformance/cli.js')
    process.exitCode = await conformance(process.argv.slice(3))
    return
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

  let app
  try {
    app = await buildApp({
      db: config.db,
      seed: config.seed,
      // JSON lines (pino's own) for machines; pino-pretty's lines for a person.
      logger:
        config.logFormat === 'pretty'
          ? { level: config.logLevel, stream: await prettyDestination(process.stdout, process.stdout.isTTY === true && !process.env.NO_COLOR) }
          : config.logLevel,
      deterministic: config.deterministic,
      adminToken: config.adminToken,
      rateLimitPerMinute: config.rateLimitPerMinute,
      journalSize: config.journalSize,
      jwtSecret: config.jwtSecret,
    })
  } catch (err) {
    // One line that names the file, the JSON path and the problem; nothing was started.
    if (err instanceof SeedError) fail(err.message, 1)
    fail((err as Error).message, 1)
  }

  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    // In-flight requests finish and idle keep-alive connections close (Fastify's
    // forceCloseConnections: 'idle'); whatever is still open after the grace period is cut.
    setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref()
    app.close().then(
      () => process.exit(0),
      (err: Error) => fail(`error while closing: ${err.message}`, 1),
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))

  // The banner comes first, on the server's 'listening' event: this listener runs before the one
  // Fastify adds in listen(), which logs its JSON "Server listening at …" line for log readers.
  app.server.once('listening', () => {
    const { port } = app.server.address() as AddressInfo
    const host = config.host.includes(':') ? `[${config.host}]` : config.host
    process.stdout.write(banner(`http://${host}:${port}`, config.db, app.mock.options, app.mock.seeded))
  })
  try {
    await app.listen({ port: config.port, host: config.host })
  } catch (err) {
    await app.close()
    fail(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`, 1)
  }
}

main().catch((err: Error) => fail(err.message, 1))
