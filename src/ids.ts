import { randomUUID } from 'node:crypto'

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

/** The prefix of a deterministic id: the counter fills the last 12 hexadecimal digits. */
export const DETERMINISTIC_ID_PREFIX = '00000000-0000-4000-8000-'

/** The deterministic id of a counter value: `00000000-0000-4000-8000-000000000001` for 1. */
export function deterministicId(n: number): string {
  return `${DETERMINISTIC_ID_PREFIX}${n.toString(16).padStart(12, '0')}`
}

/**
 * Ids of the records the mock makes (organizations, users, keys, secrets): time-ordered
 * uuids (uuidV7), or in deterministic mode a counter written as a uuid (deterministicId).
 *
 * Time-ordered ids keep `ai_secrets_id` (a B-tree) appended to at its end, and deletes of
 * records made close together on few of its pages: measured in bench/README.md.
 * GUESS: which uuid version the real API makes is unrecorded; any version is a uuid
 * (`format: uuid` in the upstream spec).
 */
export class RecordIds {
  private counter = 0

  /**
   * @param deterministic counters instead of uuid v7
   * @param largestStored in deterministic mode, the largest counter value already stored
   *   (another process on the same file, or this one before a restart, made it): each new id
   *   continues after it, so that no id is made twice.
   */
  constructor(
    readonly deterministic = false,
    private readonly largestStored: () => number = () => 0,
  ) {}

  newId(): string {
    if (!this.deterministic) return uuidV7()
    this.counter = Math.max(this.counter, this.largestStored()) + 1
    return deterministicId(this.counter)
  }

  /** Deterministic ids start again from 1 (at a reset, once the store is empty). */
  reset(): void {
    this.counter = 0
  }
}
