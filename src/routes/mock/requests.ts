import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { JournalEntry, NoContent, Unauthorized, adminSecurity, tags } from '../../schemas/mock.js'

const { Optional } = Type

/** `/_mock/requests`: the journal of /v1 requests. */
const requestRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { journal } = app.control

  app.get(
    '/_mock/requests',
    {
      schema: {
        operationId: 'getMockRequests',
        tags,
        summary: 'Journal of /v1 requests',
        description: `The last MOCK_JOURNAL_SIZE (default 1000) /v1 requests, oldest first, with Authorization and secret values redacted.`,
        security: adminSecurity,
        querystring: Type.Object({
          method: Optional(Type.String({ description: 'Only this HTTP method (any case)' })),
          path: Optional(Type.String({ description: 'Only this path; a trailing `*` matches a prefix' })),
          org: Optional(Type.String({ description: 'Only requests that acted in this organization' })),
        }),
        response: { 200: Type.Object({ requests: Type.Array(JournalEntry) }), ...Unauthorized },
      },
    },
    async (request) => ({ requests: journal.list(request.query) }),
  )

  app.delete(
    '/_mock/requests',
    {
      schema: {
        operationId: 'deleteMockRequests',
        tags,
        summary: 'Clear the journal',
        description: 'Empties the journal of /v1 requests, so that a test reads only what it sent itself.',
        security: adminSecurity,
        response: { ...NoContent, ...Unauthorized },
      },
    },
    async (_request, reply) => {
      journal.clear()
      return reply.code(204).send()
    },
  )
}

export default requestRoutes
