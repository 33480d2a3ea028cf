import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

const tags = ['Mock control']

/** The mock's own control plane (CONTRACT section 7): not part of the Braintrust API. */
const controlRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/_mock/health',
    {
      schema: {
        tags,
        summary: 'Health',
        description: 'Answers once migrations and the seed are done (the Docker HEALTHCHECK uses it).',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  )
}

export default controlRoutes
