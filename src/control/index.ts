import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Clock } from '../clock.js'
import type { Control } from './control.js'
import intercept from './intercept.js'
import { controlRoutes } from './routes.js'

/**
 * The control plane for tests, all of it: its state and operations (Control, in control.ts:
 * journal, fault rules, rate limit, reset, seed, clock), the hooks that act on /v1 requests
 * (intercept.ts: journal entries, `Prefer`, fault rules, the rate limit, the reset gate) and
 * the `/_mock` routes (routes.ts, one table). Its hooks run where it is registered: after the
 * caller is identified and before /v1 requests are authorized (src/app.ts).
 */
async function controlPlane(app: FastifyInstance, opts: { control: Control; clock: Clock }) {
  await app.register(intercept, opts)
  await app.register(controlRoutes, opts)
}

export default fp(controlPlane, { name: 'control-plane', fastify: '5.x' })
