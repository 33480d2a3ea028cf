import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SeedResult, Unauthorized, adminSecurity, tags } from '../../schemas/mock.js'

/** `/_mock/reset`: back to the configured seed. */
const resetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/_mock/reset',
    {
      schema: {
        operationId: 'postMockReset',
        tags,
        summary: 'Reset to the configured seed',
        description:
          'Deletes everything and applies the configured seed again, in one transaction, while other requests run. Every /v1 request that arrived before and has not reached its handler yet (held by a fault delay, `Prefer: delay`, or its body still arriving) ends without an answer and changes nothing. Also empties the request journal, removes every fault rule (their ids restart at fault_1), resets rate-limit counters, and restarts deterministic ids and the clock.',
        security: adminSecurity,
        response: { 200: SeedResult, ...Unauthorized },
      },
    },
    async () => app.control.reset(),
  )
}

export default resetRoutes
