import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from '@sinclair/typebox'
import { FaultRule, FaultRuleInput } from '../control/faults.js'
import { ApiError } from '../errors.js'
import { AISecret } from '../schemas/ai-secret.js'
import { AnyValue, Nullable } from '../schemas/nullable.js'
import { Ref } from '../schemas/responses.js'
import { SeedError } from '../seed.js'

const tags = ['Mock control']
const { Optional } = Type

// --- schemas of the control plane (documentation and serialization) ----------------------

// No anyOf in answers: fast-json-stringify compiles anyOf branches with an Ajv that cannot
// read the shared schemas' OpenAPI `nullable` (AISecret.metadata).
const Role = Type.Unsafe<'owner' | 'member'>({ type: 'string', enum: ['owner', 'member'] })

const SeedData = Type.Object(
  {
    organizations: Optional(Type.Array(Type.Object({ name: Type.String(), id: Optional(Type.String({ format: 'uuid' })), created: Optional(Type.String({ format: 'date-time' })) }))),
    users: Optional(
      Type.Array(
        Type.Object({
          email: Type.String(),
          id: Optional(Type.String({ format: 'uuid' })),
          memberships: Optional(Type.Record(Type.String(), Role, { description: 'organization name: role' })),
        }),
      ),
    ),
    api_keys: Optional(
      Type.Array(
        Type.Object({
          key: Type.String({ description: 'The plain key, as clients will send it; stored only as a hash' }),
          user: Type.String({ description: 'The email of a user' }),
          org: Optional(Nullable(Type.String({ description: 'Scope the key to this one organization' }))),
          id: Optional(Type.String({ format: 'uuid' })),
        }),
      ),
    ),
    ai_secrets: Optional(
      Type.Array(
        Type.Object({
          org: Type.String(),
          name: Type.String(),
          type: Optional(Nullable(Type.String())),
          secret: Optional(Nullable(Type.String())),
          metadata: Optional(Nullable(Type.Record(Type.String(), AnyValue))),
          id: Optional(Type.String({ format: 'uuid' })),
          created: Optional(Type.String({ format: 'date-time' })),
          updated_at: Optional(Type.String({ format: 'date-time' })),
          secret_updated_at: Optional(Type.String({ format: 'date-time' })),
        }),
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'Data in the seed-file format (README, CONTRACT section 3). Names may refer to what the mock already holds.',
  },
)

/** Data in the seed-file format, as POST /_mock/seed and startMockServer's seed() take it. */
export type SeedData = Static<typeof SeedData>

const SeedResult = Type.Object(
  {
    organizations: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
    users: Type.Array(Type.Object({ id: Type.String(), email: Type.String() })),
    api_keys: Type.Array(
      Type.Object({
        id: Type.String(),
        preview: Type.String({ description: 'A preview of the key: the plain key is never shown back' }),
        user: Type.String(),
        org: Nullable(Type.String()),
        orgs: Type.Array(Type.Object({ name: Type.String(), role: Role }), { description: 'The organizations the key spans, with its role in each' }),
      }),
    ),
    ai_secrets: Type.Array(Type.Object({ id: Type.String(), org: Type.String(), name: Type.String() })),
  },
  { description: 'What was created' },
)

const StoreState = Type.Object({
  organizations: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), created: Type.String() })),
  users: Type.Array(
    Type.Object({ id: Type.String(), email: Type.String(), created: Type.String(), memberships: Type.Record(Type.String(), Role) }),
  ),
  api_keys: Type.Array(
    Type.Object({ id: Type.String(), preview: Type.String(), user: Type.String(), org: Nullable(Type.String()), created: Type.String() }),
  ),
  ai_secrets: Type.Array(Ref(AISecret), { description: 'As the API shows them: preview_secret, never the value' }),
})

const HeaderValues = Type.Unsafe<Record<string, string | string[]>>({
  type: 'object',
  additionalProperties: true,
  description: 'name: value, or a list of values for a repeated name',
})

