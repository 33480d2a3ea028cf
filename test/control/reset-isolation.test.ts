// A reset isolates tests (issue 12, finding 6): it ends every /v1 request that has not yet
// reached its handler (held by a fault delay, a `Prefer: delay`, a body still arriving, or
// anything else): the connection closes without an answer and nothing changes. Requests
// already past their handler are not touched.
import { connect } from 'node:net'
import t from 'tap'
import { startMockServer } from '../../src/index.js'
import { KEYS, build, call, headers } from '../support/app.js'

type App = Awaited<ReturnType<typeof build>>

async function until(cond: () => Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((resolve) => setTimeout(resolve, 5))
}
const journalSize = async (app: App) =>
  (await app.inject({ method: 'GET', url: '/_mock/requests' })).json().requests.length as number
const state = async (app: App) => (await app.inject({ method: 'GET', url: '/_mock/state' })).json()
const acmeSecrets = async (app: App) =>
  (await state(app)).ai_secrets.filter((s: { org_id: string }) => s.org_id !== '6f1c9a52-3d0e-4b8e-9f2a-1c2d3e4f5a6b')
const del = (extra: Record<string, string> = {}) =>
  ({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner, extra),
    payload: { name: 'OPENAI_API_KEY' },
  }) as const
const reset = (app: App) => app.inject({ method: 'POST', url: '/_mock/reset' })

t.test('a request held by a fault delay before the reset ends without an answer; the fresh seed stands', async (t) => {
  const app = await build(t, { deterministic: true })
  await app.inject({ method: 'POST', url: '/_mock/faults', payload: { method: 'DELETE', delay_ms: 60_000 } })
  const pending = app.inject(del())
  await until(async () => (await journalSize(app)) === 1)
  t.equal((await reset(app)).statusCode, 200)
  // (Woken by the reset: otherwise this would wait out the minute.)
  await t.rejects(pending, { code: 'LIGHT_ECONNRESET' }, 'no answer')
  t.equal((await acmeSecrets(app)).length, 1, 'the freshly seeded secret is still there')
  t.same(
    (await app.inject({ method: 'GET', url: '/_mock/requests' })).json().requests,
    [],
    'the journal belongs to the new test: empty',
  )
  t.equal((await call(t, app, del())).statusCode, 200, 'a request after the reset runs as usual')
})

t.test('the same for Prefer: delay, with or without a forced code', async (t) => {
  const app = await build(t)
  const held = app.inject(del({ prefer: 'delay=60000' }))
  const forced = app.inject(del({ prefer: 'delay=60000, code=500' }))
  await until(async () => (await journalSize(app)) === 2)
  await reset(app)
  await t.rejects(held, { code: 'LIGHT_ECONNRESET' })
  await t.rejects(forced, { code: 'LIGHT_ECONNRESET' }, 'a forced answer is no answer either')
  t.equal((await acmeSecrets(app)).length, 1)
})

/**
 * Sends a DELETE whose body stops after 5 bytes, resets once the journal has the request,
 * sends the rest, and resolves with what came back before the connection closed.
 */
async function resetWhileBodyArrives(
  server: Awaited<ReturnType<typeof startMockServer>>,
  body: string,
): Promise<string> {
  const { port } = new URL(server.url)
  const socket = connect(Number(port), '127.0.0.1')
  let received = ''
  socket.on('data', (d) => (received += d))
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  socket.write(
    `DELETE /v1/ai_secret HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${KEYS.owner}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
  )
  await until(async () => (await server.requests()).length === 1)
  await server.reset()
  socket.write(body.slice(5))
  await closed
  return received
}

t.test('a request whose body is still arriving at the reset ends when it would reach its handler', async (t) => {
  const server = await startMockServer({ logger: false })
  t.teardown(() => server.close())
  t.equal(
    await resetWhileBodyArrives(server, JSON.stringify({ name: 'OPENAI_API_KEY' })),
    '',
    'the connection closed without an answer',
  )
  const list = (await (
    await fetch(`${server.url}/v1/ai_secret`, { headers: { authorization: `Bearer ${KEYS.owner}` } })
  ).json()) as { objects: unknown[] }
  t.equal(list.objects.length, 1, 'nothing was deleted')
})

t.test(
  'one answered before its handler after the reset (a malformed body that was still arriving) ends without its ' +
    'answer too',
  async (t) => {
    const server = await startMockServer({ logger: false })
    t.teardown(() => server.close())
    t.equal(
      await resetWhileBodyArrives(server, '{"name": "OPENAI_API_KEY",'),
      '',
      'no 400: the request belonged to the test before the reset',
    )
  },
)

t.test('startMockServer().reset() over HTTP: a held fetch fails, nothing changes', async (t) => {
  const server = await startMockServer({ logger: false })
  t.teardown(() => server.close())
  await server.fault({ method: 'DELETE', delay_ms: 60_000 })
  const pending = fetch(`${server.url}/v1/ai_secret`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${KEYS.owner}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'OPENAI_API_KEY' }),
  })
  await until(async () => (await server.requests()).length === 1)
  await server.reset()
  await t.rejects(pending, TypeError, 'a network error')
  const res = await fetch(`${server.url}/v1/ai_secret?org_name=acme`, {
    headers: { authorization: `Bearer ${KEYS.multi}` },
  })
  t.equal(((await res.json()) as { objects: unknown[] }).objects.length, 1)
})

t.test('requests already past their handler are not touched: a when-after hold answers across the reset', async (t) => {
  const app = await build(t)
  await app.inject({
    method: 'POST',
    url: '/_mock/faults',
    payload: { method: 'DELETE', delay_ms: 300, when: 'after' },
  })
  const pending = app.inject(del())
  await until(async () => (await acmeSecrets(app)).length === 0)
  await reset(app)
  const res = await pending
  t.equal(res.statusCode, 200, 'its answer arrives: the change was made before the reset')
  t.equal(res.json().name, 'OPENAI_API_KEY')
  t.equal((await acmeSecrets(app)).length, 1, 'and the reset wiped it: the seed stands')
})

t.test('several resets in a row, and a request that arrives between them, run as usual', async (t) => {
  const app = await build(t)
  await reset(app)
  await reset(app)
  t.equal((await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.owner) })).statusCode, 200)
  t.equal((await call(t, app, del({ prefer: 'delay=10' }))).statusCode, 200)
  await reset(app)
  t.equal((await call(t, app, del())).statusCode, 200)
})
