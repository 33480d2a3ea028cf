import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hashKey } from '../auth.js'
import type { Principal } from '../repository.js'
import { ApiError } from '../errors.js'
import { createControlContext, type ControlContext, type ControlOptions } from '../control/context.js'
import { parsePrefer, preferError } from '../control/faults.js'
import { MAX_BODY_CHARS, journalBody, pathOf, type JournalRecord } from '../control/journal.js'

declare module 'fastify' {
  interface FastifyInstance {
    control: ControlContext
  }
  interface FastifyRequest {
    /** This request's journal record (/v1 requests only). */
    journalEntry: JournalRecord | null
  }
}

const BEARER = /^Bearer +(\S+) *$/i

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
 * Intercepts /v1 requests for the control plane (CONTRACT section 7). Its hooks act on /v1 requests only,
 * ahead of authentication and every handler, in this order: the journal entry, `Prefer`,
 * fault rules, then the rate limit. A forced answer never reaches the store.
 */
async function interceptPlugin(app: FastifyInstance, opts: ControlOptions) {
  const { clock } = app.mock
  const control = createControlContext(app.mock, opts)
  const { journal, faults, limiter } = control
  const closing = new AbortController()
  app.addHook('preClose', async () => closing.abort())

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
    forced(request, reply).then(
      () => done(),
      // A forced answer to a JWT request: its token is verified (asynchronously) first, so
      // that the journal entry knows its organization by the time the client has the answer.
      (err: Error) => journalJwtOrg(request).then(() => done(err)),
    )
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
          entry.org = orgOf(request, entry)
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
      entry.org = orgOf(request, entry)
    }
    done()
  })

  /** The journal entry's organization, for a JWT bearer token it can verify (an API key's is known at once, in orgOf). */
  async function journalJwtOrg(request: FastifyRequest): Promise<void> {
    const entry = request.journalEntry
    if (entry === null || request.principal !== null) return
    try {
      const found = app.mock.auth.authenticate(request.headers.authorization)
      if (found instanceof Promise) {
        const p = await found
        entry.org = p.orgs.length === 1 ? p.orgs[0]!.name : null
      }
    } catch {
      // Not a valid token: the entry has no organization, as for a bad API key.
    }
  }

  /**
   * The organization the request acted in; for one answered before that (a forced fault, the
   * rate limit), the only organization of its key. Lets each parallel worker find its own.
   */
  function orgOf(request: FastifyRequest, entry: JournalRecord): string | null {
    if (request.org !== null) return request.org.name
    const onlyOrg = (p: Principal) => (p.orgs.length === 1 ? p.orgs[0]!.name : null)
    if (request.principal !== null) return onlyOrg(request.principal)
    let found
    try {
      found = app.mock.auth.authenticate(request.headers.authorization)
    } catch {
      return null
    }
    if (!(found instanceof Promise)) return onlyOrg(found)
    // A JWT is verified asynchronously: the entry keeps what it knows (journalJwtOrg), and
    // learns its organization when the token is verified.
    found.then((p) => (entry.org = onlyOrg(p)), () => {})
    return entry.org
  }
}

export default fp(interceptPlugin, { name: 'intercept', fastify: '5.x', dependencies: ['store', 'errors'] })
