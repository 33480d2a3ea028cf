import { createHash, timingSafeEqual } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify'
import { bearerToken } from '../auth/authenticate.js'
import type { Clock } from '../clock.js'
import { ApiError } from '../errors.js'
import { errorExample } from '../schemas/responses.js'
import { SeedError } from '../seed.js'
import { checker } from '../validation.js'
import type { Control } from './control.js'
import { SeedData, SeedResult } from '../schemas/seed.js'
import {
  ClockAnswer,
  ClockChange,
  FaultRule,
  FaultRuleInput,
  JournalEntry,
  JournalFilter,
  NoContent,
  Problem,
  StoreState,
  Unauthorized,
  adminSecurity,
  tags,
} from './schemas.js'

/** One route of the control plane: what it is, as the OpenAPI document shows it, and its handler. */
interface AdminRoute {
  method: 'GET' | 'POST' | 'DELETE'
  url: string
  schema: FastifySchema & Record<string, unknown>
  /** The body is checked by the handler (its errors name JSON paths); the schema is for the docs. */
  checksItsBody?: true
  handler: (request: FastifyRequest, reply: FastifyReply) => unknown
}

const HEALTHY = JSON.stringify({ status: 'ok' })
const checkClockChange = checker(ClockChange)

const problem400 = (
  description: string,
  code: Parameters<typeof errorExample>[0],
  params: Record<string, string>,
  path: string,
) => ({
  400: Problem(description, errorExample(code, params, 'anonymous', path) as string),
})

/**
 * The control plane's routes, as one table (as WireMock keeps its admin routes in one place,
 * AdminRoutes.java): each is a thin call to Control. Not part of the Braintrust API: they sit
 * under their own tag and security scheme in the OpenAPI document.
 */
