import t, { type Test } from 'tap'
import {
  Journal,
  format,
  formatJson,
  journalBodyText,
  journalHeaders,
  parseQuery,
  redactAuthorization,
  type JournalEntry,
  type JournalRecord,
} from '../../src/control/journal.js'
import { KEYS, build, buildMock, call, headers } from '../support/app.js'

const requests = async (t: Test, app: Awaited<ReturnType<typeof build>>, query = '') => {
  const res = await app.inject({ method: 'GET', url: `/_mock/requests${query}` })
  t.equal(res.statusCode, 200)
  return res.json().requests as JournalEntry[]
}

t.test('records /v1 requests oldest first: method, path, query, redacted headers and body, status, time', async (t) => {
  const app = await build(t, { deterministic: true })
  await call(t, app, {
    method: 'DELETE',
    url: '/v1/ai_secret?dry=1&tag=a&tag=b',
    headers: headers(KEYS.owner, { 'x-trace': 't1' }),
    payload: { name: 'OPENAI_API_KEY', secret: 'sk-never-shown', nested: [{ secret: 'x' }, { secret: null }] },
  })
  await call(t, app, {
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(undefined, { authorization: 'Basic YWxpY2U6c2VjcmV0', cookie: 'session=abc' }),
    payload: { name: 'x' },
  })
  await app.inject({ method: 'GET', url: '/_mock/state' })
  await app.inject({ method: 'GET', url: '/openapi.json' })

  const list = await requests(t, app)
  t.equal(list.length, 2, '/_mock and other routes are not recorded')
  const [first, second] = list as [JournalEntry, JournalEntry]
  t.match(first, {
    id: 'mock::000000000001',
    time: '2026-01-01T00:00:00.000Z',
    method: 'DELETE',
    path: '/v1/ai_secret',
    query: { dry: '1', tag: ['a', 'b'] },
    headers: { authorization: 'Bearer sk-...ner', 'content-type': 'application/json', 'x-trace': 't1' },
    body: { name: 'OPENAI_API_KEY', secret: '[redacted]', nested: [{ secret: '[redacted]' }, { secret: null }] },
    status: 200,
    org: 'acme',
  })
  t.type(first.duration_ms, 'number')
  t.ok(first.duration_ms >= 0)
  t.match(
    second,
    { status: 401, body: null, org: null, headers: { authorization: '[redacted]', cookie: '[redacted]' } },
    'refused before parsing: no body',
  )
  const text = JSON.stringify(list)
  for (const s of [KEYS.owner, 'sk-never-shown', 'YWxpY2U6c2VjcmV0', 'session=abc']) t.notMatch(text, s)
})

t.test('bodies: small ones kept and redacted when read, big or unsized ones formatted on arrival', async (t) => {
  const app = await build(t)
  const big = { name: 'big', secret: 'sk-big-never-shown', metadata: { pad: 'x'.repeat(70_000) } }
  const res = await app.inject({ method: 'POST', url: '/v1/ai_secret', headers: headers(KEYS.owner), payload: big })
  t.equal(res.statusCode, 200)
  // inject() sends no content-length for a stream body: the size is unknown when it arrives.
  const { Readable } = await import('node:stream')
  const unsized = await app.inject({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner),
    payload: Readable.from([Buffer.from(JSON.stringify({ name: 'big', secret: 'sk-unsized-never-shown' }))]),
  })
  t.equal(unsized.statusCode, 200)
  t.equal(unsized.raw.req.headers['content-length'], undefined, 'no content-length was sent')
  const [first, second] = (await requests(t, app)) as [JournalEntry, JournalEntry]
  t.match(first.body, /^\[\d+ characters of JSON, not kept\]$/, 'a body over 64 KiB is not kept')
  t.same(second.body, { name: 'big', secret: '[redacted]' })
  const text = JSON.stringify([first, second])
  t.notMatch(text, 'sk-big-never-shown')
  t.notMatch(text, 'sk-unsized-never-shown')
})

