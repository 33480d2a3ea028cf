import { setMaxListeners } from 'node:events'
import { parseDateTime } from '../datetime.js'
import { ApiError } from '../errors.js'
import type { MockContext } from '../plugins/store.js'
import type { StoreState } from '../repository.js'
import { applySeed, compileSeed, replaySeed, type CompiledSeed, type SeedResult } from '../seed.js'
import { FaultStore } from './faults.js'
import { Journal } from './journal.js'
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
  /**
   * Counts resets. A /v1 request remembers the epoch it arrived in; one that reaches its
   * handler (or its answer) in a later epoch is ended without an answer (CONTRACT section 7),
   * so nothing admitted before a reset changes the state after it.
   */
  readonly epoch: number
  /** Aborted by the next reset: wakes the requests of this epoch that a delay holds, so that they end at once. */
  readonly resetSignal: AbortSignal
  /**
   * Back to the configured seed in one synchronous transaction; empties the journal, the
   * fault rules (their ids restart) and the rate-limit counters, and starts a new epoch.
   */
  reset(): SeedResult
  /** Adds seed-format data in one transaction; throws SeedError naming the JSON path. */
  seed(data: unknown): SeedResult
  state(): StoreState
  /** Sets or advances the mock's clock; throws ApiError('clock_invalid'). */
  changeClock(change: ClockChange): Date
}

export const EMPTY_SEED_RESULT: SeedResult = { organizations: [], users: [], api_keys: [], ai_secrets: [] }

/** Options as given to buildApp: checked here, since a library caller bypasses the CLI's checks. */
export function checkControlOptions(opts: ControlOptions): void {
  const whole = (v: number | undefined, name: string, min: number) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min))
      throw new Error(`${name}: must be a whole number of at least ${min}, not ${v}`)
  }
  whole(opts.journalSize, 'journalSize', 0)
  whole(opts.rateLimitPerMinute, 'rateLimitPerMinute', 0)
  if (opts.adminToken !== undefined && !/^[\x21-\x7e]+$/.test(opts.adminToken)) {
    throw new Error('adminToken: must be one token of printable characters, without spaces')
  }
}

function newResetController(): AbortController {
  const c = new AbortController()
  // Every request a delay holds listens: no "possible leak" warning past 10 of them.
  setMaxListeners(0, c.signal)
  return c
}

/** The reason resetSignal is aborted with (made once: AbortController.abort() without one builds a DOMException each time). */
const RESET_REASON = new Error('reset')

/** The control plane (CONTRACT section 7) over the store: journal, fault rules, rate limit, reset, seed, state, clock. */
export function createControlContext(mock: MockContext, opts: ControlOptions): ControlContext {
  checkControlOptions(opts)
  const { repo, clock, ids } = mock
  const journal = new Journal(opts.journalSize ?? DEFAULT_JOURNAL_SIZE)
  const faults = new FaultStore()
  const limiter = opts.rateLimitPerMinute ? new RateLimiter(opts.rateLimitPerMinute) : null
  const seedEnv = { now: () => clock.now(), newId: () => ids.newId() }
  const configured = mock.options.seed
  /**
   * The configured seed, checked and recorded on the first reset (compileSeed) and written
   * again from that record at every reset (called right after clearAll and ids.reset()): as
   * applySeed would write it into the empty store, without checking it, hashing its keys or
   * looking anything up again. false: it cannot be compiled (applySeed refuses it), so each
   * reset applies it and fails as applySeed does.
   */
  let compiled: CompiledSeed | false | undefined
  const applyConfigured = (): SeedResult => {
    if (compiled === undefined) {
      try {
        compiled = compileSeed(configured)
      } catch {
        compiled = false
      }
    }
    if (compiled !== false) {
      const result = replaySeed(repo, compiled, seedEnv)
      if (result !== null) return result
      // An id it made is one the seed gives (deterministic ids can be): applySeed decides,
      // making its ids from the start again, as right after ids.reset().
      ids.reset()
    }
    return applySeed(repo, configured, seedEnv)
  }
  let epoch = 0
  // Made when a request first asks for the signal (one a delay holds), not at every reset.
  let resets: AbortController | null = null

  return {
    journal,
    faults,
    limiter,
    adminToken: opts.adminToken ?? null,
    get epoch() {
      return epoch
    },
    get resetSignal() {
      return (resets ??= newResetController()).signal
    },
    reset() {
      // One synchronous transaction: no other request runs in between (better-sqlite3
      // blocks the event loop), so every request sees the old state or the new one.
      const result = repo.transaction(() => {
        repo.clearAll()
        ids.reset()
        clock.reset()
        return configured === null ? EMPTY_SEED_RESULT : applyConfigured()
      })
      journal.clear()
      faults.reset()
      limiter?.reset()
      // In the same synchronous step as the transaction: no request runs in between.
      epoch++
      resets?.abort(RESET_REASON)
      resets = null
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
        const t = parseDateTime(change.set)
        if (t === null)
          throw new ApiError('clock_invalid', {
            problem: 'set must be an ISO 8601 date-time, such as 2026-01-31T12:00:00Z',
          })
        clock.set(t)
      } else {
        clock.advance(change.advance_ms!)
      }
      const after = clock.now()
      // Time moving on frees rate-limit slots, as it would in real time.
      limiter?.advance(after.getTime() - before)
      return after
    },
  }
}
