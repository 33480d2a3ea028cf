import fastifyCors from '@fastify/cors'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../errors.js'
import { pathOf } from '../request-target.js'

/**
 * Headers a page may read from a cross-origin answer: the three upstream exposes (recorded
 * on the real API) and the request ids every answer carries.
 */
export const EXPOSED_HEADERS = 'x-bt-cursor,x-bt-found-existing,x-bt-query-plan,x-request-id,x-bt-internal-trace-id'

/**
 * What a preflight that names no headers (`Access-Control-Request-Headers`) is told the API
 * reads. One that names some is answered with those (a browser using the official client
 * sends `x-stainless-*` headers besides). GUESS: upstream's own lists are unrecorded.
 */
export const DEFAULT_ALLOWED_HEADERS = 'authorization, content-type, x-bt-org-name, x-bt-parent'

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Whether a page at `origin` may use the control plane: a loopback origin (any port), or one of `allowed`. */
export function controlOriginAllowed(origin: string, allowed: ReadonlySet<string>): boolean {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false
  }
  if (allowed.has(url.origin)) return true
  return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname)
}

const isControlPath = (url: string) => url === '/_mock' || url.startsWith('/_mock/') || url.startsWith('/_mock?')

/**
 * CORS by @fastify/cors. /v1 and the documents echo any `Origin`, with credentials allowed
 * (so `Vary: Origin` goes on every answer), forced answers and errors included (its hook runs
 * before the control plane's): browser-based harnesses drive the API. A preflight needs no
 * authentication (upstream declares `security: []`) and reaches the route, so that the two
 * documented OPTIONS operations answer 200 as upstream documents.
 *
 * The control plane is the mock's own, and a page that can reset it or read its journal can
 * attack whoever runs the mock on a laptop: /_mock answers CORS only for loopback origins and
 * `origins` (CORS_ORIGINS), and refuses (403) any request that carries another `Origin`, a simple
 * POST too, which a browser sends without a preflight.
 */
async function corsPlugin(app: FastifyInstance, opts: { origins: string[] }) {
  const allowed = new Set(opts.origins.map((o) => (URL.canParse(o) ? new URL(o).origin : o)))
  app.addHook('onRequest', (request, _reply, done) => {
    const origin = request.headers.origin
    if (origin === undefined || !isControlPath(pathOf(request.url)) || controlOriginAllowed(origin, allowed)) {
      return done()
    }
    done(new ApiError('origin_not_allowed', { origin: origin.replace(/[^\x21-\x7e]/g, '?').slice(0, 100) }))
  })
  await app.register(fastifyCors, {
    origin: true,
    credentials: true,
    methods: 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
    // allowedHeaders unset: a preflight is allowed the headers it asks for (and Vary says so).
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 86400,
    // The route answers (200): the documented OPTIONS operations, or the plugin's own one for the other paths.
    preflightContinue: true,
    // A bare OPTIONS (no Origin: curl, a health probe) is answered as a preflight too, not refused in the plugin's own
    // shape.
    strictPreflight: false,
  })
}

/**
 * The documented OPTIONS operations' answer (optionsAiSecret, optionsAiSecretId): 200, no body; CORS headers come from
 * the plugin.
 */
export function preflight(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (request.headers['access-control-request-headers'] === undefined) {
    reply.header('access-control-allow-headers', DEFAULT_ALLOWED_HEADERS)
  }
  return reply.code(200).send()
}

export default fp(corsPlugin, { name: 'cors', fastify: '5.x' })
