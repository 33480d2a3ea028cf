import type { FastifyInstance, InjectOptions } from 'fastify'
import type { BuiltMock } from './app.js'
import type { MockApp } from './fastify-types.js'
import type {
  FaultRule,
  FaultRuleInput,
  JournalEntry,
  JournalFilter,
  Role,
  SeedData,
  SeedResult,
} from './public-types.js'

/** An API key the mock was seeded with, in plain text (it came from the caller's own seed data). */
export interface MockApiKey {
  key: string
  id: string
  /** The email of its user. */
  user: string
  /** The organization it is scoped to, or null. */
  org: string | null
  /** The organizations it spans, with its role in each. */
  orgs: { name: string; role: Role }[]
}

/**
 * The keys of the configured seed and of every seed() since the last reset (reset() goes
 * back to the configured seed's keys). The object is updated in place.
 */
export interface MockApiKeys {
  /** In seed order. */
  list: MockApiKey[]
  /** The first key of each user, by email. */
  byUser: Record<string, string>
  /**
   * For each organization, a key acting in it as owner and one as member. Keys that span
   * only that organization are preferred, so requests need no `org_name`.
   */
  byOrg: Record<string, { owner?: string; member?: string }>
}

/**
 * What a running mock offers a test, whether it listens (startMockServer) or answers MSW's handlers (createMswMock).
 */
export interface MockControls {
  apiKeys: MockApiKeys
  /** The app, for `inject()` (the Fastify instance; see MockApp). */
  app: MockApp
  /**
   * Stops the mock and closes the database. Calling it again resolves at once; every other
   * method then rejects with an Error that says so.
   */
  close(): Promise<void>
  /** POST /_mock/reset: back to the configured seed. */
  reset(): Promise<SeedResult>
  /** POST /_mock/seed: adds data (all or nothing) and its keys to apiKeys. Rejects with the 400's message. */
  seed(data: SeedData): Promise<SeedResult & { keys: MockApiKey[] }>
  /** GET /_mock/requests: the journal of /v1 requests, oldest first. */
  requests(filter?: JournalFilter): Promise<JournalEntry[]>
  /** POST /_mock/faults: adds a rule (`when: 'after'` acts on the real answer) and answers it with its id. */
  fault(rule: FaultRuleInput): Promise<FaultRule>
  /** DELETE /_mock/faults. */
  clearFaults(): Promise<void>
}

/** Thrown by the controls when the control plane refuses a request (an invalid seed or rule). */
export class MockControlError extends Error {
  override name = 'MockControlError'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

function plainKeys(data: unknown, result: SeedResult): MockApiKey[] {
  const given = (data as { api_keys?: { key: string }[] } | null)?.api_keys ?? []
  return result.api_keys.map((k, i) => ({ key: given[i]!.key, id: k.id, user: k.user, org: k.org, orgs: k.orgs }))
}

function rebuild(apiKeys: MockApiKeys, keys: MockApiKey[]): void {
  apiKeys.list.splice(0, apiKeys.list.length, ...keys)
  for (const k of Object.keys(apiKeys.byUser)) delete apiKeys.byUser[k]
  for (const k of Object.keys(apiKeys.byOrg)) delete apiKeys.byOrg[k]
  add(apiKeys, [])
}

function add(apiKeys: MockApiKeys, keys: MockApiKey[]): void {
  apiKeys.list.push(...keys)
  const spans = new Map(apiKeys.list.map((k) => [k.key, k.orgs.length]))
  for (const k of apiKeys.list) {
    apiKeys.byUser[k.user] ??= k.key
    for (const o of k.orgs) {
      const slot = (apiKeys.byOrg[o.name] ??= {})
      const current = slot[o.role]
      if (current === undefined || (spans.get(current)! > 1 && k.orgs.length === 1)) slot[o.role] = k.key
    }
  }
}

/**
 * The controls of a built mock. They go through the /_mock routes themselves (with the admin
 * token when there is one): the same checks, the same answers. `stop` ends whatever serves
 * the app (a listening server), then closes the app; it runs once.
 */
export function mockControls(built: BuiltMock, stop: (app: FastifyInstance) => Promise<void>): MockControls {
  const { app, mock } = built
  const apiKeys: MockApiKeys = { list: [], byUser: {}, byOrg: {} }
  if (mock.seeded !== null) add(apiKeys, plainKeys(mock.seed, mock.seeded))
  const admin = mock.control.adminToken === null ? {} : { authorization: `Bearer ${mock.control.adminToken}` }
  let closing: Promise<void> | null = null
  const control = async (helper: string, opts: InjectOptions & { url: string }) => {
    // (Fastify would throw FST_ERR_REOPENED_CLOSE_SERVER, which names no cause.)
    if (closing !== null) {
      throw new Error(`ai-secret-mock: ${helper}() was called after close(): the mock server is closed`)
    }
    const res = await app.inject({ ...opts, headers: { ...admin, ...opts.headers } })
    if (res.statusCode >= 400) throw new MockControlError(res.statusCode, res.body)
    return res
  }

  return {
    apiKeys,
    app: app as unknown as MockApp,
    close() {
      closing ??= stop(app)
      return closing
    },
    async reset() {
      const result = (await control('reset', { method: 'POST', url: '/_mock/reset' })).json<SeedResult>()
      rebuild(apiKeys, plainKeys(mock.seed, result))
      return result
    },
    async seed(data) {
      const result = (await control('seed', { method: 'POST', url: '/_mock/seed', payload: data })).json<SeedResult>()
      const keys = plainKeys(data, result)
      add(apiKeys, keys)
      return { ...result, keys }
    },
    async requests(filter = {}) {
      const query: Record<string, string> = {}
      if (filter.method !== undefined) query.method = filter.method
      if (filter.path !== undefined) query.path = filter.path
      if (filter.org !== undefined) query.org = filter.org
      const res = await control('requests', { method: 'GET', url: '/_mock/requests', query })
      return res.json<{ requests: JournalEntry[] }>().requests
    },
    async fault(rule) {
      return (await control('fault', { method: 'POST', url: '/_mock/faults', payload: rule })).json<FaultRule>()
    },
    async clearFaults() {
      await control('clearFaults', { method: 'DELETE', url: '/_mock/faults' })
    },
  }
}
