import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { OrgAccess, Principal } from '../db/repository.js'
import { isV1 } from '../request-target.js'
import type { Authenticator } from './authenticate.js'
import { ORG_NAME_HEADER, type OrgScope, orgScope, requestedOrg } from './organization.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who sent a /v1 request, as identify found on arrival: the principal of a valid bearer
     * token, or null. The control plane reads it (journal, rate limit) before authorize runs.
     */
    identity: Principal | null
    /** Why a /v1 request has no identity: the 401 authorize answers. */
    authError: Error | null
    /** Whether identify has read the request's credentials. */
    identified: boolean
    /**
     * Who is asking, once authorize has let the request through (identity, then): what the
     * handlers and the errors' `[user_email=…]` read. null before that, so an answer forced
     * before authentication (a fault rule, `Prefer`, the rate limit) names no user.
     */
    principal: Principal | null
    /** The organizations the request may act in (OrgScope), set once its body and query are valid. */
    scope: OrgScope | null
    /**
     * The organization the request acts in, for the errors' `[user_org=…]` and the journal:
     * the one it names or the key's only one (set with the scope), then, once an operation
     * has found its record, that record's organization (acted()).
     */
    org: OrgAccess | null
  }
  interface FastifyContextConfig {
    /** Where the operation reads `org_name`: its body, its query string, or nowhere (by-id operations). */
    orgName?: 'body' | 'query'
  }
}

/** What an operation on one record answers: the record and the organization it acted in. */
export interface Acted<T> {
  value: T
  org: OrgAccess
}

/** Notes the organization an operation acted in (for the journal and error context) and answers its record. */
export function acted<T>(request: FastifyRequest, result: Acted<T>): T {
  request.org = result.org
  return result.value
}

/**
 * Step 1 of authentication, for every /v1 request, as it arrives: who is asking, from
 * `Authorization: Bearer <token>`, once per request (an API key synchronously, a JWT, three
 * dot-separated parts, asynchronously). It answers nothing: the control plane's journal, fault
 * rules and rate limit (src/control/intercept.ts) see the request first, knowing who sent it;
 * authorize answers the 401. A CORS preflight needs no credentials (upstream: `security: []`).
 */
async function identifyPlugin(app: FastifyInstance, opts: { auth: Authenticator }) {
  const { auth } = opts
  app.decorateRequest('identity', null)
  app.decorateRequest('authError', null)
  app.decorateRequest('identified', false)
  app.decorateRequest('principal', null)
  app.decorateRequest('scope', null)
  app.decorateRequest('org', null)

  app.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'OPTIONS' || !isV1(request.url)) return done()
    identifyCaller(request, auth, done)
  })
}

/** Sets request.identity or request.authError from its Authorization header, then calls done. */
function identifyCaller(request: FastifyRequest, auth: Authenticator, done: () => void): void {
  request.identified = true
  let principal: Principal | Promise<Principal>
  try {
    principal = auth.authenticate(request.headers.authorization)
  } catch (err) {
    request.authError = err as Error
    done()
    return
  }
  if (!(principal instanceof Promise)) {
    request.identity = principal
    done()
    return
  }
  principal.then(
    (p) => {
      request.identity = p
      done()
    },
    (err: Error) => {
      request.authError = err
      done()
    },
  )
}

/**
 * Step 2, in the scope of the /v1 routes (src/app.ts), as fastify/demo guards a route folder:
 *
 * - onRequest: a request identify found no principal for gets its 401, before its body is read;
 *   the others have their principal;
 * - preHandler, once the body and query are valid: the organization scope (orgScope), from
 *   `org_name` where the operation reads it (route config `orgName`) and the `x-bt-org-name`
 *   header, so that a malformed body is a 400 before an organization is looked at (400, then
 *   403, as step 2 comes before step 3 of the delete operation's rules).
 */
async function authorizePlugin(app: FastifyInstance, opts: { auth: Authenticator }) {
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'OPTIONS') return done()
    const authorize = () => {
      if (request.authError !== null) return done(request.authError)
      request.principal = request.identity
      done()
    }
    // Fails closed: a request identify did not see is identified here, never let through.
    if (!request.identified) identifyCaller(request, opts.auth, authorize)
    else authorize()
  })

  app.addHook('preHandler', (request, _reply, done) => {
    const principal = request.principal
    if (principal === null) return done()
    const from = request.routeOptions.config.orgName
    const source = (from === 'body' ? request.body : from === 'query' ? request.query : undefined) as
      | { org_name?: string | null }
      | undefined
    try {
      const scope = orgScope(principal, requestedOrg(source?.org_name, request.headers[ORG_NAME_HEADER]))
      request.scope = scope
      request.org = scope.named ?? (scope.orgs.length === 1 ? scope.orgs[0]! : null)
    } catch (err) {
      return done(err as Error)
    }
    done()
  })
}

export const identify = fp(identifyPlugin, { name: 'identify', fastify: '5.x' })
export const authorize = fp(authorizePlugin, { name: 'authorize', fastify: '5.x' })
