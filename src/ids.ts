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

/** The largest counter a deterministic id can hold: 12 hexadecimal digits. */
export const DETERMINISTIC_ID_MAX = 0xffff_ffff_ffff

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

  /** After the largest counter was stored: the last value tried from 1 up for a free one. */
  private reused = 0

  /**
   * @param deterministic counters instead of uuid v7
   * @param largestStored in deterministic mode, the largest counter value already stored
   *   (another process on the same file, or this one before a restart, made it): each new id
   *   continues after it, so that no id is made twice.
   * @param isStored whether an id is already stored: once the largest counter
   *   (DETERMINISTIC_ID_MAX, `…-ffffffffffff`, which only a seed can store) is taken, new ids are
   *   the lowest free counters instead, still 12 digits and still never one in use.
   */
  constructor(
    readonly deterministic = false,
    private readonly largestStored: () => number = () => 0,
    private readonly isStored: (id: string) => boolean = () => false,
  ) {}

  newId(): string {
    if (!this.deterministic) return uuidV7()
    const next = Math.max(this.counter, this.largestStored()) + 1
    if (next <= DETERMINISTIC_ID_MAX) {
      this.counter = next
      return deterministicId(next)
    }
    // An audit seeded …-ffffffffffff: the next id had 13 digits (not a uuid, so unreachable by id),
    // and after a restart the same 13-digit id again (a 500, UNIQUE constraint failed).
    this.counter = DETERMINISTIC_ID_MAX
    for (;;) {
      this.reused++
      const id = deterministicId(this.reused)
      if (!this.isStored(id)) return id
    }
  }

  /** Deterministic ids start again from 1 (at a reset, once the store is empty). */
  reset(): void {
    this.counter = 0
    this.reused = 0
  }
}
