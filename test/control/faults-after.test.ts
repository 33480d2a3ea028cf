// Fault rules with `when: "after"` (issue 12, finding 4): the request runs for real, then
// the rule acts on its answer, so the change stands while the client sees a failure: the
// lost-answer case both official clients retry into.
import t from 'tap'
import { startMockServer, type MockServer } from '../../src/index.js'
import { KEYS, build, call, headers } from '../support/app.js'

type App = Awaited<ReturnType<typeof build>>
/** Polls until cond holds: no test waits a fixed time for something to happen. */
async function until(cond: () => Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((resolve) => setTimeout(resolve, 5))
}
const fault = (app: App, rule: object) => app.inject({ method: 'POST', url: '/_mock/faults', payload: rule })
const journal = async (app: App) => (await app.inject({ method: 'GET', url: '/_mock/requests' })).json().requests
const names = async (app: App) =>
  (await app.inject({ method: 'GET', url: '/_mock/state' })).json().ai_secrets.map((s: { name: string }) => s.name)
const delByName = (name = 'OPENAI_API_KEY') =>
  ({ method: 'DELETE', url: '/v1/ai_secret', headers: headers(KEYS.owner), payload: { name } }) as const
const create = (name: string) =>
  ({
    method: 'POST',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner),
    payload: { name, type: 'openai', secret: 'sk-new-secret-value' },
  }) as const

