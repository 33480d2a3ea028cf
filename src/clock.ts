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

/**
 * A time-ordered uuid (version 7, RFC 9562 section 5.7): 48 bits of Unix time in ms, the
 * version, 12 bits of counter (method 1 of section 6.2: it starts at a random value below
 * 2048 in each new millisecond and counts up within it; past 4095 the time moves on by a
 * millisecond), then the variant and 62 random bits. Each id is larger than the one before it
 * in this process, also when the system clock steps back. The random bits come from
 * randomUUID (Node keeps a pool of random bytes for it): the `uuid` package's v7 reads the
 * system's random source for every id, about 15 times slower here (5 µs against 0.35).
 */
export function uuidV7(): string {
  const now = Date.now()
  if (now > v7Time) {
    v7Time = now
    v7Counter = Math.floor(Math.random() * 0x800)
  } else if (++v7Counter > 0xfff) {
    v7Time++
    v7Counter = 0
  }
  const time = v7Time.toString(16).padStart(12, '0')
  // randomUUID: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx; from index 18 on: -Vxxx-xxxxxxxxxxxx (variant and random bits).
  return `${time.slice(0, 8)}-${time.slice(8)}-7${v7Counter.toString(16).padStart(3, '0')}${randomUUID().slice(18)}`
}

let v7Time = 0
let v7Counter = 0

/**
 * Ids of the records the mock makes (organizations, users, keys, secrets): time-ordered
 * uuids (uuidV7), or in deterministic mode a counter written as a uuid
 * (`00000000-0000-4000-8000-000000000001`). Request ids (`mock::<uuid>`) stay random
 * (version 4): nothing stores them.
 *
 * Time-ordered ids keep `ai_secrets_id` (a B-tree) appended to at its end, and deletes of
 * records made close together on few of its pages: measured in bench/README.md.
 * GUESS: which uuid version the real API makes is unrecorded; any version is a uuid
 * (`format: uuid` in the upstream spec).
 */
export class IdGenerator {
  private counter = 0
  private requests = 0

  constructor(readonly deterministic = false) {}

  newId(): string {
    if (!this.deterministic) return uuidV7()
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
