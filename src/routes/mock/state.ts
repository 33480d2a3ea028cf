import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { StoreState, Unauthorized, adminSecurity, tags } from '../../schemas/mock.js'

/** `/_mock/state`: everything stored, redacted. */
const stateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/_mock/state',
    {
      schema: {
        operationId: 'getMockState',
        tags,
        summary: 'Everything stored',
        description:
          'Organizations, users with their memberships, API keys (previews only) and AI secrets as the API shows them (never the value).',
        security: adminSecurity,
        response: { 200: StoreState, ...Unauthorized },
      },
    },
    async () => app.control.state(),
  )
}

export default stateRoutes
