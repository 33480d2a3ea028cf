// RATE_LIMIT_PER_MINUTE (docs/configuration.md): a sliding window of one minute per API key.
//
// Sliding log rather than fixed windows: a fixed window lets 2x the limit through around
// a window boundary, and its Retry-After says when the window ends rather than when a slot
// frees. Here each key keeps the times of its accepted requests in the last minute (at
// most `limit` of them), so Retry-After is exact: when the oldest of them leaves the window.
// A refused request takes no slot.

export const WINDOW_MS = 60_000
/** Keys tracked at once; past this, the least recently seen key is forgotten. */
export const MAX_KEYS = 10_000

/** The accepted request times of one key, oldest first: a queue over an array, compacted now and then. */
class Window {
  times: number[] = []
  head = 0

  expire(now: number): void {
    while (this.head < this.times.length && this.times[this.head]! <= now - WINDOW_MS) this.head++
    if (this.head > 64 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head)
      this.head = 0
    }
  }

  get count(): number {
    return this.times.length - this.head
  }

  get newest(): number {
    return this.times[this.times.length - 1] ?? -Infinity
  }
}

export interface RateDecision {
  allowed: boolean
  /** When refused: whole seconds until a slot frees (at least 1). */
  retryAfter: number
}

export class RateLimiter {
  private windows = new Map<string, Window>()
  /** Time moved on by POST /_mock/clock: advancing the mock's clock frees slots as real time would. */
  private skew = 0

  constructor(
    readonly limit: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get trackedKeys(): number {
    return this.windows.size
  }

  take(key: string): RateDecision {
    const now = this.now() + this.skew
    let w = this.windows.get(key)
    if (w === undefined) {
      this.evict(now)
      w = new Window()
    } else {
      // Map order is the order keys were last seen: move this one to the end.
      this.windows.delete(key)
    }
    this.windows.set(key, w)
    w.expire(now)
    if (w.count < this.limit) {
      w.times.push(now)
      return { allowed: true, retryAfter: 0 }
    }
    const freesAt = w.times[w.head]! + WINDOW_MS
    return { allowed: false, retryAfter: Math.max(1, Math.ceil((freesAt - now) / 1000)) }
  }

  /** Forgets keys idle for a whole window (the least recently seen come first), and the oldest past MAX_KEYS. */
  private evict(now: number): void {
    for (const [key, w] of this.windows) {
      if (w.newest > now - WINDOW_MS && this.windows.size < MAX_KEYS) break
      this.windows.delete(key)
    }
  }

  advance(ms: number): void {
    if (ms > 0) this.skew += ms
  }

  reset(): void {
    this.windows.clear()
  }
}
