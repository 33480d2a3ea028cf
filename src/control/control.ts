import { setMaxListeners } from 'node:events'
import { Clock } from '../clock.js'
import type { Repository, StoreState } from '../db/repository.js'
import { parseDateTime } from '../datetime.js'
import { ApiError } from '../errors.js'
import type { RecordIds } from '../ids.js'
import type { RequestIds } from '../plugins/request-ids.js'
import { applySeed, type SeedResult } from '../seed.js'
import { FaultStore } from './faults.js'
import { Journal } from './journal.js'
import { RateLimiter } from './rate-limit.js'
import type { ClockChange } from './schemas.js'

/** How many /v1 requests the journal keeps by default (MOCK_JOURNAL_SIZE). */
export const DEFAULT_JOURNAL_SIZE = 1000

/** The control plane's settings, as buildApp takes them (adminToken, rateLimitPerMinute, journalSize). */
export interface ControlOptions {
  adminToken?: string
  rateLimitPerMinute?: number
  journalSize?: number
}

/** What the store gives the control plane: the seed to write again at each reset, and its state. */
export interface ControlStore {
  repo: Repository
  clock: Clock
  ids: RecordIds
  requestIds: RequestIds
  /** The configured seed, already read and copied; null for none. */
  seed: unknown
}

/** A time for a message: ISO when it can be written so, else its distance in milliseconds from the epoch. */
function describeTime(ms: number): string {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? `${ms} ms after 1970` : d.toISOString()
}

const EMPTY_SEED_RESULT: SeedResult = { organizations: [], users: [], api_keys: [], ai_secrets: [] }

/** Options as given to buildApp: checked here, since a library caller bypasses the CLI's checks. Throws Error. */
export function checkControlOptions(opts: ControlOptions): void {
  const whole = (v: number | undefined, name: string, min: number) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min)) {
      throw new Error(`${name}: must be a whole number of at least ${min}, not ${v}`)
    }
  }
  whole(opts.journalSize, 'journalSize', 0)
  whole(opts.rateLimitPerMinute, 'rateLimitPerMinute', 0)
  if (opts.adminToken !== undefined && !/^[\x21-\x7e]+$/.test(opts.adminToken)) {
    throw new Error('adminToken: must be one token of printable characters, without spaces')
  }
}

/** The reason resetSignal is aborted with (made once: abort() without one builds a DOMException each time). */
const RESET_REASON = new Error('reset')

/**
 * The control plane's state and operations (the `/_mock` routes of src/control/routes.ts and
 * startMockServer's helpers both act through it, as WireMock's admin routes and client share one
 * Admin interface): the journal, the fault rules, the rate limit, reset, seed, state and the clock.
 */
export class Control {
  readonly journal: Journal
  readonly faults = new FaultStore()
  readonly limiter: RateLimiter | null
  /** ADMIN_TOKEN: every /_mock route but /_mock/health wants it; null when unset. */
  readonly adminToken: string | null
  private resets: AbortController | null = null
  /** The database's reset count when this process last looked (Repository.resets). */
  private epochSeen: number

  constructor(
    private readonly store: ControlStore,
    opts: ControlOptions,
  ) {
    checkControlOptions(opts)
    this.journal = new Journal(opts.journalSize ?? DEFAULT_JOURNAL_SIZE)
    this.limiter = opts.rateLimitPerMinute ? new RateLimiter(opts.rateLimitPerMinute) : null
    this.adminToken = opts.adminToken ?? null
    this.epochSeen = store.repo.resets
  }

  /**
   * Counts resets of the database, this process's and those of another process on the same file.
   * A /v1 request remembers the epoch it arrived in; one that reaches its handler (or its answer)
   * in a later epoch is ended without an answer (src/control/intercept.ts), so nothing admitted
   * before a reset changes the state after it. A reset another process made is noticed here (every
   * /v1 request reads the epoch on arrival): this process then forgets what described the data
   * before it, as its own reset would (deterministic ids start again after the largest stored,
   * deleted secrets' list positions are forgotten, delayed requests wake to end). Its own control
   * plane (journal, fault rules, rate-limit counters, clock) is its own, and stays.
   */
  get epoch(): number {
    const count = this.store.repo.resets
    if (count !== this.epochSeen) {
      this.epochSeen = count
      this.store.ids.reset()
      this.store.repo.deleted.clear()
      this.endEpoch()
    }
    return count
  }

  /** Wakes the requests of the epoch that ends, so that they end at once. */
  private endEpoch(): void {
    this.resets?.abort(RESET_REASON)
    this.resets = null
  }

  /** Aborted by the next reset: wakes the requests of this epoch that a delay holds, so that they end at once. */
  get resetSignal(): AbortSignal {
    if (this.resets === null) {
      this.resets = new AbortController()
      // Every request a delay holds listens: no "possible leak" warning past 10 of them.
      setMaxListeners(0, this.resets.signal)
    }
    return this.resets.signal
  }

  /**
   * Back to the configured seed in one synchronous transaction (better-sqlite3 blocks the event
   * loop, so every request sees the old state or the new one); empties the journal, the fault
   * rules (their ids restart) and the rate-limit counters, restarts deterministic ids and the
   * clock, and starts a new epoch. Answers what the seed created. Throws SeedError when the
   * seed is refused (it was accepted at start-up, so only a changed store can make it fail).
   */
  reset(): SeedResult {
    const { repo, clock, ids, requestIds, seed } = this.store
    const result = repo.transaction(() => {
      repo.clearAll()
      ids.reset()
      requestIds.reset()
      clock.reset()
      return seed === null ? EMPTY_SEED_RESULT : applySeed(repo, seed, this.seedEnv)
    })
    this.journal.clear()
    this.faults.reset()
    this.limiter?.reset()
    // In the same synchronous step as the transaction: no request runs in between.
    this.epochSeen = repo.resets
    this.endEpoch()
    return result
  }

  /** Adds seed-format data in one transaction: all of it or none. Throws SeedError naming the JSON path. */
  seed(data: unknown): SeedResult {
    return applySeed(this.store.repo, data, this.seedEnv)
  }

  /** Everything stored, key hashes and secret values left out (GET /_mock/state). */
  state(): StoreState {
    return this.store.repo.state()
  }

  /**
   * Sets or advances the mock's clock and answers the new time. Advancing frees rate-limit
   * slots, as time passing would. Throws ApiError('clock_invalid').
   */
  changeClock(change: ClockChange): Date {
    const { clock } = this.store
    const before = clock.nowMs()
    if ((change.set === undefined) === (change.advance_ms === undefined)) {
      throw new ApiError('clock_invalid', { problem: 'give either set (an RFC 3339 date-time) or advance_ms' })
    }
    const target = change.set === undefined ? before + change.advance_ms! : parseDateTime(change.set)?.getTime()
    if (target === undefined) {
      throw new ApiError('clock_invalid', {
        problem: '$.set: must be an RFC 3339 date-time of a day that exists, such as 2026-01-31T12:00:00Z',
      })
    }
    if (!Clock.inRange(target)) {
      const path = change.set === undefined ? '$.advance_ms' : '$.set'
      throw new ApiError('clock_invalid', {
        problem: `${path}: the clock would show ${describeTime(target)}; it shows 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z`,
      })
    }
    clock.set(new Date(target))
    const after = clock.now()
    this.limiter?.advance(after.getTime() - before)
    return after
  }

  private readonly seedEnv = {
    now: () => this.store.clock.now(),
    newId: () => this.store.ids.newId(),
  }
}
