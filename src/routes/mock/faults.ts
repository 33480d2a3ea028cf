import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { FaultRule, FaultRuleInput } from '../../control/faults.js'
import { ApiError } from '../../errors.js'
import { NoContent, Problem, Unauthorized, adminSecurity, checkedByHandler, tags } from '../../schemas/mock.js'
import { errorExample } from '../../schemas/responses.js'

/** `/_mock/faults` and `/_mock/faults/{id}`: fault rules. */
const faultRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { faults } = app.control

  app.post(
    '/_mock/faults',
    {
      ...checkedByHandler,
      schema: {
        operationId: 'postMockFaults',
        tags,
        summary: 'Add a fault rule',
        description:
          'Matching /v1 requests (by method, path and key) get a status from 400 to 599, a delay, or a dropped connection, before authentication and before any handler runs, so nothing changes. Rules form a pipeline in the order they were added: a rule sees a request only if no earlier rule has answered it (a status or a drop answers; a delay alone does not); `after` lets that many of the requests it sees through first, `times` limits it to acting on that many. So stacked rules script a sequence.',
        security: adminSecurity,
        body: FaultRuleInput,
        response: {
          201: FaultRule,
          400: Problem(
            'The rule is invalid: the message names the JSON path',
            errorExample(
              'fault_invalid',
              { problem: '$.times: must be a whole number, at least 1' },
              'anonymous',
              '/_mock/faults',
            ) as string,
          ),
          ...Unauthorized,
        },
      },
    },
    async (request, reply) => reply.code(201).send(faults.add(request.body)),
  )

  app.get(
    '/_mock/faults',
    {
      schema: {
        operationId: 'getMockFaults',
        tags,
        summary: 'List fault rules',
        description: 'The rules, in the order they apply, with how many requests each has matched and acted on.',
        security: adminSecurity,
        response: { 200: Type.Object({ faults: Type.Array(FaultRule) }), ...Unauthorized },
      },
    },
    async () => ({ faults: faults.list() }),
  )

  app.delete(
    '/_mock/faults',
    {
      schema: {
        operationId: 'deleteMockFaults',
        tags,
        summary: 'Remove every fault rule',
        description: 'Removes every fault rule: /v1 requests are answered normally again.',
        security: adminSecurity,
        response: { ...NoContent, ...Unauthorized },
      },
    },
    async (_request, reply) => {
      faults.clear()
      return reply.code(204).send()
    },
  )

  app.delete(
    '/_mock/faults/:id',
    {
      schema: {
        operationId: 'deleteMockFaultsId',
        tags,
        summary: 'Remove one fault rule',
        description: 'Removes the rule with that id; the others keep their order and counts.',
        security: adminSecurity,
        params: Type.Object({
          id: Type.String({
            description: 'The id POST /_mock/faults answered (`fault_1` for the first rule after start-up)',
          }),
        }),
        response: {
          ...NoContent,
          ...Unauthorized,
          404: Problem(
            'No rule with that id',
            errorExample('fault_not_found', { id: 'fault_9' }, 'anonymous', '/_mock/faults/fault_9') as string,
          ),
        },
      },
    },
    async (request, reply) => {
      if (!faults.remove(request.params.id)) throw new ApiError('fault_not_found', { id: request.params.id })
      return reply.code(204).send()
    },
  )
}

export default faultRoutes