const JournalEntry = Type.Object({
  id: Type.String({ description: 'The request id (x-request-id)' }),
  time: Type.String({ format: 'date-time', description: 'Arrival, by the mock\u2019s clock' }),
  method: Type.String(),
  path: Type.String(),
  query: HeaderValues,
  headers: Type.Unsafe<Record<string, string | string[]>>({ ...HeaderValues, description: 'Authorization shows a preview of the token; Cookie is redacted' }),
  body: Type.Unsafe<unknown>({ ...AnyValue, description: 'The parsed JSON body, every `secret` property redacted; null when none was read' }),
  status: Nullable(Type.Integer({ description: 'null while in flight, or when a fault rule dropped the connection' })),
  duration_ms: Type.Number(),
  org: Nullable(
    Type.String({
      description: 'The organization the request acted in or, for one answered before that (a forced fault, the rate limit), the only organization of its key',
    }),
  ),
})

const ClockAnswer = Type.Object({ now: Type.String({ format: 'date-time' }), deterministic: Type.Boolean() })

const ClockChange = Type.Object(
  {
    set: Optional(Type.String({ format: 'date-time', description: 'Set the clock to this time' })),
    advance_ms: Optional(Type.Integer({ description: 'Move the clock on by this many milliseconds' })),
  },
  { additionalProperties: false, description: 'One of set or advance_ms' },
)

const Problem = (description: string) => ({ description, content: { 'text/plain': { schema: { type: 'string' } } } })
const Unauthorized = { 401: Problem('ADMIN_TOKEN is set and the request does not carry it') }
const NoContent = { 204: Type.Null({ description: 'Done' }) }

/** Bodies these routes check themselves, so that errors name JSON paths; the schema is for the docs. */
const checkedByHandler = { validatorCompiler: () => () => true }

const BEARER = /^Bearer +(\S+) *$/i
const HEALTHY = JSON.stringify({ status: 'ok' })
const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * The mock's own control plane (CONTRACT section 7): not part of the Braintrust API. The
 * state and operations live in the control plugin (src/control/plugin.ts).
 */
const controlRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const control = app.control
  const admin = control.adminToken === null ? null : digest(control.adminToken)

  app.addHook('onRequest', async (request) => {
    if (admin === null || request.url === '/_mock/health' || request.url.startsWith('/_mock/health?')) return
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1]
    if (token === undefined || !timingSafeEqual(digest(token), admin)) throw new ApiError('admin_unauthorized')
  })

  app.get(
    '/_mock/health',
    {
      schema: {
        tags,
        summary: 'Health',
        description: 'Answers once migrations and the seed are done (the Docker HEALTHCHECK uses it). Never needs ADMIN_TOKEN.',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    // Already JSON: the first answer after start-up (what a health check waits for) does not
    // wait for a response serializer to be compiled.
    // (A string with a JSON content type is sent as it is; the cast only tells TypeBox so.)
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(HEALTHY as unknown as { status: 'ok' }),
  )

  app.post(
    '/_mock/reset',
    {
      schema: {
        tags,
        summary: 'Reset to the configured seed',
        description:
          'Deletes everything and applies the configured seed again, in one transaction, while other requests run. Also empties the request journal, removes every fault rule, resets rate-limit counters, and restarts deterministic ids and the clock.',
        response: { 200: SeedResult, ...Unauthorized },
      },
    },
    async () => control.reset(),
  )

  app.post(
    '/_mock/seed',
    {
      ...checkedByHandler,
      schema: {
        tags,
        summary: 'Add data',
        description: 'Adds data in the seed-file format, all or nothing. Answers what was created: ids and key previews, never the keys.',
        body: SeedData,
        response: { 201: SeedResult, 400: Problem('The seed is invalid: the message names the JSON path, and nothing was added'), ...Unauthorized },
      },
    },
    async (request, reply) => {
      if (request.body === undefined) throw new ApiError('seed_invalid', { path: '$', problem: 'a JSON object in the seed-file format is required' })
      try {
        const result = control.seed(request.body)
        return reply.code(201).send(result)
      } catch (err) {
        if (err instanceof SeedError) throw new ApiError('seed_invalid', { path: err.path, problem: err.problem })
        throw err
      }
    },
  )

  app.get(
    '/_mock/state',
    {
      schema: {
        tags,
        summary: 'Everything stored',
        description: 'Organizations, users with their memberships, API keys (previews only) and AI secrets as the API shows them (never the value).',
        response: { 200: StoreState, ...Unauthorized },
      },
    },
    async () => control.state(),
  )

  app.get(
    '/_mock/requests',
    {
      schema: {
        tags,
        summary: 'Journal of /v1 requests',
        description: `The last MOCK_JOURNAL_SIZE (default 1000) /v1 requests, oldest first, with Authorization and secret values redacted.`,
        querystring: Type.Object({
          method: Optional(Type.String({ description: 'Only this HTTP method (any case)' })),
          path: Optional(Type.String({ description: 'Only this path; a trailing `*` matches a prefix' })),
          org: Optional(Type.String({ description: 'Only requests that acted in this organization' })),
        }),
        response: { 200: Type.Object({ requests: Type.Array(JournalEntry) }), ...Unauthorized },
      },
    },
    async (request) => ({ requests: control.journal.list(request.query) }),
  )

  app.delete(
    '/_mock/requests',
    { schema: { tags, summary: 'Clear the journal', response: { ...NoContent, ...Unauthorized } } },
    async (_request, reply) => {
      control.journal.clear()
      return reply.code(204).send()
    },
  )

  app.post(
    '/_mock/faults',
    {
      ...checkedByHandler,
      schema: {
        tags,
        summary: 'Add a fault rule',
        description:
          'Matching /v1 requests (by method, path and key) get a documented status in the documented shape, a delay, or a dropped connection, before authentication and before any handler runs, so nothing changes. `times` limits the rule to that many matches; `after` lets that many through first. Rules are checked in the order they were added: every matching rule counts the request, their delays add up, and the first one with a status or drop answers.',
        body: FaultRuleInput,
        response: { 201: FaultRule, 400: Problem('The rule is invalid: the message names the JSON path'), ...Unauthorized },
      },
    },
    async (request, reply) => reply.code(201).send(control.faults.add(request.body)),
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
    async () => ({ faults: control.faults.list() }),
  )

  app.delete(
    '/_mock/faults',
    { schema: { tags, summary: 'Remove every fault rule', response: { ...NoContent, ...Unauthorized } } },
    async (_request, reply) => {
      control.faults.clear()
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
      if (!control.faults.remove(request.params.id)) throw new ApiError('fault_not_found', { id: request.params.id })
      return reply.code(204).send()
    },
  )

  const clockAnswer = () => ({ now: app.mock.clock.now().toISOString(), deterministic: app.mock.clock.deterministic })

  app.get(
    '/_mock/clock',
    {
      schema: {
        tags,
        summary: 'The mock\u2019s time',
        description: 'The time the mock stamps records and errors with.',
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
        tags,
        summary: 'Set or advance the mock\u2019s time',
        description:
          '`{"set": "2026-01-31T12:00:00Z"}` or `{"advance_ms": 60000}`. In deterministic mode the clock stands still between changes; otherwise it runs on from the new time. Advancing also frees rate-limit slots, as time passing would.',
        body: ClockChange,
        response: { 200: ClockAnswer, 400: Problem('Neither or both of set and advance_ms, or a bad value'), ...Unauthorized },
      },
    },
    async (request) => {
      const body = request.body as unknown
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new ApiError('clock_invalid', { problem: '$: must be a JSON object with set or advance_ms' })
      }
      const { set, advance_ms, ...rest } = body as Record<string, unknown>
      const unknown = Object.keys(rest)[0]
      if (unknown !== undefined) throw new ApiError('clock_invalid', { problem: `$.${unknown}: unknown field (allowed: set, advance_ms)` })
      if (set !== undefined && typeof set !== 'string') throw new ApiError('clock_invalid', { problem: '$.set: must be an ISO 8601 date-time' })
      if (advance_ms !== undefined && !Number.isSafeInteger(advance_ms)) {
        throw new ApiError('clock_invalid', { problem: '$.advance_ms: must be a whole number of milliseconds' })
      }
      control.changeClock({ set: set as string | undefined, advance_ms: advance_ms as number | undefined })
      return clockAnswer()
    },
  )
}

export default controlRoutes