t.test('status after: the delete happens, the client gets the status, and its retry a 400', async (t) => {
  const app = await build(t)
  const added = await fault(app, { method: 'DELETE', path: '/v1/ai_secret', status: 503, when: 'after', times: 1 })
  t.equal(added.statusCode, 201, added.body)
  t.match(added.json(), { id: 'fault_1', when: 'after', status: 503, matched: 0, applied: 0 })

  const lost = await call(t, app, delByName())
  t.equal(lost.statusCode, 503)
  t.equal(lost.headers['content-type'], 'text/plain; charset=utf-8')
  t.match(
    lost.body,
    /^Service Unavailable: .* \(fault injected by mock fault rule fault_1\) \[user_email=alice@acme\.test\] \[user_org=acme\] \[timestamp=/,
  )
  t.same(await names(app), ['OPENAI_API_KEY'], 'the acme secret is gone: only globex\u2019s is left')

  const retry = await call(t, app, delByName())
  t.equal(retry.statusCode, 400, 'what a client that retries a DELETE without an idempotency key meets')
  t.match(retry.body, /^Missing delete access to ai_secret OPENAI_API_KEY, or the ai_secret does not exist/)

  const [first, second] = await journal(app)
  t.match(
    first,
    {
      method: 'DELETE',
      status: 200,
      body: { name: 'OPENAI_API_KEY' },
      org: 'acme',
      faults: [{ id: 'fault_1', when: 'after', status: 503 }],
    },
    'the real status, and what the fault did',
  )
  t.match(second, { status: 400, faults: [] })
  t.match((await app.inject({ method: 'GET', url: '/_mock/faults' })).json().faults, [{ matched: 2, applied: 1 }])
})

t.test('status after replaces the whole answer: documented shapes, headers of the real answer dropped', async (t) => {
  const app = await build(t)
  await call(t, app, create('NEW'))
  await fault(app, { method: 'POST', status: 403, when: 'after', retry_after: 2, should_retry: true })
  const res = await call(t, app, create('NEW'))
  t.equal(res.statusCode, 403)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  t.match(res.json(), {
    Code: 'ForbiddenError',
    Message: /fault injected by mock fault rule fault_1/,
    Path: '/v1/ai_secret',
  })
  t.notOk('x-bt-found-existing' in res.headers, 'not the real answer\u2019s header')
  t.equal(res.headers['retry-after'], '2')
  t.equal(res.headers['x-should-retry'], 'true')
  t.ok(res.headers['x-request-id'])

  // It acts on any answer, a refusal too.
  const unknown = await call(t, app, { ...create('X'), headers: headers('sk-unknown') })
  t.equal(unknown.statusCode, 403)
  t.match(
    (await journal(app)).map((e: { status: number }) => e.status),
    [200, 200, 401],
  )
})

t.test('drop after: the create stands, the connection closes; the retry finds the existing record', async (t) => {
  const app = await build(t)
  await fault(app, { method: 'POST', drop: true, when: 'after', times: 1 })
  await t.rejects(app.inject(create('NEW')), { code: 'LIGHT_ECONNRESET' })
  t.ok((await names(app)).includes('NEW'), 'created')
  const retry = await call(t, app, create('NEW'))
  t.equal(retry.statusCode, 200)
  t.equal(retry.headers['x-bt-found-existing'], 'true')
  const [first] = await journal(app)
  t.match(first, {
    method: 'POST',
    status: 200,
    body: { name: 'NEW', secret: '[redacted]' },
    org: 'acme',
    faults: [{ id: 'fault_1', when: 'after', drop: true }],
  })
  t.ok(first.duration_ms >= 0)

  const unjournaled = await build(t, { journalSize: 0 })
  await fault(unjournaled, { drop: true, when: 'after' })
  await t.rejects(unjournaled.inject(delByName()), { code: 'LIGHT_ECONNRESET' }, 'without a journal too')
  t.same(await names(unjournaled), ['OPENAI_API_KEY'], 'and the delete happened')
})

t.test('delay_ms after: the answer is held, the change already stands', async (t) => {
  const app = await build(t)
  await fault(app, { method: 'DELETE', delay_ms: 300, when: 'after', times: 1 })
  const pending = app.inject(delByName())
  await until(async () => (await names(app)).length === 1)
  t.same(await names(app), ['OPENAI_API_KEY'], 'deleted while the answer is still held')
  const res = await pending
  t.equal(res.statusCode, 200)
  t.equal(res.json().name, 'OPENAI_API_KEY', 'the real answer, late')
  const [entry] = await journal(app)
  t.match(entry, { status: 200, faults: [{ id: 'fault_1', when: 'after', delay_ms: 300 }] })
  t.ok(entry.duration_ms >= 250, `held: ${entry.duration_ms} ms`)
})

t.test(
  'in the pipeline: an answering after-rule hides the request from later rules; before and after rules combine',
  async (t) => {
    const app = await build(t)
    await fault(app, { method: 'DELETE', status: 500, when: 'after', times: 1 })
    await fault(app, { method: 'DELETE', status: 429 })
    t.equal((await call(t, app, delByName())).statusCode, 500)
    t.same(await names(app), ['OPENAI_API_KEY'], 'the delete ran')
    t.equal((await call(t, app, delByName())).statusCode, 429, 'then the before-rule answers, and nothing runs')
    t.match((await app.inject({ method: 'GET', url: '/_mock/faults' })).json().faults, [
      { matched: 2, applied: 1 },
      { matched: 1, applied: 1 },
    ])

    await app.inject({ method: 'POST', url: '/_mock/reset' })
    await fault(app, { method: 'DELETE', delay_ms: 20, times: 1 })
    await fault(app, { method: 'DELETE', status: 502, when: 'after', delay_ms: 20, times: 1 })
    const res = await call(t, app, delByName())
    t.equal(res.statusCode, 502)
    const [entry] = await journal(app)
    t.match(entry, {
      status: 200,
      faults: [
        { id: 'fault_1', when: 'before', delay_ms: 20 },
        { id: 'fault_2', when: 'after', delay_ms: 20, status: 502 },
      ],
    })
    t.ok(entry.duration_ms >= 35)
  },
)

t.test('invalid: when is "before" or "after"', async (t) => {
  const app = await build(t)
  for (const when of ['later', '', null, 1]) {
    const res = await fault(app, { status: 500, when })
    t.equal(res.statusCode, 400)
    t.match(res.body, /^Invalid fault rule: \$\.when: must be "before" or "after"/)
  }
  t.equal((await fault(app, { status: 500, when: 'before' })).json().when, 'before')
})

t.test('over HTTP with startMockServer().fault(): a client timeout fires while the change stands', async (t) => {
  const server: MockServer = await startMockServer({ logger: false })
  t.teardown(() => server.close())
  const rule = await server.fault({ method: 'DELETE', path: '/v1/ai_secret', delay_ms: 2000, when: 'after', times: 1 })
  t.equal(rule.when, 'after')
  const send = (signal?: AbortSignal) =>
    fetch(`${server.url}/v1/ai_secret`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${KEYS.owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'OPENAI_API_KEY' }),
      signal,
    })
  // The client gives up (as its timeout would) once the change has been made, the answer still held.
  const client = new AbortController()
  const pending = send(client.signal)
  await until(
    async () => (await server.app.inject({ method: 'GET', url: '/_mock/state' })).json().ai_secrets.length === 1,
  )
  client.abort()
  await t.rejects(pending, { name: 'AbortError' })
  const retry = await send()
  t.equal(retry.status, 400, 'the first delete went through')
  await retry.text()

  await server.fault({ method: 'POST', drop: true, when: 'after', times: 1 })
  const post = () =>
    fetch(`${server.url}/v1/ai_secret`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'AFTER_DROP' }),
    })
  await t.rejects(post(), TypeError, 'a network error')
  const again = await post()
  t.equal(again.status, 200)
  t.equal(again.headers.get('x-bt-found-existing'), 'true', 'the first create went through')
  await again.text()
})