t.test(
  'bodies are bounded by their decoded size, whatever their content coding: a small gzip bomb is summarised',
  async (t) => {
    const { brotliCompressSync, deflateSync, gzipSync } = await import('node:zlib')
    const { app, mock } = await buildMock(t)
    // ~1 KB on the wire, just under 1 MiB of JSON once decoded: kept whole, 300 of them held 4 GB.
    const json = JSON.stringify({ name: 'OPENAI_API_KEY', metadata: { pad: 'x'.repeat(1_000_000) } })
    const encoders: [string, (b: Buffer) => Buffer][] = [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
      ['gzip, br', (b) => brotliCompressSync(gzipSync(b))],
    ]
    for (const [coding, encode] of encoders) {
      const body = encode(Buffer.from(json))
      t.ok(body.length < 64 * 1024, `${coding}: ${body.length} bytes on the wire`)
      const res = await app.inject({
        method: 'DELETE',
        url: '/v1/ai_secret',
        headers: headers(KEYS.owner, { 'content-encoding': coding, 'content-length': String(body.length) }),
        payload: body,
      })
      t.not(res.statusCode, 413, `${coding}: under the 1 MiB limit`)
    }
    const small = gzipSync(JSON.stringify({ name: 'small', secret: 'sk-small-never-shown' }))
    await app.inject({
      method: 'POST',
      url: '/v1/ai_secret',
      headers: headers(KEYS.owner, { 'content-encoding': 'gzip' }),
      payload: small,
    })
    // What the journal holds between requests (not only what it shows when read): a summary, not the body.
    const held = (mock.control.journal as unknown as { items: ({ body: unknown } | undefined)[] }).items
    const kept = held
      .filter((r) => r !== undefined)
      .map((r) => (typeof r!.body === 'string' ? r!.body.length : JSON.stringify(r!.body).length))
    t.ok(Math.max(...kept) < 1000, `each record holds little: ${kept.join(', ')} characters`)
    const entries = await requests(t, app)
    t.equal(entries.length, 5)
    for (const e of entries.slice(0, 4))
      t.match(e.body, /^\[\d+ characters of JSON, not kept\]$/, 'summarised, not kept')
    t.same(entries[4]!.body, { name: 'small', secret: '[redacted]' }, 'a small encoded body is kept, redacted')
  },
)

t.test('a body is held as its text: 64 KiB of `[{},{},…]` is not 21 800 objects in memory', async (t) => {
  const { app, mock } = await buildMock(t)
  // An outside audit filled 1.5 GB with 1 000 of these (answered 400 by validation, journaled all the same).
  const many = `[${Array.from({ length: 21_000 }, () => '{}').join(',')}]`
  t.ok(many.length < 64 * 1024)
  for (const method of ['POST', 'PUT', 'DELETE'] as const)
    await app.inject({ method, url: '/v1/ai_secret', headers: headers(KEYS.owner), payload: many })
  const held = (mock.control.journal as unknown as { items: ({ body: unknown } | undefined)[] }).items
  const bodies = held.filter((r) => r !== undefined).map((r) => r!.body)
  t.same(
    bodies.map((b) => typeof b),
    ['string', 'string', 'string'],
    'each record holds a string, not the parsed value',
  )
  const entries = await requests(t, app)
  t.equal((entries[0]!.body as unknown[]).length, 21_000, 'read back whole')
})

t.test('reading the journal parses no body: 64 KiB bodies are spliced into the answer as text', async (t) => {
  // An outside audit read the journal after 1 000 bodies of `[{},{},…]`: the server went from
  // 259 MB to 1.8 GB while it parsed each one back, and died under a 512 MB heap.
  const { app } = await buildMock(t)
  const many = `[${Array.from({ length: 21_000 }, () => '{}').join(',')}]`
  for (let i = 0; i < 5; i++)
    await app.inject({ method: 'POST', url: '/v1/ai_secret', headers: headers(KEYS.owner), payload: many })
  const parse = JSON.parse
  let parsedBodies = 0
  JSON.parse = ((text: string, reviver?: Parameters<typeof parse>[1]) => {
    if (typeof text === 'string' && text.startsWith('[{},{}')) parsedBodies++
    return parse(text, reviver)
  }) as typeof JSON.parse
  let res: Awaited<ReturnType<typeof app.inject>>
  try {
    res = await app.inject({ method: 'GET', url: '/_mock/requests' })
  } finally {
    JSON.parse = parse
  }
  t.equal(parsedBodies, 0, 'no body was parsed to answer')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json; charset=utf-8$/)
  t.equal(res.body.split(many).length - 1, 5, 'each body is in the answer as it was kept')
  const entries = res.json().requests as JournalEntry[]
  t.equal(entries.length, 5)
  t.equal((entries[4]!.body as unknown[]).length, 21_000)
})

