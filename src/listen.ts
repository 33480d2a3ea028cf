import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { checkHostsOn, hostPolicy } from './plugins/host-check.js'
import type { ServerTls } from './tls.js'

/** The loopback addresses the mock serves by default, whatever `localhost` resolves to on the machine. */
export const LOOPBACKS = ['127.0.0.1', '::1'] as const

/** Errors binding ::1 gives on a machine without IPv6 (disabled, or no loopback address for it). */
const NO_IPV6 = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EINVAL', 'EPROTONOSUPPORT'])

/** How often port 0 is tried again when the free port of one loopback address is taken on the other. */
const PORT_TRIES = 10

export interface Listening {
  port: number
  /**
   * What is bound: `['127.0.0.1', '::1']` by default (`['127.0.0.1']` where IPv6 cannot be bound), or the host given.
   */
  addresses: string[]
  /**
   * A URL a client on this machine can connect to, without a trailing slash: never `0.0.0.0` or `::`; `https://` with
   * TLS.
   */
  url: string
  /**
   * The URL to print: `http://localhost:PORT` (`https://` with TLS) when both loopback addresses are served (either
   * answer of the resolver works), else `url`.
   */
  displayUrl: string
  /** Cuts every open connection, on every address (the end of a shutdown's grace period). */
  closeAllConnections(): void
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Servers beside `server` that hand their requests to this app (the second loopback address): they stop with it.
     */
    secondaryServers: Set<Server>
  }
}

/**
 * A host as it stands in a URL a client on this machine can use: a wildcard becomes its loopback, IPv6 goes in
 * brackets.
 */
export function connectableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::' || host === '[::]') return '[::1]'
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening)
      reject(err)
    }
    const onListening = () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    }
    server.once('error', onError).once('listening', onListening)
    server.listen(port, host)
  })
}

/**
 * How often Node looks for requests past their timeout (`connectionsCheckingInterval`, 30 s by
 * default): at most a second, so that a request over REQUEST_TIMEOUT_MS gets its 408 soon after.
 */
export function connectionsCheckingInterval(requestTimeoutMs: number): number {
  return Math.max(10, Math.min(1000, requestTimeoutMs))
}

/**
 * A server for another address that hands every request to the app, with the app's own server's
 * limits, clientError and checkExpectation handling; with `tls`, a node:https one with the same certificate.
 */
function secondaryServer(app: FastifyInstance, tls: ServerTls | undefined): Server {
  const main = app.server
  const options = {
    maxHeaderSize: (main as { maxHeaderSize?: number }).maxHeaderSize,
    // As the app's own server (src/app.ts): src/plugins/host-check.ts answers a missing Host.
    requireHostHeader: false,
    connectionsCheckingInterval: connectionsCheckingInterval(main.requestTimeout),
  }
  const server: Server =
    tls === undefined
      ? createServer(options, app.routing)
      : createHttpsServer({ ...options, cert: tls.cert, key: tls.key }, app.routing)
  server.timeout = main.timeout
  server.keepAliveTimeout = main.keepAliveTimeout
  server.headersTimeout = main.headersTimeout
  server.requestTimeout = main.requestTimeout
  server.maxHeadersCount = main.maxHeadersCount
  server.maxRequestsPerSocket = main.maxRequestsPerSocket
  for (const event of ['clientError', 'checkExpectation']) {
    for (const listener of main.listeners(event)) server.on(event, listener as (...args: unknown[]) => void)
  }
  return server
}

/**
 * Makes `app.secondaryServers` (the servers listen() starts beside app.server for the second
 * loopback address) and closes them with the app: no new connections, idle ones closed.
 * Called by buildApp, before the app is ready (a hook cannot be added later).
 */
export function closeSecondaryServers(app: FastifyInstance): void {
  app.decorate('secondaryServers', new Set<Server>())
  app.addHook('preClose', (done) => {
    for (const server of app.secondaryServers) server.close()
    done()
  })
}

