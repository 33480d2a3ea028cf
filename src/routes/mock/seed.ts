import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ApiError } from '../../errors.js'
import {
  Problem,
  SeedData,
  SeedResult,
  Unauthorized,
  adminSecurity,
  checkedByHandler,
  tags,
} from '../../schemas/mock.js'
import { errorExample } from '../../schemas/responses.js'
import { SeedError } from '../../seed.js'

/** `/_mock/seed`: adds data in the seed-file format. */
const seedRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/_mock/seed',
    {
      ...checkedByHandler,
      schema: {
        operationId: 'postMockSeed',
        tags,
        summary: 'Add data',
        description:
          'Adds data in the seed-file format, all or nothing. Answers what was created: ids and key previews, never the keys.',
        security: adminSecurity,
        body: SeedData,
        response: {
          201: SeedResult,
          400: Problem(
            'The seed is invalid: the message names the JSON path, and nothing was added',
            errorExample(
              'seed_invalid',
              { path: '$.api_keys[0].user', problem: 'unknown user "nobody@initech.test"' },
              'anonymous',
              '/_mock/seed',
            ) as string,
          ),
          ...Unauthorized,
        },
      },
    },
    async (request, reply) => {
      if (request.body === undefined)
        throw new ApiError('seed_invalid', { path: '$', problem: 'a JSON object in the seed-file format is required' })
      try {
        const result = app.control.seed(request.body)
        return reply.code(201).send(result)
      } catch (err) {
        if (err instanceof SeedError) throw new ApiError('seed_invalid', { path: err.path, problem: err.problem })
        throw err
      }
    },
  )
}

export default seedRoutes
