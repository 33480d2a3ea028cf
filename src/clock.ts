import { randomUUID } from 'node:crypto'

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

/** Random v4 uuids, or in deterministic mode a counter written as a uuid (`00000000-0000-4000-8000-000000000001`). */
export class IdGenerator {
  private counter = 0
  private requests = 0

  constructor(readonly deterministic = false) {}

  newId(): string {
    if (!this.deterministic) return randomUUID()
    this.counter++
    return `00000000-0000-4000-8000-${this.counter.toString(16).padStart(12, '0')}`
  }

  requestId(): string {
    if (!this.deterministic) return `mock::${randomUUID()}`
    this.requests++
    return `mock::${this.requests.toString(16).padStart(12, '0')}`
  }

  reset(): void {
    this.counter = 0
    this.requests = 0
  }
}
