import { buildMockApp, type AppOptions } from './app.js'
import { type MockControls, mockControls } from './controls.js'
import { listen, type Listening } from './listen.js'
import { serverTls, type TlsCertificate } from './tls.js'

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
  /**
   * Serve HTTPS instead of HTTP: `true` for a certificate made at start-up for `localhost`,
   * `127.0.0.1` and `::1` (its PEM is `ca`), or a certificate and key of your own (PEM). Default false.
   */
  tls?: boolean | TlsCertificate
}

/** A listening mock and its controls. close() stops listening: requests still open after 1 s are cut. */
export interface MockServer extends MockControls {
  /**
   * A URL to reach the mock from this machine, without a trailing slash: `http://127.0.0.1:<port>`
   * by default (the mock answers `http://localhost:<port>` and `http://[::1]:<port>` too); for
   * a `host` given, that host (a wildcard as its loopback: never `0.0.0.0` or `::`).
   * `https://` with `tls`.
   */
  url: string
  /**
   * With `tls`: the PEM of the certificate served, for clients to trust (undici's
   * `new Agent({ connect: { ca } })`, https.request's `ca`, a file for NODE_EXTRA_CA_CERTS).
   * Absent without.
   */
  ca?: string
}

/** How long close() lets open requests finish before it cuts their connections. */
const CLOSE_GRACE_MS = 1000

/**
 * Builds the mock and listens on a free port: for test suites that want a real URL.
 * Defaults: port 0, both loopback addresses, an in-memory database, the demo seed, HTTP. Rejects
 * as buildApp does, with an Error naming the part of `tls` at fault (a certificate that does not
 * match its key, ...), or with Node's listen error (EADDRINUSE, …); nothing stays open then.
 */
export async function startMockServer(options: MockServerOptions = {}): Promise<MockServer> {
  const { port = 0, host, allowedHosts, tls = false, ...appOptions } = options
  const https = tls === false ? undefined : await serverTls(tls)
  const built = await buildMockApp({ db: ':memory:', ...appOptions, https })
  let listening: Listening
  try {
    listening = await listen(built.app, { port, host, allowedHosts, tls: https })
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
  return { url: listening.url, ...(https === undefined ? {} : { ca: https.cert }), ...controls }
}
