/** Where a deterministic mock's time starts. */
export const DETERMINISTIC_EPOCH = Date.parse('2026-01-01T00:00:00.000Z')

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

  nowMs(): number {
    return this.fixed ?? Date.now() + this.offset
  }

  set(t: Date): void {
    if (this.fixed !== null) this.fixed = t.getTime()
    else this.offset = t.getTime() - Date.now()
  }

  advance(ms: number): void {
    if (this.fixed !== null) this.fixed += ms
    else this.offset += ms
  }

  reset(): void {
    this.offset = 0
    if (this.fixed !== null) this.fixed = DETERMINISTIC_EPOCH
  }
}
