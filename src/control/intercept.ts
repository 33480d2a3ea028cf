import { setMaxListeners } from 'node:events'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { bearerToken, hashKey } from '../auth/authenticate.js'
import { ORG_NAME_HEADER } from '../auth/organization.js'
import type { Clock } from '../clock.js'
import type { Principal } from '../db/repository.js'
import { ApiError, renderError } from '../errors.js'
import { errorContext } from '../plugins/error-handler.js'
import type { Control } from './control.js'
import { parsePrefer, preferError, type FaultPhase } from './faults.js'
import { isV1, pathOf } from '../request-target.js'
import { journalBodyText, type JournalRecord } from './journal.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's journal record (/v1 requests only). */
    journalEntry: JournalRecord | null
    /** What `when: "after"` fault rules do to this request's answer. */
    faultAfter: FaultPhase | null
    /** The reset epoch a /v1 request arrived in, until it reaches its handler; -1 for other requests and after that. */
    admitted: number
  }
}

/**
 * Waits ms, or less when a signal aborts: when the app closes (a delayed request must not
 * hold up shutdown) or, for a request not yet at its handler, at a reset.
 */
function sleep(ms: number, ...signals: AbortSignal[]): Promise<void> {
  if (ms <= 0 || signals.some((s) => s.aborted)) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      for (const s of signals) s.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    for (const s of signals) s.addEventListener('abort', done, { once: true })
  })
}

/** What the interception of /v1 requests works with. */
export interface InterceptOptions {
  control: Control
  clock: Clock
}

/**
 * Intercepts /v1 requests for the control plane. Its hooks act on /v1 requests only, once
 * identify (src/auth/hooks.ts) knows who sent them and ahead of authorization and every
 * handler, in this order: the journal entry, `Prefer`, fault rules, then the rate limit. A
 * forced answer never reaches the store.
 */
