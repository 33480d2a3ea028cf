import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { tags } from '../../schemas/mock.js'

const HEALTHY = JSON.stringify({ status: 'ok' })

/** `/_mock/health`: answers once migrations and the seed are done. */
const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/_mock/health',
    {
      schema: {
        operationId: 'getMockHealth',
        tags,
        summary: 'Health',
        description:
          'Answers once migrations and the seed are done (the Docker HEALTHCHECK uses it). Never needs ADMIN_TOKEN.',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    // Already JSON: the first answer after start-up (what a health check waits for) does not
    // wait for a response serializer to be compiled.
    // (A string with a JSON content type is sent as it is; the cast only tells TypeBox so.)
    async (_request, reply) =>
      reply.type('application/json; charset=utf-8').send(HEALTHY as unknown as { status: 'ok' }),
  )
}

export default healthRoutes
