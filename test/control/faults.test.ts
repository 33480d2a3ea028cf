import t from 'tap'
import { FaultStore, parsePrefer } from '../../src/control/faults.js'
import { ApiError } from '../../src/errors.js'
import { KEYS, build, call, headers } from '../support/app.js'

const DEL = { method: 'DELETE', url: '/v1/ai_secret' } as const
const del = (key: string = KEYS.owner, extra: Record<string, string> = {}) => ({
  ...DEL,
  headers: headers(key, extra),
  payload: { name: 'OPENAI_API_KEY' },
})
const fault = (app: Awaited<ReturnType<typeof build>>, rule: object) =>
  app.inject({ method: 'POST', url: '/_mock/faults', payload: rule })
const secretsLeft = async (app: Awaited<ReturnType<typeof build>>) =>
  (await app.inject({ method: 'GET', url: '/_mock/state' })).json().ai_secrets.length as number

t.test('a status rule answers in the documented shape before auth and handler, so nothing changes', async (t) => {
  const app = await build(t)
  const added = await fault(app, {
    method: 'delete',
    path: '/v1/ai_secret',
    status: 429,
    retry_after: 2,
    retry_after_ms: 1500,
    should_retry: true,
    times: 2,
  })
  t.equal(added.statusCode, 201)
  t.same(added.json(), {
    id: 'fault_1',
    method: 'DELETE',
    path: '/v1/ai_secret',
    status: 429,
    retry_after: 2,
    retry_after_ms: 1500,
    should_retry: true,
    times: 2,
    matched: 0,
    applied: 0,
  })

  for (const key of [KEYS.owner, 'sk-not-a-key']) {
    const res = await call(t, app, del(key))
    t.equal(res.statusCode, 429, 'even an unknown key: the fault comes before authentication')
    t.equal(res.headers['retry-after'], '2')
    t.equal(res.headers['retry-after-ms'], '1500')
    t.equal(res.headers['x-should-retry'], 'true')
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    t.match(
      res.body,
      /^Too many requests: retry after 2 s \(fault injected by mock fault rule fault_1\) \[timestamp=\d+\.\d{3}\] \[request_id=mock::/,
    )
    t.equal(res.headers['x-request-id'], res.headers['x-bt-internal-trace-id'])
  }
  t.equal(await secretsLeft(app), 2, 'nothing was deleted')
  t.equal((await call(t, app, del())).statusCode, 200, 'times: 2 used up, the third goes through')
  t.match((await app.inject({ method: 'GET', url: '/_mock/faults' })).json(), {
    faults: [{ id: 'fault_1', matched: 3, applied: 2 }],
  })
})

t.test('every injectable status, in its shape; 429 without retry_after says 1', async (t) => {
  const app = await build(t)
  for (const status of [400, 401, 403, 413, 429, 500]) {
    await app.inject({ method: 'DELETE', url: '/_mock/faults' })
    t.equal((await fault(app, { status })).statusCode, 201)
    const res = await call(t, app, del())
    t.equal(res.statusCode, status)
    if (status === 403) {
      t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
      t.match(res.json(), {
        Code: 'ForbiddenError',
        Message: /fault injected by mock fault rule/,
        Path: '/v1/ai_secret',
        Service: 'api',
      })
    } else {
      t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
      t.match(res.body, /\(fault injected by mock fault rule fault_\d+\) \[timestamp=/)
    }
    t.equal(res.headers['retry-after'], status === 429 ? '1' : undefined)
    t.notOk('x-should-retry' in res.headers)
  }
  t.equal(await secretsLeft(app), 2)
})

t.test(
  'any status from 400 to 599: the rest in the text shape, 502/503/504 as a gateway words them (issue 12, finding 3)',
  async (t) => {
    const app = await build(t)
    const cases: [number, RegExp][] = [
      [408, /^Request Timeout \(fault injected by mock fault rule fault_\d+\) \[timestamp=/],
      [409, /^Conflict \(fault injected by/],
      [404, /^Not Found \(fault injected by/],
      [451, /^Unavailable For Legal Reasons \(fault injected by/],
      [499, /^Status 499 \(fault injected by/],
      [501, /^Not Implemented \(fault injected by/],
      [502, /^Bad Gateway: the gateway in front of the API got no valid answer from it \(fault injected by/],
      [503, /^Service Unavailable: the API cannot take requests right now; try again later \(fault injected by/],
      [504, /^Gateway Timeout: the API did not answer the gateway in time \(fault injected by/],
      [599, /^Status 599 \(fault injected by/],
    ]
    for (const [status, message] of cases) {
      await app.inject({ method: 'DELETE', url: '/_mock/faults' })
      const added = await fault(app, { status, retry_after: 3, retry_after_ms: 2500, should_retry: false })
      t.equal(added.statusCode, 201, added.body)
      const res = await call(t, app, del())
      t.equal(res.statusCode, status)
      t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
      t.match(res.body, message)
      t.match(res.body, /\[request_id=/)
      t.equal(res.headers['retry-after'], '3', 'retry_after with any status')
      t.equal(res.headers['retry-after-ms'], '2500')
      t.equal(res.headers['x-should-retry'], 'false')
      t.equal(res.headers['x-request-id'], res.headers['x-bt-internal-trace-id'])
    }
    t.equal(await secretsLeft(app), 2, 'nothing changed')
    for (const status of [399, 600, 302, 200, 101, 1000, 408.5]) {
      const res = await fault(app, { status })
      t.equal(res.statusCode, 400, String(status))
      t.match(res.body, /^Invalid fault rule: \$\.status: must be a whole number from 400 to 599/)
    }
  },
)

t.test('after skips matches first; method, path (with *) and key narrow the match', async (t) => {
  const app = await build(t)
  await fault(app, { path: '/v1/ai_secret*', key: KEYS.member, status: 500, after: 1, times: 1 })
  const rule = (await app.inject({ method: 'GET', url: '/_mock/faults' })).json().faults[0]
  t.equal(rule.key, 'sk-...ber', 'the key is shown as a preview')

  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await call(t, app, del(KEYS.member))).statusCode)
  t.same(statuses, [400, 500, 400], 'the first match passes, the second fails, then the rule is used up')
  t.equal((await call(t, app, del(KEYS.owner))).statusCode, 200, 'another key is not matched')

  await app.inject({ method: 'DELETE', url: '/_mock/faults' })
  await fault(app, { method: 'GET', status: 500 })
  await fault(app, { path: '/v1/ai_secret/x', status: 500 })
  t.equal((await call(t, app, del(KEYS.globexOnly))).statusCode, 200, 'neither method nor path matched')
  const faults = (await app.inject({ method: 'GET', url: '/_mock/faults' })).json().faults
  t.same(
    faults.map((f: { matched: number }) => f.matched),
    [0, 0],
  )
})

const counts = async (app: Awaited<ReturnType<typeof build>>) =>
  (await app.inject({ method: 'GET', url: '/_mock/faults' }))
    .json()
    .faults.map((f: { matched: number; applied: number }) => [f.matched, f.applied])

t.test('rules form a pipeline: stacked rules script a sequence (issue 12, finding 5)', async (t) => {
  const app = await build(t)
  await fault(app, { path: '/v1/ai_secret', status: 500, times: 1 })
  await fault(app, { path: '/v1/ai_secret', status: 429, times: 1 })
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await call(t, app, del())).statusCode)
  t.same(statuses, [500, 429, 200], '500, then 429, then the real answer')
  t.same(
    await counts(app),
    [
      [3, 1],
      [2, 1],
    ],
    'the 429 rule never saw the request the 500 rule answered',
  )
  t.equal(await secretsLeft(app), 1)
})

t.test('a rule sees a request only if no earlier rule answered it; a delay alone does not answer', async (t) => {
  const app = await build(t)
  await fault(app, { delay_ms: 30 })
  await fault(app, { status: 500, times: 1 })
  await fault(app, { status: 400, after: 1 })
  const first = await call(t, app, del())
  t.equal(first.statusCode, 500)
  t.ok(first.headers['x-request-id'])
  t.equal((await call(t, app, del())).statusCode, 200, 'the 400 rule lets the first request it sees through')
  const third = await call(t, app, del())
  t.equal(third.statusCode, 400)
  t.match(third.body, /^The request was unacceptable \(fault injected by mock fault rule fault_3\)/)
  t.same(
    await counts(app),
    [
      [3, 3],
      [3, 1],
      [2, 1],
    ],
    '`matched`: seen; `applied`: acted on (the delay acted on all three)',
  )
  const journal = (await app.inject({ method: 'GET', url: '/_mock/requests' })).json().requests
  for (const e of journal) t.ok(e.duration_ms >= 25, `delayed: ${e.duration_ms} ms`)
})

t.test('`after` counts requests the rule sees and lets through, `times` the ones it acts on', async (t) => {
  const app = await build(t)
  await fault(app, { method: 'GET', status: 503, after: 1, times: 2 })
  await fault(app, { method: 'GET', status: 502, times: 1 })
  const list = () => call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.owner) })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await list()).statusCode)
  t.same(
    statuses,
    [502, 503, 503, 200, 200],
    'the first request the 503 rule sees goes on to the 502 rule; then two 503s',
  )
  t.same(await counts(app), [
    [5, 2],
    [3, 1],
  ])
})

t.test('delay_ms alone: waits, then the real answer', async (t) => {
  const app = await build(t)
  await fault(app, { path: '/v1/ai_secret', delay_ms: 120, times: 1 })
  const began = performance.now()
  const res = await call(t, app, del())
  t.equal(res.statusCode, 200)
  t.ok(performance.now() - began >= 100, 'at least the delay')
  t.equal(await secretsLeft(app), 1)
})

t.test('drop: inject() rejects as a connection reset, nothing changes, the journal says status null', async (t) => {
  const app = await build(t)
  await fault(app, { drop: true, times: 1, delay_ms: 10 })
  await t.rejects(app.inject(del()), { code: 'LIGHT_ECONNRESET' })
  t.equal(await secretsLeft(app), 2)
  const [entry] = (await app.inject({ method: 'GET', url: '/_mock/requests' })).json().requests
  t.match(entry, { method: 'DELETE', path: '/v1/ai_secret', status: null, body: null, org: 'acme' })
  t.equal((await call(t, app, del())).statusCode, 200, 'the next one goes through')

  const unjournaled = await build(t, { journalSize: 0 })
  await fault(unjournaled, { drop: true })
  await t.rejects(unjournaled.inject(del()), { code: 'LIGHT_ECONNRESET' }, 'without a journal too')
})

t.test('DELETE /_mock/faults/{id} removes one; DELETE /_mock/faults all; reset too', async (t) => {
  const app = await build(t)
  await fault(app, { status: 500, path: '/v1/x' })
  await fault(app, { status: 429 })
  t.equal((await app.inject({ method: 'DELETE', url: '/_mock/faults/fault_2' })).statusCode, 204)
  const missing = await app.inject({ method: 'DELETE', url: '/_mock/faults/fault_2' })
  t.equal(missing.statusCode, 404)
  t.match(missing.body, /^No fault rule with id fault_2 \[timestamp=/)
  t.same(
    (await app.inject({ method: 'GET', url: '/_mock/faults' })).json().faults.map((f: { id: string }) => f.id),
    ['fault_1'],
  )
  t.equal((await app.inject({ method: 'DELETE', url: '/_mock/faults' })).statusCode, 204)
  t.same((await app.inject({ method: 'GET', url: '/_mock/faults' })).json(), { faults: [] })
  await fault(app, { status: 500 })
  await app.inject({ method: 'POST', url: '/_mock/reset' })
  t.same((await app.inject({ method: 'GET', url: '/_mock/faults' })).json(), { faults: [] }, 'reset removes rules')
  t.equal((await call(t, app, del())).statusCode, 200)
})

t.test('rule ids restart at fault_1 after a reset, not after DELETE /_mock/faults (issue 17, item 5)', async (t) => {
  const app = await build(t)
  t.equal((await fault(app, { status: 500, path: '/v1/x' })).json().id, 'fault_1')
  await app.inject({ method: 'DELETE', url: '/_mock/faults' })
  t.equal(
    (await fault(app, { status: 500, path: '/v1/x' })).json().id,
    'fault_2',
    'removing rules keeps counting: an old id never names a new rule',
  )
  await app.inject({ method: 'POST', url: '/_mock/reset' })
  t.equal(
    (await fault(app, { status: 500, path: '/v1/x' })).json().id,
    'fault_1',
    'a reset brings the control plane back to its start',
  )
})

t.test('invalid rules: 400 naming the JSON path', async (t) => {
  const app = await build(t)
  const cases: [unknown, string][] = [
    [{ status: 399 }, '$.status: must be a whole number from 400 to 599'],
    [{ status: '429' }, '$.status: must be a whole number from 400 to 599'],
    [{ status: 500, times: 0 }, '$.times: must be a whole number, at least 1'],
    [{ status: 500, after: -1 }, '$.after: must be a whole number, at least 0'],
    [{ delay_ms: 60_001 }, '$.delay_ms: must be a whole number from 0 to 60000'],
    [{ delay_ms: 1.5 }, '$.delay_ms: must be a whole number'],
    [{ status: 500, path: 'v1/ai_secret' }, '$.path: must be a path starting with "/"'],
    [{ status: 500, method: 'DEL ETE' }, '$.method: must be an HTTP method'],
    [{ status: 500, key: '' }, '$.key: must not be empty'],
    [{ status: 500, key: 5 }, '$.key: must be a string, not 5'],
    [{ status: 500, key: ' sk' }, '$.key: must be an API key (has white space at either end'],
    [{ drop: 'yes' }, '$.drop: must be true or false'],
    [{ status: 500, colour: 'red' }, '$.colour: unknown field (allowed: method, path, key, status, retry_after'],
    [{ status: 500, 'the colour': 'red' }, '$["the colour"]: unknown field'],
    [{ path: '/v1/ai_secret' }, '$: a rule needs status, delay_ms or drop: true'],
    [{ drop: true, status: 500 }, '$.drop: drop: true closes the connection'],
    [[{ status: 500 }], '$: must be an object, not an array'],
    [{ status: 500, when: null }, '$.when: must be "before" or "after", not null'],
    [{ status: 399 }, '$.status: must be a whole number from 400 to 599, not 399'],
    // Sizes and ranges a request could never need (600 rules of 1 MB paths made GET /_mock/faults a 500).
    [{ status: 500, path: `/v1/${'a'.repeat(16_384)}` }, '$.path: must be at most 16384 characters'],
    [{ status: 500, path: '/v1/ai_secret?limit=1' }, '$.path: must be a path starting with "/", without a query'],
    [{ status: 500, method: 'A'.repeat(33) }, '$.method: must be at most 32 characters'],
    [{ status: 500, key: `sk-${'k'.repeat(16_384)}` }, '$.key: must be at most 16384 characters'],
    [{ status: 500, retry_after: 1e21 }, '$.retry_after: must be a whole number from 0 to 2147483647'],
    [{ status: 500, retry_after_ms: 2 ** 31 }, '$.retry_after_ms: must be a whole number from 0 to 2147483647'],
  ]
  for (const [rule, message] of cases) {
    const res = await app.inject({
      method: 'POST',
      url: '/_mock/faults',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(rule),
    })
    t.equal(res.statusCode, 400, JSON.stringify(rule))
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    t.match(res.body, `Invalid fault rule: ${message}`)
  }
  const empty = await app.inject({ method: 'POST', url: '/_mock/faults' })
  t.equal(empty.statusCode, 400)
  t.same((await app.inject({ method: 'GET', url: '/_mock/faults' })).json(), { faults: [] }, 'none was added')
})

t.test('Prefer: code=<status> answers it without running the handler', async (t) => {
  const app = await build(t)
  const res = await call(t, app, del(KEYS.owner, { prefer: 'code=429' }))
  t.equal(res.statusCode, 429)
  t.equal(res.headers['retry-after'], '1')
  t.equal(res.headers['preference-applied'], 'code=429')
  t.match(res.body, /^Too many requests: retry after 1 s \(fault injected by Prefer: code=429\)/)
  const forbidden = await call(t, app, del('sk-unknown', { prefer: 'code=403' }))
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.json().Code, 'ForbiddenError')
  t.equal((await call(t, app, del(KEYS.owner, { prefer: 'code=500' }))).statusCode, 500)
  t.equal(await secretsLeft(app), 2)

  for (const code of ['302', '101', '600', '99', 'abc', '1e3']) {
    const bad = await call(t, app, del(KEYS.owner, { prefer: `code=${code}` }))
    t.equal(bad.statusCode, 400, code)
    t.match(
      bad.body,
      `Prefer: code=${code} is not a status the mock can force (allowed: 400 to 599; a 2xx code gives the normal answer)`,
    )
  }
  t.equal(await secretsLeft(app), 2)
  t.equal(
    (await call(t, app, del(KEYS.owner, { prefer: 'return=minimal, example=x' }))).statusCode,
    200,
    'other preferences are ignored',
  )
})

t.test(
  'Prefer: code= any status from 400 to 599; a 2xx code gives the normal answer, as in Prism (issue 12, finding 3)',
  async (t) => {
    const app = await build(t)
    for (const [code, message] of [
      [503, /^Service Unavailable: /],
      [408, /^Request Timeout /],
      [502, /^Bad Gateway: /],
      [409, /^Conflict /],
    ] as const) {
      const res = await call(t, app, del(KEYS.owner, { prefer: `code=${code}` }))
      t.equal(res.statusCode, code)
      t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
      t.match(res.body, message)
      t.match(res.body, `(fault injected by Prefer: code=${code})`)
      t.equal(res.headers['preference-applied'], `code=${code}`)
    }
    t.equal(await secretsLeft(app), 2)
    const ok = await call(t, app, del(KEYS.owner, { prefer: 'code=200' }))
    t.equal(ok.statusCode, 200, 'the normal answer')
    t.equal(ok.json().name, 'OPENAI_API_KEY')
    t.notOk('preference-applied' in ok.headers, 'nothing was forced')
    t.equal(await secretsLeft(app), 1, 'the handler ran')
    const normal = await call(t, app, del(KEYS.owner, { prefer: 'code=204, delay=5' }))
    t.equal(normal.statusCode, 400, 'the normal answer, whatever it is: the secret is gone now')
    t.equal(normal.headers['preference-applied'], 'delay=5')
  },
)

t.test('Prefer: delay=<ms> adds latency before the real answer; both combine', async (t) => {
  const app = await build(t)
  let began = performance.now()
  const res = await call(t, app, del(KEYS.owner, { prefer: 'delay=150' }))
  t.equal(res.statusCode, 200)
  t.equal(res.headers['preference-applied'], 'delay=150')
  t.ok(performance.now() - began >= 130, 'at least the delay')
  began = performance.now()
  const both = await call(t, app, del(KEYS.globexOnly, { prefer: 'code=500; delay=80' }))
  t.equal(both.statusCode, 500)
  t.equal(both.headers['preference-applied'], 'delay=80, code=500')
  t.ok(performance.now() - began >= 60)
})

t.test('parsePrefer and the 60 s cap', async (t) => {
  t.equal(parsePrefer(undefined), null)
  t.equal(parsePrefer('respond-async'), null)
  t.same(parsePrefer('delay=999999'), { delayMs: 60_000 })
  t.same(parsePrefer(['code="401"', 'delay=5']), { code: 401, delayMs: 5 })
  t.throws(() => parsePrefer('code=abc'), ApiError)
  // A delay that is not a whole number is refused as a bad code is (an audit's were ignored silently).
  for (const delay of ['soon', '1e3', '-1', '0x10', '1.5', ''])
    t.throws(() => parsePrefer(`delay=${delay}`), { code: 'prefer_invalid' }, `delay=${delay}`)
  // RFC 7240 section 2: only the first instance of a preference counts.
  t.same(parsePrefer('code=503, code=200'), { code: 503 })
  t.equal(parsePrefer('code=200, code=503'), null, 'the first asked for the normal answer')
  t.same(parsePrefer(['delay=5', 'delay=soon, code=429']), { code: 429, delayMs: 5 })
})

t.test("a rule's path is read as request paths are: percent-encoded spellings match", async (t) => {
  const app = await build(t)
  const rule = await app.inject({
    method: 'POST',
    url: '/_mock/faults',
    payload: { method: 'DELETE', path: '/v1/ai%5Fsecret', status: 503 },
  })
  t.equal(rule.json().path, '/v1/ai_secret', 'shown as it matches')
  const del = await app.inject({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner),
    payload: { name: 'OPENAI_API_KEY' },
  })
  t.equal(del.statusCode, 503, 'it matches the path it names')
  const journal = await app.inject({ method: 'GET', url: '/_mock/requests?path=/%761/ai_secret' })
  t.equal(journal.json().requests.length, 1, "so does the journal's ?path=")
})

t.test('FaultStore: unit', async (t) => {
  const store = new FaultStore()
  t.throws(() => store.add({ status: 999 }), ApiError)
  const r = store.add({ status: 500, times: 2 })
  t.equal(r.id, 'fault_1')
  t.ok(store.match('DELETE', '/v1/ai_secret', null)?.before?.error)
  t.ok(store.match('GET', '/v1/ai_secret/x', 'hash')?.before?.error)
  t.equal(store.match('GET', '/v1/ai_secret', null), null)
  store.add({ delay_ms: 7, times: 1 })
  store.add({ drop: true, times: 1, delay_ms: 5 })
  store.add({ status: 400, delay_ms: 9 })
  t.match(
    store.match('POST', '/v1/ai_secret', null)?.before,
    { drop: true, error: null, delayMs: 12 },
    'delays add up until a rule answers',
  )
  t.match(store.match('POST', '/v1/ai_secret', null)?.before, { drop: false, error: { status: 400 }, delayMs: 9 })
  t.notOk(store.remove('fault_9'))
  t.ok(store.remove('fault_1'))
  t.same(
    store.list().map((f) => f.id),
    ['fault_2', 'fault_3', 'fault_4'],
  )
  store.clear()
  t.same(store.list(), [])
})

t.test('at most 1 000 rules at once: the next is a 400 naming the limit; removing one makes room', async (t) => {
  const app = await build(t)
  const add = (payload: object) => app.inject({ method: 'POST', url: '/_mock/faults', payload })
  for (let i = 0; i < 1000; i++) {
    const res = await add({ path: `/v1/ai_secret/${i}`, status: 500 })
    if (res.statusCode !== 201) return t.fail(`rule ${i + 1}: ${res.body}`)
  }
  const over = await add({ status: 500 })
  t.equal(over.statusCode, 400)
  t.match(over.body, /^Too many fault rules: at most 1000 are active at once/)
  t.equal((await app.inject({ method: 'GET', url: '/_mock/faults' })).json().faults.length, 1000)
  t.equal((await app.inject({ method: 'DELETE', url: '/_mock/faults/fault_1' })).statusCode, 204)
  t.equal((await add({ status: 500 })).statusCode, 201, 'room for one again')
})
