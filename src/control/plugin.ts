import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hashKey } from '../auth.js'
import { ApiError } from '../errors.js'
import type { StoreState } from '../repository.js'
import { applySeed, type SeedResult } from '../seed.js'
import { FaultStore, parsePrefer, preferError } from './faults.js'
import { Journal, MAX_BODY_CHARS, journalBody, pathOf, type JournalRecord } from './journal.js'
import { RateLimiter } from './rate-limit.js'

export const DEFAULT_JOURNAL_SIZE = 1000

export interface ControlOptions {
  adminToken?: string
  rateLimitPerMinute?: number
  journalSize?: number
}

export interface ClockChange {
  set?: string
  advance_ms?: number
}

/** The control plane's state and operations, shared by the /_mock routes and startMockServer. */
export interface ControlContext {
  journal: Journal
  faults: FaultStore
  limiter: RateLimiter | null
  adminToken: string | null
  /** Back to the configured seed in one transaction; empties the journal, the fault rules and the rate-limit counters. */
  reset(): SeedResult
  /** Adds seed-format data in one transaction; throws SeedError naming the JSON path. */
  seed(data: unknown): SeedResult
  state(): StoreState
  /** Sets or advances the mock's clock; throws ApiError('clock_invalid'). */
  changeClock(change: ClockChange): Date
}

declare module 'fastify' {
  interface FastifyInstance {
    control: ControlContext
  }
  interface FastifyRequest {
    /** This request's journal record (/v1 requests only). */
    journalEntry: JournalRecord | null
  }
}

export const EMPTY_SEED_RESULT: SeedResult = { organizations: [], users: [], api_keys: [], ai_secrets: [] }

const BEARER = /^Bearer +(\S+) *$/i
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/

function isV1(url: string): boolean {
  return url.startsWith('/v1/') || url === '/v1' || url.startsWith('/v1?')
}

/** Waits ms, or less when the app closes: a delayed request must not hold up shutdown. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * The control plane's machinery (CONTRACT section 7). Its hooks act on /v1 requests only,
 * ahead of authentication and every handler, in this order: the journal entry, `Prefer`,
 * fault rules, then the rate limit. A forced answer never reaches the store.
 */
function checkOptions(opts: ControlOptions): void {
  const whole = (v: number | undefined, name: string, min: number) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min)) throw new Error(`${name}: must be a whole number of at least ${min}, not ${v}`)
  }
  whole(opts.journalSize, 'journalSize', 0)
  whole(opts.rateLimitPerMinute, 'rateLimitPerMinute', 0)
  if (opts.adminToken !== undefined && !/^[\x21-\x7e]+$/.test(opts.adminToken)) {
    throw new Error('adminToken: must be one token of printable characters, without spaces')
  }
}

