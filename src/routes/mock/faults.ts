import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { FaultRule, FaultRuleInput } from '../../control/faults.js'
import { ApiError } from '../../errors.js'
import { NoContent, Problem, Unauthorized, checkedByHandler, tags } from '../../schemas/mock.js'

/** `/_mock/faults` and `/_mock/faults/{id}`: fault rules. */
const faultRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { faults } = app.control

  app.post(
    '/_mock/faults',
    {
      ...checkedByHandler,
      schema: {
        tags,
        summary: 'Add a fault rule',
        description:
          'Matching /v1 requests (by method, path and key) get a status from 400 to 599, a delay, or a dropped connection, before authentication and before any handler runs, so nothing changes. Rules form a pipeline in the order they were added: a rule sees a request only if no earlier rule has answered it (a status or a drop answers; a delay alone does not); `after` lets that many of the requests it sees through first, `times` limits it to acting on that many. So stacked rules script a sequence.',
        body: FaultRuleInput,
        response: { 201: FaultRule, 400: Problem('The rule is invalid: the message names the JSON path'), ...Unauthorized },
      },
    },
    async (request, reply) => reply.code(201).send(faults.add(request.body)),
  )

  app.get(
    '/_mock/faults',
    {
      schema: {
        tags,
        summary: 'List fault rules',
        description: 'The rules, in the order they apply, with how many requests each has matched and acted on.',
        response: { 200: Type.Object({ faults: Type.Array(FaultRule) }), ...Unauthorized },
      },
    },
    async () => ({ faults: faults.list() }),
  )

  app.delete(
    '/_mock/faults',
    { schema: { tags, summary: 'Remove every fault rule', response: { ...NoContent, ...Unauthorized } } },
    async (_request, reply) => {
      faults.clear()
      return reply.code(204).send()
    },
  )

  app.delete(
    '/_mock/faults/:id',
    {
      schema: {
        tags,
        summary: 'Remove one fault rule',
        params: Type.Object({ id: Type.String() }),
        response: { ...NoContent, ...Unauthorized, 404: Problem('No rule with that id') },
      },
    },
    async (request, reply) => {
      if (!faults.remove(request.params.id)) throw new ApiError('fault_not_found', { id: request.params.id })
      return reply.code(204).send()
    },
  )
}

export default faultRoutes