t.test('?method= and ?path= filter; DELETE clears', async (t) => {
  const app = await build(t)
  const send = (method: string, url: string) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: headers(KEYS.owner),
      payload: method === 'DELETE' ? { name: 'nope' } : undefined,
    })
  await send('DELETE', '/v1/ai_secret')
  await send('GET', '/v1/ai_secret/00000000-0000-4000-8000-000000000001')
  await send('DELETE', '/v1/ai_secret/00000000-0000-4000-8000-000000000002')
  await send('GET', '/v1/nothing-here')

  const paths = (list: JournalEntry[]) => list.map((e) => `${e.method} ${e.path}`)
  t.same(paths(await requests(t, app, '?method=delete')), [
    'DELETE /v1/ai_secret',
    'DELETE /v1/ai_secret/00000000-0000-4000-8000-000000000002',
  ])
  t.same(paths(await requests(t, app, '?path=/v1/ai_secret')), ['DELETE /v1/ai_secret'])
  t.same(paths(await requests(t, app, '?path=/v1/ai_secret/*')), [
    'GET /v1/ai_secret/00000000-0000-4000-8000-000000000001',
    'DELETE /v1/ai_secret/00000000-0000-4000-8000-000000000002',
  ])
  t.same(paths(await requests(t, app, '?path=/v1/ai_secret*&method=GET')), [
    'GET /v1/ai_secret/00000000-0000-4000-8000-000000000001',
  ])
  t.equal((await requests(t, app, '?path=/v1/*')).length, 4, 'unknown /v1 routes are recorded too')
  t.equal((await requests(t, app)).at(-1)!.status, 404)

  await app.inject({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.globexOnly),
    payload: { name: 'x' },
  })
  await app.inject({ method: 'DELETE', url: '/v1/ai_secret', headers: headers(KEYS.multi), payload: { name: 'x' } })
  await app.inject({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.multi),
    payload: { name: 'x', org_name: 'globex' },
  })
  t.same(
    (await requests(t, app)).slice(-3).map((e) => e.org),
    ['globex', null, 'globex'],
    'a multi-org key that named none acted in none',
  )
  await app.inject({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.globexOnly, { prefer: 'code=500' }),
    payload: { name: 'x' },
  })
  await app.inject({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers('sk-unknown', { prefer: 'code=500' }),
    payload: { name: 'x' },
  })
  t.same(
    (await requests(t, app)).slice(-2).map((e) => [e.status, e.org]),
    [
      [500, 'globex'],
      [500, null],
    ],
    'a forced answer: the only org of its key',
  )
  t.equal((await requests(t, app, '?org=globex')).length, 3)
  t.equal((await requests(t, app, '?org=acme&method=GET')).length, 2, 'the unknown route too: the only org of the key')

  const cleared = await app.inject({ method: 'DELETE', url: '/_mock/requests' })
  t.equal(cleared.statusCode, 204)
  t.equal(cleared.body, '')
  t.same(await requests(t, app), [])
})

t.test('stays at its bound after many requests: the oldest are dropped', async (t) => {
  const { app, mock } = await buildMock(t, { journalSize: 25 })
  for (let i = 0; i < 120; i++) {
    await app.inject({
      method: 'DELETE',
      url: `/v1/ai_secret?i=${i}`,
      headers: headers(KEYS.member),
      payload: { name: `n${i}` },
    })
  }
  const list = await requests(t, app)
  t.equal(list.length, 25)
  t.same(
    list.map((e) => e.query.i),
    Array.from({ length: 25 }, (_, k) => String(95 + k)),
    'the newest 25, oldest first',
  )
  t.equal(mock.control.journal.size, 25)

  const none = await build(t, { journalSize: 0 })
  await none.inject({ method: 'DELETE', url: '/v1/ai_secret', headers: headers(KEYS.owner), payload: { name: 'x' } })
  t.same(await requests(t, none), [], 'MOCK_JOURNAL_SIZE=0 keeps nothing')
})

