import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { bearerToken } from '../../auth.js'
import { ApiError } from '../../errors.js'
import clockRoutes from './clock.js'
import faultRoutes from './faults.js'
import healthRoutes from './health.js'
import requestRoutes from './requests.js'
import resetRoutes from './reset.js'
import seedRoutes from './seed.js'
import stateRoutes from './state.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * The mock's own control plane (CONTRACT section 7), one file per path: not part of the
 * Braintrust API. Its state and operations are `app.control` (src/control/context.ts).
 * With ADMIN_TOKEN set, every route but /_mock/health wants it.
 */
const mockRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const admin = app.control.adminToken === null ? null : digest(app.control.adminToken)

  app.addHook('onRequest', async (request) => {
    if (admin === null || request.url === '/_mock/health' || request.url.startsWith('/_mock/health?')) return
    const token = bearerToken(request.headers.authorization)
    if (token === null || !timingSafeEqual(digest(token), admin)) throw new ApiError('admin_unauthorized')
  })

  await app.register(healthRoutes)
  await app.register(resetRoutes)
  await app.register(seedRoutes)
  await app.register(stateRoutes)
  await app.register(requestRoutes)
  await app.register(faultRoutes)
  await app.register(clockRoutes)
}

export default mockRoutes