function adminRoutes(control: Control, clock: Clock): AdminRoute[] {
  const clockAnswer = () => ({ now: clock.now().toISOString(), deterministic: clock.deterministic })
  return [
    {
      method: 'GET',
      url: '/_mock/health',
      schema: {
        operationId: 'getMockHealth',
        summary: 'Health',
        description:
          'Answers once migrations and the seed are done (the Docker HEALTHCHECK uses it). Never needs ADMIN_TOKEN.',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
      // Already JSON: the first answer after start-up (what a health check waits for) does not
      // wait for a response serializer to be compiled.
      handler: (_request, reply) => reply.type('application/json; charset=utf-8').send(HEALTHY),
    },
    {
      method: 'POST',
      url: '/_mock/reset',
      schema: {
        operationId: 'postMockReset',
        summary: 'Reset to the configured seed',
        description:
          'Deletes everything and applies the configured seed again, in one transaction, while other requests ' +
          'run. Every /v1 request that arrived before and has not reached its handler yet (held by a fault delay, ' +
          '`Prefer: delay`, or its body still arriving) ends without an answer and changes nothing. Also empties ' +
          'the request journal, removes every fault rule (their ids restart at fault_1), resets rate-limit ' +
          'counters, and restarts deterministic ids and the clock.',
        response: { 200: SeedResult },
      },
      handler: () => control.reset(),
    },
    {
      method: 'POST',
      url: '/_mock/seed',
      checksItsBody: true,
      schema: {
        operationId: 'postMockSeed',
        summary: 'Add data',
        description:
          'Adds data in the seed-file format, all or nothing. Answers what was created: ids and key previews, ' +
          'never the keys.',
        body: SeedData,
        response: {
          201: SeedResult,
          ...problem400(
            'The seed is invalid: the message names the JSON path, and nothing was added',
            'seed_invalid',
            { path: '$.api_keys[0].user', problem: 'unknown user "nobody@initech.test"' },
            '/_mock/seed',
          ),
        },
      },
      handler: (request, reply) => {
        if (request.body === undefined) {
          throw new ApiError('seed_invalid', {
            path: '$',
            problem: 'a JSON object in the seed-file format is required',
          })
        }
        try {
          return reply.code(201).send(control.seed(request.body))
        } catch (err) {
          if (err instanceof SeedError) throw new ApiError('seed_invalid', { path: err.path, problem: err.problem })
          throw err
        }
      },
    },
    {
      method: 'GET',
      url: '/_mock/state',
      schema: {
        operationId: 'getMockState',
        summary: 'Everything stored',
        description:
          'Organizations, users with their memberships, API keys (previews only) and AI secrets as the API shows ' +
          'them (never the value).',
        response: { 200: StoreState },
      },
      handler: () => control.state(),
    },
    {
      method: 'GET',
      url: '/_mock/requests',
      schema: {
        operationId: 'getMockRequests',
        summary: 'Journal of /v1 requests',
        description:
          'The last MOCK_JOURNAL_SIZE (default 1000) /v1 requests, oldest first, with Authorization and secret ' +
          'values redacted.',
        querystring: JournalFilter,
        response: { 200: Type.Object({ requests: Type.Array(JournalEntry) }) },
      },
      // Sent as text: the bodies are spliced in as the journal keeps them, never parsed (journal.ts).
      handler: (request, reply) =>
        reply
          .type('application/json; charset=utf-8')
          .send(control.journal.listJson(request.query as Record<string, string>)),
    },
    {
      method: 'DELETE',
      url: '/_mock/requests',
      schema: {
        operationId: 'deleteMockRequests',
        summary: 'Clear the journal',
        description: 'Empties the journal of /v1 requests, so that a test reads only what it sent itself.',
        response: { ...NoContent },
      },
      handler: (_request, reply) => {
        control.journal.clear()
        return reply.code(204).send()
      },
    },
    {
      method: 'POST',
      url: '/_mock/faults',
      checksItsBody: true,
      schema: {
        operationId: 'postMockFaults',
        summary: 'Add a fault rule',
        description:
          'Matching /v1 requests (by method, path and key) get a status from 400 to 599, a delay, or a dropped ' +
          'connection, before authentication and before any handler runs, so nothing changes. Rules form a ' +
          'pipeline in the order they were added: a rule sees a request only if no earlier rule has answered it ' +
          '(a status or a drop answers; a delay alone does not); `after` lets that many of the requests it sees ' +
          'through first, `times` limits it to acting on that many. So stacked rules script a sequence.',
        body: FaultRuleInput,
        response: {
          201: FaultRule,
          ...problem400(
            'The rule is invalid: the message names the JSON path',
            'fault_invalid',
            { problem: '$.times: must be a whole number, at least 1, not 0' },
            '/_mock/faults',
          ),
        },
      },
      handler: (request, reply) => reply.code(201).send(control.faults.add(request.body)),
    },
    {
      method: 'GET',
      url: '/_mock/faults',
      schema: {
        operationId: 'getMockFaults',
        summary: 'List fault rules',
        description: 'The rules, in the order they apply, with how many requests each has matched and acted on.',
        response: { 200: Type.Object({ faults: Type.Array(FaultRule) }) },
      },
      handler: () => ({ faults: control.faults.list() }),
    },
    {
      method: 'DELETE',
      url: '/_mock/faults',
      schema: {
        operationId: 'deleteMockFaults',
        summary: 'Remove every fault rule',
        description: 'Removes every fault rule: /v1 requests are answered normally again.',
        response: { ...NoContent },
      },
      handler: (_request, reply) => {
        control.faults.clear()
        return reply.code(204).send()
      },
    },
    {
      method: 'DELETE',
      url: '/_mock/faults/:id',
      schema: {
        operationId: 'deleteMockFaultsId',
        summary: 'Remove one fault rule',
        description: 'Removes the rule with that id; the others keep their order and counts.',
        params: Type.Object({
          id: Type.String({
            description: 'The id POST /_mock/faults answered (`fault_1` for the first rule after start-up)',
          }),
        }),
        response: {
          ...NoContent,
          404: Problem(
            'No rule with that id',
            errorExample('fault_not_found', { id: 'fault_9' }, 'anonymous', '/_mock/faults/fault_9') as string,
          ),
        },
      },
      handler: (request, reply) => {
        const { id } = request.params as { id: string }
        if (!control.faults.remove(id)) throw new ApiError('fault_not_found', { id })
        return reply.code(204).send()
      },
    },
    {
      method: 'GET',
      url: '/_mock/clock',
      schema: {
        operationId: 'getMockClock',
        summary: 'The mock\u2019s time',
        description: 'The time the mock stamps records and errors with.',
        response: { 200: ClockAnswer },
      },
      handler: () => clockAnswer(),
    },
    {
      method: 'POST',
      url: '/_mock/clock',
      checksItsBody: true,
      schema: {
        operationId: 'postMockClock',
        summary: 'Set or advance the mock\u2019s time',
        description:
          '`{"set": "2026-01-31T12:00:00Z"}` or `{"advance_ms": 60000}`. In deterministic mode the clock stands ' +
          'still between changes; otherwise it runs on from the new time. Advancing also frees rate-limit slots, ' +
          'as time passing would.',
        body: ClockChange,
        response: {
          200: ClockAnswer,
          ...problem400(
            'Neither or both of set and advance_ms, or a bad value',
            'clock_invalid',
            { problem: '$.advance_ms: must be a whole number from -9007199254740991 to 9007199254740991, not 1.5' },
            '/_mock/clock',
          ),
        },
      },
      handler: (request) => {
        const problem = checkClockChange(request.body)
        if (problem !== null) throw new ApiError('clock_invalid', { problem: `${problem.path}: ${problem.problem}` })
        control.changeClock(request.body as ClockChange)
        return clockAnswer()
      },
    },
  ]
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * The `/_mock` routes (adminRoutes), in a scope of their own: with ADMIN_TOKEN set, every one
 * of them but /_mock/health wants `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant
 * time) and answers 401 without it.
 */
export async function controlRoutes(app: FastifyInstance, opts: { control: Control; clock: Clock }) {
  const { control, clock } = opts
  const admin = control.adminToken === null ? null : digest(control.adminToken)
  app.addHook('onRequest', (request, _reply, done) => {
    if (admin === null || request.routeOptions.url === '/_mock/health') return done()
    const token = bearerToken(request.headers.authorization)
    if (token === null || !timingSafeEqual(digest(token), admin)) return done(new ApiError('admin_unauthorized'))
    done()
  })
  for (const route of adminRoutes(control, clock)) {
    const security = route.url === '/_mock/health' ? {} : { security: adminSecurity }
    const responses = route.url === '/_mock/health' ? {} : Unauthorized
    app.route({
      method: route.method,
      url: route.url,
      schema: { tags, ...security, ...route.schema, response: { ...(route.schema.response as object), ...responses } },
      ...(route.checksItsBody ? { validatorCompiler: () => () => true } : {}),
      handler: async (request, reply) => route.handler(request, reply),
    })
  }
}