async function interceptPlugin(app: FastifyInstance, opts: InterceptOptions) {
  const { control, clock } = opts
  const { journal, faults, limiter } = control
  const closing = new AbortController()
  setMaxListeners(0, closing.signal)
  app.addHook('preClose', async () => closing.abort())

  app.decorateRequest('journalEntry', null)
  app.decorateRequest('faultAfter', null)
  app.decorateRequest('admitted', -1)

  // A callback hook, not an async one: most requests meet no Prefer header, fault rule or
  // rate limit, and need no promise for that.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    if (!isV1(request.url)) return done()
    request.admitted = control.epoch
    if (journal.capacity > 0) {
      const record: JournalRecord = {
        id: request.id,
        timeMs: clock.nowMs(),
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: null,
        status: null,
        duration_ms: 0,
        org: null,
        faults: null,
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
    const resetSignal = control.resetSignal
    const prefer = parsePrefer(request.headers.prefer)
    if (prefer !== null) {
      const applied: string[] = []
      if (prefer.delayMs !== undefined) applied.push(`delay=${prefer.delayMs}`)
      if (prefer.code !== undefined) applied.push(`code=${prefer.code}`)
      reply.header('preference-applied', applied.join(', '))
      if (prefer.delayMs !== undefined) {
        await sleep(prefer.delayMs, closing.signal, resetSignal)
        if (request.admitted !== control.epoch) return endedByReset(request, reply)
      }
      if (prefer.code !== undefined) throw preferError(prefer.code)
    }

    // The key's hash only when a rule or the limiter needs it: most requests meet neither.
    if (faults.size === 0 && limiter === null) return
    const token = bearerToken(request.headers.authorization)
    const keyHash = token === null ? null : hashKey(token)
    const decision = faults.match(request.method, pathOf(request.url), keyHash)
    if (decision !== null) {
      if (request.journalEntry !== null) request.journalEntry.faults = decision.acted
      request.faultAfter = decision.after
      const action = decision.before
      if (action !== null) {
        await sleep(action.delayMs, closing.signal, resetSignal)
        if (request.admitted !== control.epoch) return endedByReset(request, reply)
        if (action.drop) return drop(request, reply, 'connection dropped by a fault rule')
        if (action.error !== null) throw action.error
      }
    }

    // Per key (a JWT: per token); a token that names no key is not counted, so that junk
    // tokens never share, or push out, a real key's window (they get their 401).
    const identity = request.identity
    if (limiter !== null && identity !== null) {
      const decision = limiter.take(identity.keyId ?? keyHash!)
      if (!decision.allowed) {
        throw new ApiError(
          'rate_limited',
          { limit: limiter.limit, retry_after: decision.retryAfter },
          { 'retry-after': String(decision.retryAfter) },
        )
      }
    }
  }

  /**
   * `when: "after"` rules act on the answer, once the request has run: hold it, then drop
   * the connection without it, or answer their status instead (in that status's shape,
   * with the headers of the mock's own: the request ids, CORS), or let it go as it was.
   */
  // The gate to the handler (a callback hook: no promise per request). Between it and the
  // handler nothing waits, so a reset cannot come in between.
  app.addHook('preHandler', (request, reply, done) => {
    if (request.admitted === -1) return done()
    if (request.admitted !== control.epoch) {
      endedByReset(request, reply)
      return done()
    }
    request.admitted = -1
    done()
  })

  app.addHook('onSend', (request, reply, payload, done) => {
    // Answered without reaching its handler (a refusal, a forced fault), after a reset.
    if (request.admitted !== -1 && request.admitted !== control.epoch) return endedByReset(request, reply)
    const after = request.faultAfter
    if (after === null) return done(null, payload)
    request.faultAfter = null
    const entry = request.journalEntry
    // The journal keeps the real status; the rule's is in entry.faults.
    if (entry !== null) entry.status = reply.statusCode
    sleep(after.delayMs, closing.signal).then(() => {
      // Not calling done(): Fastify never writes this answer.
      if (after.drop) return drop(request, reply, 'answer dropped by a fault rule')
      if (after.error === null) return done(null, payload)
      const r = renderError(after.error, errorContext(request, clock.now()))
      for (const h of ['x-bt-found-existing', 'retry-after', 'retry-after-ms', 'x-should-retry', 'content-length'])
        reply.removeHeader(h)
      reply.code(r.status).headers(r.headers).type(r.contentType)
      done(null, r.body)
    }, done)
  })

  app.addHook('onResponse', (request, reply, done) => {
    const entry = request.journalEntry
    if (entry !== null) complete(entry, request, reply)
    done()
  })

  /** Fills in a journal record once the request is answered (or dropped). */
  function complete(entry: JournalRecord, request: FastifyRequest, reply: FastifyReply) {
    entry.body = journalBodyText(request.body)
    entry.status ??= reply.statusCode
    entry.duration_ms = Math.round(reply.elapsedTime * 10) / 10
    entry.org = orgOf(request)
  }

  /**
   * A reset came since the request arrived, before its handler: it ends without an answer and
   * changes nothing. Its journal entry went with the reset.
   */
  function endedByReset(request: FastifyRequest, reply: FastifyReply): void {
    request.admitted = -1
    drop(request, reply, 'request ended by a reset')
  }

  /**
   * Closes the connection without an answer (over HTTP the client sees the connection
   * close; inject() rejects with LIGHT_ECONNRESET). Before any handler ran, the journal
   * shows status null and no body; after, the real status.
   */
  function drop(request: FastifyRequest, reply: FastifyReply, why: string): void {
    const entry = request.journalEntry
    if (entry !== null) {
      if (entry.status === null) {
        entry.duration_ms = Math.round(reply.elapsedTime * 10) / 10
        entry.org = orgOf(request)
      } else complete(entry, request, reply)
    }
    request.log.info({ method: request.method, url: request.url }, why)
    request.journalEntry = null
    if (!reply.sent) reply.hijack()
    reply.raw.destroy()
  }

  /**
   * The organization a request answered before its handler names: the one its x-bt-org-name
   * header names if the key spans it, else the only organization of its key.
   */
  function orgNamed(request: FastifyRequest, principal: Principal): string | null {
    const named = request.headers[ORG_NAME_HEADER]
    if (typeof named === 'string' && named !== '') return principal.orgs.some((o) => o.name === named) ? named : null
    return principal.orgs.length === 1 ? principal.orgs[0]!.name : null
  }

  /**
   * The organization the request acted in; for one answered before that (a forced fault, the
   * rate limit), see orgNamed. Lets each parallel worker find its own.
   */
  function orgOf(request: FastifyRequest): string | null {
    if (request.org !== null) return request.org.name
    return request.identity === null ? null : orgNamed(request, request.identity)
  }
}

export default fp(interceptPlugin, { name: 'intercept', fastify: '5.x' })
