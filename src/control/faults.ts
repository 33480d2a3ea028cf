import { Type, type Static } from '@sinclair/typebox'
import { hashKey, keyProblem } from '../auth.js'
import { ApiError, FORCEABLE, forcedError, isForceable } from '../errors.js'
import { previewSecret } from '../preview.js'
import { pathMatches } from './journal.js'

// Fault rules (CONTRACT section 7) and the per-request `Prefer` header, as Prism reads it.
// They act on /v1 requests before anything else, authentication included, so a forced
// answer changes nothing in the store; a rule with `when: "after"` acts on the answer
// instead, once the request has run for real.

/** The longest delay a rule or `Prefer: delay=` may add. */
export const MAX_DELAY_MS = 60_000

const Status = Type.Integer({
  ...FORCEABLE,
  description:
    'Answer this status, from 400 to 599. Those the operations document (400, 401, 403, 413, 429, 500) come in their documented shape; the rest in the text shape, 502, 503 and 504 worded as a gateway in front of the API would',
})

// An enum, not a union of literals: answers are serialized without anyOf (see schemas/mock.ts).
const When = Type.Unsafe<'before' | 'after'>({
  type: 'string',
  enum: ['before', 'after'],
  description:
    '`before` (default): act before authentication and any handler, so nothing changes. `after`: let the request run for real, then act on its answer (drop it, replace it with `status`, or hold it for `delay_ms`), so the change stands',
})

export const FaultRuleInput = Type.Object(
  {
    method: Type.Optional(Type.String({ description: 'HTTP method to match (any case); absent: any' })),
    path: Type.Optional(
      Type.String({
        description: 'Path to match, without the query; may end in `*` to match a prefix; absent: any /v1 path',
      }),
    ),
    key: Type.Optional(
      Type.String({ description: 'Only requests with `Authorization: Bearer <key>`; shown back as a preview' }),
    ),
    status: Type.Optional(Status),
    retry_after: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'The `Retry-After` header in seconds, with any status (default 1 for a 429)',
      }),
    ),
    retry_after_ms: Type.Optional(
      Type.Integer({ minimum: 0, description: 'A `retry-after-ms` header, which the official client prefers' }),
    ),
    should_retry: Type.Optional(
      Type.Boolean({
        description: 'An `x-should-retry: true|false` header, which overrides the official client\u2019s choice',
      }),
    ),
    delay_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_DELAY_MS,
        description: 'Wait this long first (with or without a status)',
      }),
    ),
    drop: Type.Optional(Type.Boolean({ description: 'Close the connection without an answer' })),
    when: Type.Optional(When),
    times: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Act on this many of the requests the rule sees, then let them through; absent: unlimited',
      }),
    ),
    after: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Let this many of the requests the rule sees through first' }),
    ),
  },
  { additionalProperties: false, description: 'A fault rule: which /v1 requests it matches and what it does to them' },
)
export type FaultRuleInput = Static<typeof FaultRuleInput>

export const FaultRule = Type.Object(
  {
    id: Type.String(),
    method: Type.Optional(Type.String()),
    path: Type.Optional(Type.String()),
    key: Type.Optional(Type.String({ description: 'A preview of the key the rule matches' })),
    status: Type.Optional(Type.Integer()),
    retry_after: Type.Optional(Type.Integer()),
    retry_after_ms: Type.Optional(Type.Integer()),
    should_retry: Type.Optional(Type.Boolean()),
    delay_ms: Type.Optional(Type.Integer()),
    drop: Type.Optional(Type.Boolean()),
    when: Type.Optional(When),
    times: Type.Optional(Type.Integer()),
    after: Type.Optional(Type.Integer()),
    matched: Type.Integer({
      description: 'How many requests the rule has seen: those it matched that no earlier rule had answered',
    }),
    applied: Type.Integer({ description: 'How many of them it acted on: answered, changed the answer of, or delayed' }),
  },
  { description: 'A fault rule as stored' },
)
export type FaultRule = Static<typeof FaultRule>

function problem(path: string, what: string): never {
  throw new ApiError('fault_invalid', { problem: `${path}: ${what}` })
}

