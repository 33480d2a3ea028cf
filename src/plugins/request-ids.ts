import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** A caller's own `x-request-id` is kept when it is a plain token of this form. */
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/

/** A request id sent by the caller is kept (and echoed) when it is a plain token; otherwise undefined. */
export function incomingRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : undefined
}

/**
 * The ids of requests: `mock::<uuid v4>` (the real ones look like `iad1::<id>`: RECORDED-BEHAVIOUR.md),
 * or in deterministic mode `mock::000000000001`, `mock::000000000002`, … from the start or the
 * last reset. Nothing stores them, so random ones need no order.
 */
export class RequestIds {
  private count = 0

  constructor(readonly deterministic = false) {}

  next(): string {
    if (!this.deterministic) return `mock::${randomUUID()}`
    this.count++
    return `mock::${this.count.toString(16).padStart(12, '0')}`
  }

  reset(): void {
    this.count = 0
  }

  /** Fastify's `genReqId`: the caller's own id when it is a plain token, else the next one. */
  readonly forRequest = (req: { headers: Record<string, string | string[] | undefined> }): string =>
    incomingRequestId(req.headers['x-request-id']) ?? this.next()
}

/** The two headers that carry a request's id, as the real server sends them (RECORDED-BEHAVIOUR.md). */
export const REQUEST_ID_HEADERS = ['x-request-id', 'x-bt-internal-trace-id'] as const

/**
 * Every answer carries its request's id in `x-request-id` and, as the real server does, in
 * `x-bt-internal-trace-id` (the id itself is made by `RequestIds.forRequest`, Fastify's genReqId).
 */
async function requestIdsPlugin(app: FastifyInstance) {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    reply.header('x-bt-internal-trace-id', request.id)
    done()
  })
}

export default fp(requestIdsPlugin, { name: 'request-ids', fastify: '5.x' })
