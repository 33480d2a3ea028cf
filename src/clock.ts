/** Where a deterministic mock's time starts. */
export const DETERMINISTIC_EPOCH = Date.parse('2026-01-01T00:00:00.000Z')

/**
 * The times the clock can show: the years RFC 3339 writes with 4 digits. Past them
 * `toISOString()` writes `+010000-…` (not RFC 3339, and sorted wrong as text) or fails.
 */
export const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z')
export const LATEST = Date.parse('9999-12-31T23:59:59.999Z')

/**
 * The mock's time. Normally the wall clock, shifted by whatever POST /_mock/clock asked;
 * in deterministic mode it stands still at DETERMINISTIC_EPOCH until it is set or advanced,
 * so that snapshots of answers stay the same from run to run.
 */
export class Clock {
  private offset = 0
  private fixed: number | null

  constructor(readonly deterministic = false) {
    this.fixed = deterministic ? DETERMINISTIC_EPOCH : null
  }

  now(): Date {
    return new Date(this.nowMs())
  }

  /** Milliseconds since the Unix epoch; a live clock set near the end of year 9999 stops at LATEST. */
  nowMs(): number {
    return this.fixed ?? Math.min(LATEST, Date.now() + this.offset)
  }

  /** Whether the clock may show `ms` (EARLIEST … LATEST). */
  static inRange(ms: number): boolean {
    return Number.isFinite(ms) && ms >= EARLIEST && ms <= LATEST
  }

  /** Sets the time; a time out of range (Clock.inRange) throws RangeError and changes nothing. */
  set(t: Date): void {
    const ms = t.getTime()
    if (!Clock.inRange(ms))
      throw new RangeError(`the clock shows ${new Date(EARLIEST).toISOString()} to ${new Date(LATEST).toISOString()}`)
    if (this.fixed !== null) this.fixed = ms
    else this.offset = ms - Date.now()
  }

  /** Moves the time on (or back) by `ms`; out of range (Clock.inRange) throws RangeError and changes nothing. */
  advance(ms: number): void {
    this.set(new Date(this.nowMs() + ms))
  }

  reset(): void {
    this.offset = 0
    if (this.fixed !== null) this.fixed = DETERMINISTIC_EPOCH
  }
}