/**
 * Checks a rule as sent (POST /_mock/faults validates its body here rather than with Ajv,
 * so that each problem names its JSON path as seed errors do).
 */
export function checkRule(input: unknown): FaultRuleInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) problem('$', 'must be a JSON object')
  const fields = Object.keys(FaultRuleInput.properties)
  const o = input as Record<string, unknown>
  for (const [k, v] of Object.entries(o)) {
    const path = `$.${k}`
    if (!fields.includes(k)) problem(path, `unknown field (allowed: ${fields.join(', ')})`)
    switch (k) {
      case 'method':
        if (typeof v !== 'string' || !/^[A-Za-z]+$/.test(v)) problem(path, 'must be an HTTP method, such as "DELETE"')
        break
      case 'path':
        if (typeof v !== 'string' || !v.startsWith('/'))
          problem(path, 'must be a path starting with "/" (it may end in "*")')
        break
      case 'key':
        if (typeof v !== 'string') problem(path, 'must be an API key')
        else {
          const why = keyProblem(v)
          if (why !== null) problem(path, `must be an API key (${why})`)
        }
        break
      case 'status':
        if (!isForceable(v)) problem(path, `must be a whole number from ${FORCEABLE.minimum} to ${FORCEABLE.maximum}`)
        break
      case 'when':
        if (v !== 'before' && v !== 'after') problem(path, 'must be "before" or "after"')
        break
      case 'should_retry':
      case 'drop':
        if (typeof v !== 'boolean') problem(path, 'must be true or false')
        break
      default: {
        const min = k === 'times' ? 1 : 0
        const max = k === 'delay_ms' ? MAX_DELAY_MS : Number.MAX_SAFE_INTEGER
        if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
          problem(
            path,
            max === MAX_DELAY_MS
              ? `must be a whole number from ${min} to ${max}`
              : `must be a whole number, at least ${min}`,
          )
        }
      }
    }
  }
  const rule = o as FaultRuleInput
  if (rule.status === undefined && rule.delay_ms === undefined && rule.drop !== true)
    problem('$', 'a rule needs status, delay_ms or drop: true')
  if (rule.drop === true && rule.status !== undefined)
    problem('$.drop', 'drop: true closes the connection, so the rule cannot also answer a status')
  return rule
}

interface StoredRule {
  view: FaultRule
  method?: string
  path?: string
  keyHash?: string
}

/** What the rules do to a request at one point: before its handler, or to its answer after it. */
export interface FaultPhase {
  /** The delays of every rule that acted here, added up (at most MAX_DELAY_MS). */
  delayMs: number
  /** Close the connection without an answer. */
  drop: boolean
  /** Answer this instead. */
  error: ApiError | null
}

/** What one rule did to a request, as the journal shows it. */
export interface FaultActed {
  id: string
  when: 'before' | 'after'
  delay_ms?: number
  status?: number
  drop?: true
}

/** What the rules ask of one request: null phases when no rule acts there. */
export interface FaultDecision {
  before: FaultPhase | null
  after: FaultPhase | null
  /** Every rule that acted, in order. */
  acted: FaultActed[]
}

export class FaultStore {
  private rules: StoredRule[] = []
  private nextId = 1

  /** Adds a rule; throws ApiError('fault_invalid') naming the JSON path of the first problem. */
  add(body: unknown): FaultRule {
    const input = checkRule(body)
    const id = `fault_${this.nextId++}`
    const view: FaultRule = { id, ...input, matched: 0, applied: 0 }
    if (input.method !== undefined) view.method = input.method.toUpperCase()
    if (input.key !== undefined) view.key = previewSecret(input.key)!
    this.rules.push({
      view,
      method: view.method,
      path: input.path,
      keyHash: input.key === undefined ? undefined : hashKey(input.key),
    })
    return { ...view }
  }

