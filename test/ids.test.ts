import t from 'tap'
import { DETERMINISTIC_ID_MAX, RecordIds, deterministicId, uuidV7 } from '../src/ids.js'
import { RequestIds } from '../src/plugins/request-ids.js'

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** The Unix time in ms an id carries in its first 48 bits. */
const timeOf = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)

/** Runs fn with Date.now() answering what `now` holds at each call. */
function withClock<T>(now: { ms: number }, fn: () => T): T {
  const real = Date.now
  Date.now = () => now.ms
  try {
    return fn()
  } finally {
    Date.now = real
  }
}

t.test('uuidV7: version 7, the variant, the time of making, increasing', async (t) => {
  const before = Date.now()
  const ids = Array.from({ length: 1000 }, () => uuidV7())
  t.ok(ids.every((id) => V7.test(id)))
  t.ok(timeOf(ids[0]!) >= before && timeOf(ids[999]!) <= Date.now() + 1)
  t.same([...ids].sort(), ids, 'each larger than the one before')
  t.equal(new Set(ids).size, ids.length)
})

t.test(
  'uuidV7: more than the counter holds in one millisecond moves the time on; a clock that steps back does not go back',
  async (t) => {
    const now = { ms: Date.now() + 60_000 }
    const ids = withClock(now, () => {
      const out = Array.from({ length: 5000 }, () => uuidV7())
      now.ms -= 10_000
      out.push(uuidV7(), uuidV7())
      return out
    })
    t.same([...ids].sort(), ids, 'still increasing')
    t.ok(timeOf(ids[4999]!) > now.ms + 10_000, 'past 4096 in one millisecond, the next millisecond')
    t.ok(timeOf(ids[5001]!) >= timeOf(ids[4999]!), 'not back to the earlier time')
  },
)

t.test(
  'RecordIds and RequestIds: version 7 ids, random request ids; deterministic: counters that restart on reset',
  async (t) => {
    t.match(new RecordIds().newId(), V7)
    t.match(new RequestIds().next(), /^mock::[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const fixed = new RecordIds(true)
    const requests = new RequestIds(true)
    t.same(
      [fixed.newId(), fixed.newId(), requests.next()],
      ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', 'mock::000000000001'],
    )
    fixed.reset()
    requests.reset()
    t.same([fixed.newId(), requests.next()], ['00000000-0000-4000-8000-000000000001', 'mock::000000000001'])
  },
)

t.test('RecordIds, deterministic: each new id continues after the largest stored', async (t) => {
  let stored = 7
  const ids = new RecordIds(true, () => stored)
  t.equal(ids.newId(), '00000000-0000-4000-8000-000000000008')
  stored = 20
  t.equal(ids.newId(), '00000000-0000-4000-8000-000000000015', 'another process stored up to 20')
  t.equal(ids.newId(), '00000000-0000-4000-8000-000000000016', 'after its own, when the store holds nothing larger')
})

t.test(
  'RecordIds, deterministic: after the largest counter is stored, the lowest free ones, 12 digits still',
  async (t) => {
    // An audit seeded …-ffffffffffff: the next id had 13 hex digits (no uuid), and a restart made it again.
    const taken = new Set([deterministicId(1), deterministicId(2), deterministicId(4)])
    const ids = new RecordIds(
      true,
      () => DETERMINISTIC_ID_MAX,
      (id) => taken.has(id),
    )
    const made = [ids.newId(), ids.newId(), ids.newId()]
    t.same(made, [deterministicId(3), deterministicId(5), deterministicId(6)])
    t.ok(
      made.every((id) => /^00000000-0000-4000-8000-[0-9a-f]{12}$/.test(id)),
      'each a uuid',
    )
    t.equal(deterministicId(DETERMINISTIC_ID_MAX), '00000000-0000-4000-8000-ffffffffffff')
    ids.reset()
    t.equal(ids.newId(), deterministicId(3), 'a reset starts the search again')
    const below = new RecordIds(true, () => DETERMINISTIC_ID_MAX - 1)
    t.equal(below.newId(), '00000000-0000-4000-8000-ffffffffffff', 'the largest itself is still made once')
  },
)