/**
 * Starts serving a built app. With a `host`, on that host alone
 * (`0.0.0.0` in the image; `localhost` binds what the resolver returns, as Fastify does).
 * Without one, on both loopback addresses, 127.0.0.1 and ::1, on the same port (port 0:
 * one free on both), so that `http://localhost:PORT` works whichever of them the machine's
 * resolver gives first (Node 17 and later keep its order); a machine that cannot bind ::1
 * is served on 127.0.0.1 alone. Never every interface by default. The second address is a
 * node:http server that hands its requests to the app (`app.routing`) and closes with it.
 * Each server answers the Host headers hostPolicy allows: while they listen on loopback, the
 * loopback names and `allowedHosts` only (DNS rebinding; src/plugins/host-check.ts).
 * `onListening` is called as the app's own server starts listening, before Fastify logs its
 * "Server listening" line (the CLI prints its banner there).
 * `tls`: the certificate the app was built with (buildMockApp's `https`), for the second
 * address's server and the URLs' scheme.
 * Rejects with Node's listen error (EADDRINUSE, ...; its `address` and `port` name what
 * failed), after undoing what it bound.
 */
export async function listen(
  app: FastifyInstance,
  options: {
    port: number
    host?: string
    /** ALLOWED_HOSTS: Host names answered besides the loopback ones (src/plugins/host-check.ts). */
    allowedHosts?: string[]
    onListening?: (listening: Listening) => void
    tls?: ServerTls
  },
): Promise<Listening> {
  const { port, host, onListening, tls } = options
  const scheme = tls === undefined ? 'http' : 'https'
  if (host !== undefined) {
    checkHostsOn(app.server, hostPolicy([host], options.allowedHosts))
    if (onListening !== undefined) app.server.once('listening', () => onListening(onHost(app, host, scheme)))
    await app.listen({ port, host })
    return onHost(app, host, scheme)
  }

  for (let attempt = 1; ; attempt++) {
    // ::1 first: with port 0 it picks the port, which 127.0.0.1 then takes too.
    let second: Server | null = secondaryServer(app, tls)
    const policy = hostPolicy([...LOOPBACKS], options.allowedHosts)
    checkHostsOn(app.server, policy)
    checkHostsOn(second, policy)
    let bound = port
    try {
      bound = await listenOn(second, port, LOOPBACKS[1])
    } catch (err) {
      if (!NO_IPV6.has((err as NodeJS.ErrnoException).code ?? '')) throw err
      second = null
    }
    const serves = second
    const onBound =
      onListening === undefined
        ? undefined
        : () => onListening(serving(app, (app.server.address() as AddressInfo).port, serves, scheme))
    if (onBound !== undefined) app.server.once('listening', onBound)
    try {
      await app.listen({ port: bound, host: LOOPBACKS[0] })
    } catch (err) {
      if (onBound !== undefined) app.server.off('listening', onBound)
      if (second !== null) await new Promise((resolve) => second!.close(resolve))
      // Port 0: the free port of ::1 is taken on 127.0.0.1. Try another.
      if (port === 0 && second !== null && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < PORT_TRIES)
        continue
      throw err
    }
    if (second !== null) {
      const s = second
      app.secondaryServers.add(s)
      s.once('close', () => app.secondaryServers.delete(s))
    }
    return serving(app, bound, second, scheme)
  }
}

/** What is served when the app listens on the host given alone. */
function onHost(app: FastifyInstance, host: string, scheme: string): Listening {
  const bound = (app.server.address() as AddressInfo).port
  const url = `${scheme}://${connectableHost(host)}:${bound}`
  return {
    port: bound,
    addresses: [host],
    url,
    displayUrl: url,
    closeAllConnections: () => app.server.closeAllConnections(),
  }
}

function serving(app: FastifyInstance, port: number, second: Server | null, scheme: string): Listening {
  return {
    port,
    addresses: second === null ? [LOOPBACKS[0]] : [...LOOPBACKS],
    url: `${scheme}://${LOOPBACKS[0]}:${port}`,
    displayUrl: second === null ? `${scheme}://${LOOPBACKS[0]}:${port}` : `${scheme}://localhost:${port}`,
    closeAllConnections() {
      app.server.closeAllConnections()
      second?.closeAllConnections()
    },
  }
}
