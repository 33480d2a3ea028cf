import { buildMockApp, type AppOptions } from './app.js'
import { type MockControls, mockControls } from './controls.js'
import { listen, type Listening } from './listen.js'

export interface MockServerOptions extends AppOptions {
  /** Default 0: a free port. */
  port?: number
  /** Default: both loopback addresses, 127.0.0.1 and ::1 (127.0.0.1 alone where ::1 cannot be bound), on one port. */
  host?: string
  /**
   * Host names answered besides localhost, 127.0.0.1 and [::1] while the mock listens on
   * loopback (ALLOWED_HOSTS); `['*']` allows every host. Listening on another address, every
   * host is allowed unless this is given. Other Host headers get 403 (DNS rebinding).
   */
  allowedHosts?: string[]
}

/** A listening mock and its controls. close() stops listening: requests still open after 1 s are cut. */
export interface MockServer extends MockControls {
  /**
   * A URL to reach the mock from this machine, without a trailing slash: `http://127.0.0.1:<port>`
   * by default (the mock answers `http://localhost:<port>` and `http://[::1]:<port>` too); for
   * a `host` given, that host (a wildcard as its loopback: never `0.0.0.0` or `::`).
   */
  url: string
}

/** How long close() lets open requests finish before it cuts their connections. */
const CLOSE_GRACE_MS = 1000

/**
 * Builds the mock and listens on a free port: for test suites that want a real URL.
 * Defaults: port 0, both loopback addresses, an in-memory database, the demo seed. Rejects as
 * buildApp does, or with Node's listen error (EADDRINUSE, …); nothing stays open then.
 */
export async function startMockServer(options: MockServerOptions = {}): Promise<MockServer> {
  const { port = 0, host, allowedHosts, ...appOptions } = options
  const built = await buildMockApp({ db: ':memory:', ...appOptions })
  let listening: Listening
  try {
    listening = await listen(built.app, { port, host, allowedHosts })
  } catch (err) {
    await built.app.close()
    throw err
  }
  const controls = mockControls(built, async (app) => {
    const cut = setTimeout(() => listening.closeAllConnections(), CLOSE_GRACE_MS)
    cut.unref()
    try {
      await app.close()
    } finally {
      clearTimeout(cut)
    }
  })
  return { url: listening.url, ...controls }
}
