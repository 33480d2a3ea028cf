import fastifyCors from '@fastify/cors'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Headers a page may read from a cross-origin answer: the three upstream exposes (recorded
 * on the real API) and the request ids every answer carries (CONTRACT section 4).
 */
export const EXPOSED_HEADERS = 'x-bt-cursor,x-bt-found-existing,x-bt-query-plan,x-request-id,x-bt-internal-trace-id'

/**
 * What a preflight that names no headers (`Access-Control-Request-Headers`) is told the API
 * reads. One that names some is answered with those (a browser using the official client
 * sends `x-stainless-*` headers besides). GUESS: upstream's own lists are unrecorded.
 */
export const DEFAULT_ALLOWED_HEADERS = 'authorization, content-type, x-bt-org-name, x-bt-parent'

/**
 * CORS for every route, /_mock and the OpenAPI documents included, by @fastify/cors:
 * the request's `Origin` is echoed with credentials allowed (so `Vary: Origin` goes on
 * every answer), forced answers and errors included (its hook runs on each request before
 * the control plane's). A preflight needs no authentication (upstream declares `security:
 * []`, and a browser sends none) and reaches the route, so that the two documented OPTIONS
 * operations answer 200 as upstream documents, and a bad id is still a 400.
 */
async function corsPlugin(app: FastifyInstance) {
  await app.register(fastifyCors, {
    origin: true,
    credentials: true,
    methods: 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
    // allowedHeaders unset: a preflight is allowed the headers it asks for (and Vary says so).
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 86400,
    // The route answers (200): the documented OPTIONS operations, or the plugin's own one for the other paths.
    preflightContinue: true,
    // A bare OPTIONS (no Origin: curl, a health probe) is answered as a preflight too, not refused in the plugin's own shape.
    strictPreflight: false,
  })
}

/** The documented OPTIONS operations' answer (optionsAiSecret, optionsAiSecretId): 200, no body; CORS headers come from the plugin. */
export function preflight(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (request.headers['access-control-request-headers'] === undefined)
    reply.header('access-control-allow-headers', DEFAULT_ALLOWED_HEADERS)
  return reply.code(200).send()
}

export default fp(corsPlugin, { name: 'cors', fastify: '5.x' })
