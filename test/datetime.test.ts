// Every date the mock reads is an RFC 3339 date-time of a day that exists (issue 11,
// finding 4): the seed (file, buildApp option, POST /_mock/seed) and POST /_mock/clock.
import t from 'tap'
import { buildApp } from '../src/app.js'
import { parseDateTime } from '../src/datetime.js'
import { SeedError } from '../src/seed.js'
import { build } from './support/app.js'

/** Well-formed, but not a time that exists: each was once rolled over to a later day. */
const IMPOSSIBLE = [
  '2026-02-30T12:00:00Z',
  '2026-02-29T00:00:00Z',
  '2100-02-29T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2026-06-31T23:59:59+02:00',
  '2026-13-01T00:00:00Z',
  '2026-00-10T00:00:00Z',
  '2026-01-00T00:00:00Z',
  '2026-01-32T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T12:60:00Z',
  '2026-01-01T12:00:61Z',
  '2026-01-01T12:00:00+24:00',
  '2026-01-01T12:00:00+01:60',
]
/** Not RFC 3339 at all. */
const MALFORMED = [
  'tomorrow',
  '',
  '2026-01-01',
  '2026-01-01T12:00Z',
  '2026-01-01T12:00:00',
  '1767225600000',
  '2026-1-1T00:00:00Z',
  'Thu, 01 Jan 2026 00:00:00 GMT',
  '2026-01-01T12:00:00ZZ',
  '+002026-01-01T00:00:00Z',
]

t.test('parseDateTime: RFC 3339 date-times as ajv-formats checks them, to the instant they name', async (t) => {
  const cases: [string, string][] = [
    ['2026-01-31T12:00:00Z', '2026-01-31T12:00:00.000Z'],
    ['2026-01-31t12:00:00z', '2026-01-31T12:00:00.000Z'],
    ['2026-01-31 12:00:00Z', '2026-01-31T12:00:00.000Z'],
    ['2026-01-31T12:00:00.5+01:00', '2026-01-31T11:00:00.500Z'],
    ['2026-01-31T12:00:00.123456789-05:30', '2026-01-31T17:30:00.123Z'],
    ['2026-01-31T12:00:00+0100', '2026-01-31T11:00:00.000Z'],
    ['2026-01-31T12:00:00+01', '2026-01-31T11:00:00.000Z'],
    ['2026-01-31T12:00:00-00:00', '2026-01-31T12:00:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    // A leap second is a time RFC 3339 allows; JavaScript has none: it counts as the next second, as POSIX time does.
    ['2016-12-31T23:59:60Z', '2017-01-01T00:00:00.000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
    ['0099-12-31T23:59:59Z', '0099-12-31T23:59:59.000Z'],
  ]
  for (const [text, iso] of cases) t.equal(parseDateTime(text)?.toISOString(), iso, text)
  for (const text of [...IMPOSSIBLE, ...MALFORMED]) t.equal(parseDateTime(text), null, text)
})

t.test('POST /_mock/clock: a day that does not exist is a 400 naming the field, and the clock stays', async (t) => {
  const app = await build(t, { deterministic: true })
  for (const set of [...IMPOSSIBLE, ...MALFORMED]) {
    const res = await app.inject({ method: 'POST', url: '/_mock/clock', payload: { set } })
    t.equal(res.statusCode, 400, set)
    t.match(
      res.body,
      /^Invalid clock change: \$\.set: must be an RFC 3339 date-time of a day that exists, such as 2026-01-31T12:00:00Z \[/,
      set,
    )
  }
  t.same(
    (await app.inject({ method: 'GET', url: '/_mock/clock' })).json(),
    { now: '2026-01-01T00:00:00.000Z', deterministic: true },
    'unchanged',
  )
  const leap = await app.inject({ method: 'POST', url: '/_mock/clock', payload: { set: '2024-02-29T10:00:00+02:00' } })
  t.same(leap.json(), { now: '2024-02-29T08:00:00.000Z', deterministic: true })
})

t.test(
  'a seed: a day that does not exist is refused naming the JSON path, in every date field and every way in',
  async (t) => {
    const fields: [string, (v: string) => object][] = [
      ['$.organizations[0].created', (v) => ({ organizations: [{ name: 'o', created: v }] })],
      [
        '$.ai_secrets[0].created',
        (v) => ({ organizations: [{ name: 'o' }], ai_secrets: [{ org: 'o', name: 'K', created: v }] }),
      ],
      [
        '$.ai_secrets[0].updated_at',
        (v) => ({ organizations: [{ name: 'o' }], ai_secrets: [{ org: 'o', name: 'K', updated_at: v }] }),
      ],
      [
        '$.ai_secrets[0].secret_updated_at',
        (v) => ({
          organizations: [{ name: 'o' }],
          ai_secrets: [{ org: 'o', name: 'K', secret: 'sk-x', secret_updated_at: v }],
        }),
      ],
    ]
    const app = await build(t, { seed: false })
    for (const [path, seed] of fields) {
      for (const v of ['2026-02-30T12:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T24:00:00Z']) {
        const err = await buildApp({ seed: seed(v), logger: false }).then(
          () => null,
          (e: unknown) => e,
        )
        t.ok(err instanceof SeedError, `${path} = ${v}: refused at start-up`)
        t.equal(
          (err as Error).message,
          `seed: ${path}: must be an RFC 3339 date-time of a day that exists, such as 2026-01-31T12:00:00Z`,
        )
        const res = await app.inject({ method: 'POST', url: '/_mock/seed', payload: seed(v) })
        t.equal(res.statusCode, 400, `${path} = ${v}: refused by POST /_mock/seed`)
        t.match(res.body, `Invalid seed: ${path}: must be an RFC 3339 date-time`)
      }
    }
    t.equal(
      (await app.inject({ method: 'GET', url: '/_mock/state' })).json().organizations.length,
      0,
      'nothing was added',
    )
    const ok = await app.inject({
      method: 'POST',
      url: '/_mock/seed',
      payload: {
        organizations: [{ name: 'o', created: '2024-02-29T23:30:00-01:00' }],
        ai_secrets: [{ org: 'o', name: 'K', created: '2024-02-29T12:00:00.25Z' }],
      },
    })
    t.equal(ok.statusCode, 201)
    const state = (await app.inject({ method: 'GET', url: '/_mock/state' })).json()
    t.equal(state.organizations[0].created, '2024-03-01T00:30:00.000Z', 'stored as the instant it names, in UTC')
    t.equal(state.ai_secrets[0].created, '2024-02-29T12:00:00.250Z')
  },
)
