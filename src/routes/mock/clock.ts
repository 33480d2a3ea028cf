import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ApiError } from '../../errors.js'
import { errorExample } from '../../schemas/responses.js'
import {
  ClockAnswer,
  ClockChange,
  Problem,
  Unauthorized,
  adminSecurity,
  checkedByHandler,
  tags,
} from '../../schemas/mock.js'

/** `/_mock/clock`: the mock's time. */
const clockRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const clockAnswer = () => ({ now: app.mock.clock.now().toISOString(), deterministic: app.mock.clock.deterministic })

  app.get(
    '/_mock/clock',
    {
      schema: {
        operationId: 'getMockClock',
        tags,
        summary: 'The mock\u2019s time',
        description: 'The time the mock stamps records and errors with.',
        security: adminSecurity,
        response: { 200: ClockAnswer, ...Unauthorized },
      },
    },
    async () => clockAnswer(),
  )

  app.post(
    '/_mock/clock',
    {
      ...checkedByHandler,
      schema: {
        operationId: 'postMockClock',
        tags,
        summary: 'Set or advance the mock\u2019s time',
        description:
          '`{"set": "2026-01-31T12:00:00Z"}` or `{"advance_ms": 60000}`. In deterministic mode the clock stands still between changes; otherwise it runs on from the new time. Advancing also frees rate-limit slots, as time passing would.',
        security: adminSecurity,
        body: ClockChange,
        response: {
          200: ClockAnswer,
          400: Problem(
            'Neither or both of set and advance_ms, or a bad value',
            errorExample(
              'clock_invalid',
              { problem: '$.advance_ms: must be a whole number of milliseconds' },
              'anonymous',
              '/_mock/clock',
            ) as string,
          ),
          ...Unauthorized,
        },
      },
    },
    async (request) => {
      const body = request.body as unknown
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new ApiError('clock_invalid', { problem: '$: must be a JSON object with set or advance_ms' })
      }
      const { set, advance_ms, ...rest } = body as Record<string, unknown>
      const unknown = Object.keys(rest)[0]
      if (unknown !== undefined)
        throw new ApiError('clock_invalid', { problem: `$.${unknown}: unknown field (allowed: set, advance_ms)` })
      if (set !== undefined && typeof set !== 'string')
        throw new ApiError('clock_invalid', { problem: '$.set: must be an ISO 8601 date-time' })
      if (advance_ms !== undefined && !Number.isSafeInteger(advance_ms)) {
        throw new ApiError('clock_invalid', { problem: '$.advance_ms: must be a whole number of milliseconds' })
      }
      app.control.changeClock({ set: set as string | undefined, advance_ms: advance_ms as number | undefined })
      return clockAnswer()
    },
  )
}

export default clockRoutes