async function controlPlugin(app: FastifyInstance, opts: ControlOptions) {
  checkOptions(opts)
  const { repo, clock, ids } = app.mock
  const journal = new Journal(opts.journalSize ?? DEFAULT_JOURNAL_SIZE)
  const faults = new FaultStore()
  const limiter = opts.rateLimitPerMinute ? new RateLimiter(opts.rateLimitPerMinute) : null
  const closing = new AbortController()
  app.addHook('preClose', async () => closing.abort())

  const seedEnv = { now: () => clock.now(), newId: () => ids.newId() }
  const configured = app.mock.options.seed

  const control: ControlContext = {
    journal,
    faults,
    limiter,
    adminToken: opts.adminToken ?? null,
    reset() {
      // One synchronous transaction: no other request runs in between (better-sqlite3
      // blocks the event loop), so every request sees the old state or the new one.
      const result = repo.transaction(() => {
        repo.clearAll()
        ids.reset()
        clock.reset()
        return configured === null ? EMPTY_SEED_RESULT : applySeed(repo, configured, seedEnv)
      })
      journal.clear()
      faults.clear()
      limiter?.reset()
      return result
    },
    seed: (data) => applySeed(repo, data, seedEnv),
    state: () => repo.state(),
    changeClock(change) {
      const before = clock.now().getTime()
      if ((change.set === undefined) === (change.advance_ms === undefined)) {
        throw new ApiError('clock_invalid', { problem: 'give either set (an ISO date-time) or advance_ms' })
      }
      if (change.set !== undefined) {
        const t = ISO_DATE_TIME.test(change.set) ? Date.parse(change.set) : NaN
        if (Number.isNaN(t)) throw new ApiError('clock_invalid', { problem: 'set must be an ISO 8601 date-time, such as 2026-01-31T12:00:00Z' })
        clock.set(new Date(t))
      } else {
        clock.advance(change.advance_ms!)
      }
      const after = clock.now()
      // Time moving on frees rate-limit slots, as it would in real time.
      limiter?.advance(after.getTime() - before)
      return after
    },
  }
  app.decorate('control', control)
  app.decorateRequest('journalEntry', null)

  // A callback hook, not an async one: most requests meet no Prefer header, fault rule or
  // rate limit, and need no promise for that.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    if (!isV1(request.url)) return done()
    if (journal.capacity > 0) {
      const record: JournalRecord = {
        id: request.id,
        timeMs: clock.nowMs(),
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: null,
        bodyFormatted: true,
        status: null,
        duration_ms: 0,
        org: null,
      }
      request.journalEntry = record
      // Added on arrival, completed on answer: the journal lists requests in the order they came.
      journal.add(record)
    }
    if (request.headers.prefer === undefined && faults.size === 0 && limiter === null) return done()
    forced(request, reply).then(() => done(), done)
  })

  /** Prefer, fault rules, then the rate limit: answers (or delays) a request before it reaches the store. */
  async function forced(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const prefer = parsePrefer(request.headers.prefer)
    if (prefer !== null) {
      const applied: string[] = []
      if (prefer.delayMs !== undefined) applied.push(`delay=${prefer.delayMs}`)
      if (prefer.code !== undefined) applied.push(`code=${prefer.code}`)
      reply.header('preference-applied', applied.join(', '))
      if (prefer.delayMs !== undefined) await sleep(prefer.delayMs, closing.signal)
      if (prefer.code !== undefined) throw preferError(prefer.code)
    }

    // The key's hash only when a rule or the limiter needs it: most requests meet neither.
    if (faults.size === 0 && limiter === null) return
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1]
    const keyHash = token === undefined ? null : hashKey(token)
    const action = faults.match(request.method, pathOf(request.url), keyHash)
    if (action !== null) {
      await sleep(action.delayMs, closing.signal)
      if (action.drop) {
        const entry = request.journalEntry
        if (entry !== null) {
          entry.duration_ms = Math.round(reply.elapsedTime * 10) / 10
          entry.org = orgOf(request)
        }
        request.log.info({ method: request.method, url: request.url }, 'connection dropped by a fault rule')
        request.journalEntry = null
        reply.hijack()
        // Destroys the socket (over HTTP the client sees the connection close; inject() rejects with LIGHT_ECONNRESET).
        reply.raw.destroy()
        return
      }
      if (action.error !== null) throw action.error
    }

    if (limiter !== null && keyHash !== null) {
      const decision = limiter.take(keyHash)
      if (!decision.allowed) {
        throw new ApiError('rate_limited', { limit: limiter.limit, retry_after: decision.retryAfter }, { 'retry-after': String(decision.retryAfter) })
      }
    }
  }

  app.addHook('onResponse', (request, reply, done) => {
    const entry = request.journalEntry
    if (entry !== null) {
      // A body is kept by reference and redacted when the journal is read, unless it may be
      // big (or its size is unknown): then it is formatted now, so the journal holds at most
      // MAX_BODY_CHARS of each.
      const length = Number(request.headers['content-length'] ?? Infinity)
      if (length <= MAX_BODY_CHARS) {
        entry.body = request.body
        entry.bodyFormatted = false
      } else entry.body = journalBody(request.body)
      entry.status = reply.statusCode
      entry.duration_ms = Math.round(reply.elapsedTime * 10) / 10
      entry.org = orgOf(request)
    }
    done()
  })

  /**
   * The organization the request acted in; for one answered before that (a forced fault, the
   * rate limit), the only organization of its key. Lets each parallel worker find its own.
   */
  function orgOf(request: FastifyRequest): string | null {
    if (request.org !== null) return request.org.name
    let principal = request.principal
    if (principal === null) {
      try {
        principal = app.mock.auth.authenticate(request.headers.authorization)
      } catch {
        return null
      }
    }
    return principal.orgs.length === 1 ? principal.orgs[0]!.name : null
  }
}

export default fp(controlPlugin, { name: 'control', fastify: '5.x', dependencies: ['store', 'errors'] })
