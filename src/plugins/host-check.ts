import type { Server } from 'node:http'
import { isIP } from 'node:net'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../errors.js'

/** The names of this machine's loopback, as a Host header gives them (the port aside). */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Which Host headers a listening server answers (ALLOWED_HOSTS, listen()'s allowedHosts). */
export interface HostPolicy {
  /** Every host: listening on another address than loopback without ALLOWED_HOSTS, or ALLOWED_HOSTS=*. */
  any: boolean
  /** Names allowed besides the loopback ones, lowercased, without a port. */
  names: Set<string>
}

/**
 * The policy for a server bound to `addresses`: while they are all loopback (the default), only
 * loopback names and `allowed` (DNS rebinding: a page whose name resolves to 127.0.0.1 sends its own
 * name); on any other address, every host unless `allowed` is given. `*` in `allowed` allows every host.
 */
export function hostPolicy(addresses: string[], allowed: string[] | undefined): HostPolicy {
  const names = new Set((allowed ?? []).map((n) => n.trim().toLowerCase()).filter((n) => n !== ''))
  if (names.has('*')) return { any: true, names }
  // The addresses listened on are names of this server too (`--host 127.0.0.2` prints that URL).
  for (const a of addresses) names.add(isIP(a) === 6 ? `[${a.toLowerCase()}]` : a.toLowerCase())
  const loopbackOnly = addresses.every(isLoopback)
  return { any: !loopbackOnly && allowed === undefined, names }
}

/** Whether an address a server binds is a loopback one: 127.0.0.0/8, ::1, or the name localhost. */
export function isLoopback(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase()
  if (a === 'localhost' || a === '::1') return true
  return isIP(a) === 4 && a.startsWith('127.')
}

/** The host of a Host header's value, lowercased, without its port: `localhost`, `[::1]`, `example.test`. */
export function hostName(value: string): string {
  const v = value.trim().toLowerCase()
  if (v.startsWith('[')) return v.slice(0, v.indexOf(']') + 1)
  const colon = v.lastIndexOf(':')
  return colon === -1 ? v : v.slice(0, colon)
}

/** Whether a policy lets a Host header's value through. */
export function hostAllowed(policy: HostPolicy, host: string): boolean {
  if (policy.any) return true
  const name = hostName(host)
  return LOOPBACK_NAMES.has(name) || policy.names.has(name)
}

/**
 * `host[:port]` as RFC 3986 section 3.2.2 writes a host: an IP literal in brackets, or a name of
 * unreserved characters, percent-encodings and sub-delimiters (an IPv4 address is one), then an
 * optional port of digits. Not `localhost:80@evil.example`, nor `[::1]evil.example`.
 */
const HOST_VALUE =
  /^(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[\w.~!$&'()*+,;=:-]+\]|(?:[\w.~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)(?::\d*)?$/

/** The authority of an absolute-form request target: `http://example.test:8000/v1/…` gives `example.test:8000`. */
const ABSOLUTE_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^/?#@]*@)?([^/?#]*)/

/** The policies of the servers that listen for an app (listen() sets them); inject() has none. */
const policies = new WeakMap<object, HostPolicy>()

/** Makes `server` answer only the Host headers `policy` allows (see hostCheck). */
export function checkHostsOn(server: Server, policy: HostPolicy): void {
  policies.set(server, policy)
}

/** The policy of the server a request came through; undefined for `app.inject()` (and MSW's handlers). */
function policyOf(raw: { socket?: unknown }): HostPolicy | undefined {
  const server = (raw.socket as { server?: object } | undefined)?.server
  return server === undefined ? undefined : policies.get(server)
}

/**
 * DNS rebinding: a request a listening server receives whose Host its HostPolicy does not allow
 * is refused (403 in the text shape) before anything else runs (after its request ids are set).
 * A request from `app.inject()` (or MSW's handlers) comes through no server, and is not checked.
 */
async function hostCheck(app: FastifyInstance) {
  app.addHook('onRequest', (request, _reply, done) => {
    // An absolute-form target names its host itself, and then the Host header is ignored (RFC 9112
    // section 3.2.2): the target's host is the one checked.
    const absolute = ABSOLUTE_AUTHORITY.exec(request.originalUrl)
    const host = absolute === null ? request.raw.headers.host : absolute[1]
    const policy = policyOf(request.raw)
    // (A Host that is not host[:port] at all is hostRequired's 400, not a 403.)
    if (policy === undefined || host === undefined || hostAllowed(policy, host) || !HOST_VALUE.test(host)) return done()
    done(new ApiError('host_not_allowed', { host: host.replace(/[^\x21-\x7e]/g, '?').slice(0, 100) }))
  })
}

/**
 * RFC 9112 section 3.2: a listening server answers 400 (text shape) to an HTTP/1.1 request
 * without Host, and to any request with more than one Host or a Host that is not `host[:port]`.
 * Node answers a missing one with a bare 400 of its own unless told not to (src/app.ts), and
 * keeps only the first of several; this hook counts them. Registered after the control plane's
 * hooks, so that the journal lists such a /v1 request.
 */
async function hostRequired(app: FastifyInstance) {
  app.addHook('onRequest', (request, _reply, done) => {
    const raw = request.raw
    if (policyOf(raw) === undefined) return done()
    let count = 0
    for (let i = 0; i < raw.rawHeaders.length; i += 2) if (raw.rawHeaders[i]!.toLowerCase() === 'host') count++
    if (count > 1 || (count === 0 && raw.httpVersion !== '1.0')) return done(new ApiError('host_required', { count }))
    const host = raw.headers.host
    if (host !== undefined && !HOST_VALUE.test(host))
      return done(
        new ApiError('host_required', {
          count,
          value: JSON.stringify(host.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)),
        }),
      )
    done()
  })
}

export const checkHost = fp(hostCheck, { name: 'host-check', fastify: '5.x' })
export const requireHost = fp(hostRequired, { name: 'host-required', fastify: '5.x' })