t.test('the ring buffer, unit by unit', async (t) => {
  const j = new Journal(3)
  const entry = (n: number): JournalRecord => ({
    id: String(n),
    timeMs: n,
    method: n % 2 ? 'GET' : 'DELETE',
    url: `/v1/p${n}?n=${n}`,
    headers: {},
    body: null,
    status: 200,
    duration_ms: 1,
    org: null,
  })
  for (let n = 1; n <= 7; n++) j.add(entry(n))
  t.same(
    j.list().map((e) => e.id),
    ['5', '6', '7'],
  )
  t.same(
    j.list({ method: 'get' }).map((e) => e.id),
    ['5', '7'],
  )
  t.same(
    j.list({ path: '/v1/p6' }).map((e) => e.id),
    ['6'],
  )
  j.clear()
  t.same(j.list(), [])
  j.add(entry(8))
  t.same(
    j.list().map((e) => e.id),
    ['8'],
  )
  const off = new Journal(0)
  off.add(entry(1))
  t.same(off.list(), [], 'capacity 0 keeps nothing')
})

t.test('a record is formatted when the journal is read', async (t) => {
  const body = { name: 'a', secret: 'sk-live-1234567890' }
  const record: JournalRecord = {
    id: 'r1',
    timeMs: Date.parse('2026-01-02T03:04:05.678Z'),
    method: 'POST',
    url: '/v1/ai_secret?x=1&x=2',
    headers: { authorization: 'Bearer sk-mock-acme-owner', cookie: 'c=1' },
    body: journalBodyText(body),
    status: 200,
    duration_ms: 1.5,
    org: 'acme',
  }
  t.same(format(record), {
    id: 'r1',
    time: '2026-01-02T03:04:05.678Z',
    method: 'POST',
    path: '/v1/ai_secret',
    query: { x: ['1', '2'] },
    headers: { authorization: 'Bearer sk-...ner', cookie: '[redacted]' },
    body: { name: 'a', secret: '[redacted]' },
    status: 200,
    duration_ms: 1.5,
    org: 'acme',
    faults: [],
  })
  t.same(format({ ...record, faults: [{ id: 'fault_1', when: 'after', status: 503 }] }).faults, [
    { id: 'fault_1', when: 'after', status: 503 },
  ])
  t.equal(body.secret, 'sk-live-1234567890', 'the request body itself is not changed')
  t.equal(format({ ...record, body: null }).body, null, 'no body shows as null')

  // The answer's text (formatJson) is the same entry, field for field and in the same order.
  for (const r of [
    record,
    { ...record, body: null },
    { ...record, faults: [{ id: 'fault_1', when: 'after' as const, status: 503 }] },
    { ...record, body: journalBodyText({ s: '\ud800 lone, "quoted", \u2028', n: [1, null, { secret: 'x' }] }) },
    { ...record, body: journalBodyText('just a string'), org: null, status: null },
  ]) {
    const text = formatJson(r)
    t.equal(text, JSON.stringify(format(r)), `formatJson is format's JSON text: ${text.slice(0, 80)}`)
  }
})

t.test('redaction helpers', async (t) => {
  t.equal(redactAuthorization('Bearer sk-mock-acme-owner'), 'Bearer sk-...ner')
  t.equal(redactAuthorization('bearer  abc'), 'bearer ...', 'a short token shows nothing of itself')
  t.equal(redactAuthorization('Token xyz'), '[redacted]')
  t.same(
    JSON.parse(journalBodyText({ a: { secret: 1, b: [{ secret: 'x' }, { secret: null }] }, secret_name: 'kept' })!),
    { a: { secret: '[redacted]', b: [{ secret: '[redacted]' }, { secret: null }] }, secret_name: 'kept' },
  )
  t.equal(journalBodyText(undefined), null)
  t.equal(journalBodyText(null), null)
  t.equal(journalBodyText('plain'), '"plain"')
  t.match(
    JSON.parse(journalBodyText({ big: 'x'.repeat(70_000) })!),
    /^\[\d+ characters of JSON, not kept\]$/,
    'huge bodies are not kept whole',
  )
  t.same(journalHeaders({ accept: 'a', 'x-list': ['1', '2'], gone: undefined, 'proxy-authorization': 'Basic x' }), {
    accept: 'a',
    'x-list': ['1', '2'],
    'proxy-authorization': '[redacted]',
  })
  t.same(parseQuery('/v1/x'), {})
  t.same(parseQuery('/v1/x?a=1&b=&a=2&a=3'), { a: ['1', '2', '3'], b: '' })
})
