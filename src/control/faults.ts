import { hashKey, keyProblem } from '../auth/authenticate.js'
import { ApiError, forcedError, isForceable } from '../errors.js'
import { previewSecret } from '../preview.js'
import { normalizeTarget } from '../request-target.js'
import { checker } from '../validation.js'
import { pathMatches } from './journal.js'
import { type FaultActed, type FaultRule, FaultRuleInput, MAX_DELAY_MS } from './schemas.js'

// Fault rules and the per-request `Prefer` header, as Prism reads it.
// They act on /v1 requests before anything else, authentication included, so a forced
// answer changes nothing in the store; a rule with `when: "after"` acts on the answer
// instead, once the request has run for real.

/** How many rules may be active at once: each /v1 request is matched against every one of them. */
export const MAX_FAULT_RULES = 1000

/** How POST /_mock/faults checks a rule's structure: its schema (src/control/schemas.ts). */
const checkStructure = checker(FaultRuleInput)

/**
 * Checks a rule as sent: its structure by its schema, then what a schema cannot say (a rule
 * must do something; `drop` and `status` exclude each other; a key must be one a client can
 * send). Throws ApiError('fault_invalid') naming the JSON path of the first problem.
 */
export function checkRule(input: unknown): FaultRuleInput {
  const structure = checkStructure(input)
  if (structure !== null) throw invalid(structure.path, structure.problem)
  const rule = input as FaultRuleInput
  if (rule.key !== undefined) {
    const why = keyProblem(rule.key)
    if (why !== null) throw invalid('$.key', `must be an API key (${why})`)
  }
  if (rule.status === undefined && rule.delay_ms === undefined && rule.drop !== true) {
    throw invalid('$', 'a rule needs status, delay_ms or drop: true')
  }
  if (rule.drop === true && rule.status !== undefined) {
    throw invalid('$.drop', 'drop: true closes the connection, so the rule cannot also answer a status')
  }
  return rule
}

function invalid(path: string, problem: string): ApiError {
  return new ApiError('fault_invalid', { problem: `${path}: ${problem}` })
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

  /**
   * Adds a rule; throws ApiError('fault_invalid') naming the JSON path of the first problem, or
   * ApiError('fault_limit') past MAX_FAULT_RULES (every /v1 request walks the rules).
   */
  add(body: unknown): FaultRule {
    const input = checkRule(body)
    if (this.rules.length >= MAX_FAULT_RULES) throw new ApiError('fault_limit', { limit: MAX_FAULT_RULES })
    const id = `fault_${this.nextId++}`
    const view: FaultRule = { id, ...input, matched: 0, applied: 0 }
    if (input.method !== undefined) view.method = input.method.toUpperCase()
    // Matched against request paths as the router reads them (normalizeTarget): so is the rule's.
    if (input.path !== undefined) view.path = normalizeTarget(input.path)
    if (input.key !== undefined) view.key = previewSecret(input.key)!
    this.rules.push({
      view,
      method: view.method,
      path: view.path,
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
   * Runs a request through the rules, a pipeline in the order they were added (as WireMock
   * scenarios and MockServer's `times` script sequences). A rule sees
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
 * as in Prism, so it is no preference here; any other code is a 400 (prefer_invalid), and so is
 * a delay that is not a whole number of milliseconds (`delay=1e3`, `-1`, `0x10`: ignoring them
 * would let a test believe it waited). Only the first `code` and the first `delay` count
 * (RFC 7240 section 2: later instances of a preference are ignored).
 */
export interface Preference {
  code?: number
  delayMs?: number
}

export function parsePrefer(header: string | string[] | undefined): Preference | null {
  if (header === undefined) return null
  const out: Preference = {}
  const seen = new Set<string>()
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(/[,;]/)) {
    const m = /^\s*(code|delay)\s*=\s*"?([^"\s]*)"?\s*$/i.exec(part)
    if (m === null) continue
    const name = m[1]!.toLowerCase()
    if (seen.has(name)) continue
    seen.add(name)
    const value = m[2]!
    if (name === 'code') {
      const code = /^\d{3}$/.test(value) ? Number(value) : NaN
      if (code >= 200 && code <= 299) continue
      if (!isForceable(code)) throw new ApiError('prefer_invalid', { code: value.slice(0, 20) })
      out.code = code
    } else {
      if (!/^\d+$/.test(value)) throw new ApiError('prefer_invalid', { delay: value.slice(0, 20) })
      out.delayMs = Math.min(MAX_DELAY_MS, Number(value))
    }
  }
  return out.code === undefined && out.delayMs === undefined ? null : out
}

/** The answer `Prefer: code=<status>` forces (429 with `Retry-After: 1`). */
export function preferError(code: number): ApiError {
  return forcedError(code, `Prefer: code=${code}`, code === 429 ? { 'retry-after': '1' } : {}, 1)
}
