#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildApp } from './app.js'
import { banner } from './banner.js'
import { ConfigError, USAGE, parseConfig } from './config.js'
import { LOOPBACKS, connectableHost, listen, type Listening } from './listen.js'
import { PACKAGE_ROOT } from './paths.js'
import { SeedError } from './seed.js'

/** After this long, connections still open at shutdown are cut, so the process exits within 2 s. */
const SHUTDOWN_GRACE_MS = 1500

function fail(message: string, code: number): never {
  process.stderr.write(`ai-secret-mock: ${message}\n`)
  process.exit(code)
}

async function main() {
  let config
  try {
    config = parseConfig(process.argv.slice(2), process.env)
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
      logger: config.logLevel,
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
  let listening: Listening | null = null
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    // In-flight requests finish and idle keep-alive connections close (Fastify's
    // forceCloseConnections: 'idle'); whatever is still open after the grace period is cut.
    setTimeout(() => (listening === null ? app.server.closeAllConnections() : listening.closeAllConnections()), SHUTDOWN_GRACE_MS).unref()
    app.close().then(
      () => process.exit(0),
      (err: Error) => fail(`error while closing: ${err.message}`, 1),
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))

  try {
    listening = await listen(app, { port: config.port, host: config.host })
  } catch (err) {
    await app.close()
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number }
    const where = e.address === undefined ? (config.host ?? LOOPBACKS[0]) : e.address
    fail(`cannot listen on ${connectableHost(where)}:${e.port ?? config.port}: ${e.message}`, 1)
  }
  process.stdout.write(banner(listening.displayUrl, config.db, app.mock.options.seed, app.mock.seeded))
}

main().catch((err: Error) => fail(err.message, 1))