  get size(): number {
    return this.rules.length
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r.view }))
  }

  remove(id: string): boolean {
    const before = this.rules.length
    this.rules = this.rules.filter((r) => r.view.id !== id)
    return this.rules.length < before
  }

  /** Removes every rule (DELETE /_mock/faults); ids keep counting, so an old id never names a new rule. */
  clear(): void {
    this.rules = []
  }

  /** Back to the start (POST /_mock/reset): no rules, and the next id is fault_1 again. */
  reset(): void {
    this.rules = []
    this.nextId = 1
  }

  /**
   * Runs a request through the rules, a pipeline in the order they were added (CONTRACT
   * section 7; as WireMock scenarios and MockServer's `times` script sequences). A rule sees
   * the request only if no earlier rule has answered it (a status or a drop answers; a delay
   * alone does not). `after` counts the requests a rule sees and lets through first; `times`
   * the ones it acts on. `matched` counts what a rule saw, `applied` what it acted on.
   */
  match(method: string, path: string, keyHash: string | null): FaultDecision | null {
    let decision: FaultDecision | null = null
    for (const rule of this.rules) {
      if (rule.method !== undefined && rule.method !== method) continue
      if (rule.path !== undefined && !pathMatches(rule.path, path)) continue
      if (rule.keyHash !== undefined && rule.keyHash !== keyHash) continue
      const v = rule.view
      v.matched++
      if (v.matched <= (v.after ?? 0) || (v.times !== undefined && v.applied >= v.times)) continue
      v.applied++
      decision ??= { before: null, after: null, acted: [] }
      const when = v.when ?? 'before'
      const phase =
        when === 'after'
          ? (decision.after ??= { delayMs: 0, drop: false, error: null })
          : (decision.before ??= { delayMs: 0, drop: false, error: null })
      const acted: FaultActed = { id: v.id, when }
      decision.acted.push(acted)
      if (v.delay_ms !== undefined) {
        phase.delayMs = Math.min(MAX_DELAY_MS, phase.delayMs + v.delay_ms)
        acted.delay_ms = v.delay_ms
      }
      if (v.drop === true) {
        phase.drop = true
        acted.drop = true
        break
      }
      if (v.status !== undefined) {
        phase.error = ruleError(v)
        acted.status = v.status
        break
      }
    }
    return decision
  }
}

function ruleError(v: FaultRule): ApiError {
  const status = v.status!
  const headers: Record<string, string> = {}
  const retryAfter = v.retry_after ?? (status === 429 ? 1 : undefined)
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter)
  if (v.retry_after_ms !== undefined) headers['retry-after-ms'] = String(v.retry_after_ms)
  if (v.should_retry !== undefined) headers['x-should-retry'] = String(v.should_retry)
  return forcedError(status, `mock fault rule ${v.id}`, headers, retryAfter ?? 1)
}

/**
 * What a `Prefer` header asks (RFC 7240 syntax: `code=429, delay=250`); other preferences are
 * ignored. `code` from 400 to 599 forces that status; a 2xx code asks for the normal answer,
 * as in Prism, so it is no preference here; any other code is a 400 (prefer_invalid).
 */
export interface Preference {
  code?: number
  delayMs?: number
}

export function parsePrefer(header: string | string[] | undefined): Preference | null {
  if (header === undefined) return null
  const out: Preference = {}
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(/[,;]/)) {
    const m = /^\s*(code|delay)\s*=\s*"?([^"\s]*)"?\s*$/i.exec(part)
    if (m === null) continue
    const name = m[1]!.toLowerCase()
    const value = m[2]!
    if (name === 'code') {
      const code = /^\d{3}$/.test(value) ? Number(value) : NaN
      if (code >= 200 && code <= 299) continue
      if (!isForceable(code)) throw new ApiError('prefer_invalid', { code: value.slice(0, 20) })
      out.code = code
    } else if (/^\d+$/.test(value)) {
      out.delayMs = Math.min(MAX_DELAY_MS, Number(value))
    }
  }
  return out.code === undefined && out.delayMs === undefined ? null : out
}

/** The answer `Prefer: code=<status>` forces (429 with `Retry-After: 1`). */
export function preferError(code: number): ApiError {
  return forcedError(code, `Prefer: code=${code}`, code === 429 ? { 'retry-after': '1' } : {}, 1)
}
