// DNS rebinding, and the Host header a request must carry: while the mock listens on loopback
// (the default), a page whose name resolves to 127.0.0.1 reaches it with its own name in Host,
// and is refused before anything runs; an HTTP/1.1 request needs exactly one Host.
import t, { type Test } from 'tap'
import { hostAllowed, hostName, hostPolicy, isLoopback } from '../../src/plugins/host-check.js'
import { startMockServer } from '../../src/start-mock-server.js'
import { KEYS } from '../support/app.js'
import { type RawResponse, rawExchange } from '../support/reliability/net.js'

/** One raw request to the server, answered. */
async function ask(port: number, head: string, host = '127.0.0.1'): Promise<RawResponse & { closed: boolean }> {
  const ex = await rawExchange(port, [Buffer.from(`${head}\r\n\r\n`, 'latin1')], {
    end: false,
    timeoutMs: 5000,
    expect: 1,
    host,
  })
  if (ex.responses[0] === undefined) throw new Error(`no answer to ${head.split('\r\n')[0]}`)
  return { ...ex.responses[0], closed: ex.closedByServer }
}

const header = (res: RawResponse, name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(res.head)?.[1]?.trim()

function textShape(t: Test, res: RawResponse, status: number, message: RegExp) {
  t.equal(res.status, status)
  t.equal(header(res, 'content-type'), 'text/plain; charset=utf-8')
  const id = header(res, 'x-request-id')
  t.match(id, /^mock::/)
  t.equal(header(res, 'x-bt-internal-trace-id'), id)
  t.match(res.body, message)
  t.match(res.body, new RegExp(`\\[request_id=${id}\\]$`))
}

const list = (host: string) => `GET /v1/ai_secret HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${KEYS.owner}`

t.test(
  'hostPolicy: loopback names and ALLOWED_HOSTS while on loopback; every host elsewhere unless given',
  async (t) => {
    const loopback = hostPolicy(['127.0.0.1', '::1'], undefined)
    for (const host of ['localhost', 'localhost:8000', '127.0.0.1:1', '[::1]:8000', 'LOCALHOST'])
      t.ok(hostAllowed(loopback, host), host)
    for (const host of ['evil.example', 'evil.example:8000', 'localhost.evil.example', '127.0.0.1.nip.io', '[::2]', ''])
      t.notOk(hostAllowed(loopback, host), host)
    const named = hostPolicy(['127.0.0.1'], ['Mock.Test', 'ci-box'])
    t.ok(hostAllowed(named, 'mock.test:9000'))
    t.ok(hostAllowed(named, 'ci-box'))
    t.notOk(hostAllowed(named, 'other.test'))
    t.ok(hostAllowed(hostPolicy(['127.0.0.1'], ['*']), 'anything.example'))
    t.ok(hostAllowed(hostPolicy(['0.0.0.0'], undefined), 'mock:8000'), 'the image: every host')
    t.notOk(hostAllowed(hostPolicy(['0.0.0.0'], ['mock']), 'other'), 'unless ALLOWED_HOSTS is set')
    t.ok(hostAllowed(hostPolicy(['0.0.0.0'], ['mock']), 'localhost:8000'), 'loopback names always (a health check)')
    t.same(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '0.0.0.0', '::', '10.0.0.1'].map(isLoopback), [
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ])
    t.same(['a:1', '[::1]:80', 'Example.TEST', '[::1]'].map(hostName), ['a', '[::1]', 'example.test', '[::1]'])
  },
)

t.test('on loopback, another Host is 403 in the text shape before anything runs, on both addresses', async (t) => {
  const mock = await startMockServer({ logger: false })
  t.teardown(() => mock.close())
  const port = Number(new URL(mock.url).port)
  for (const via of ['127.0.0.1', '::1']) {
    const res = await ask(port, list('evil.example:1234'), via)
    textShape(
      t,
      res,
      403,
      /^Host evil\.example:1234 is not allowed: the mock answers localhost, 127\.0\.0\.1, \[::1\], the address it listens on/,
    )
    t.equal(header(res, 'access-control-allow-origin'), undefined)
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])
      t.equal((await ask(port, list(host), via)).status, 200, `${host} via ${via}`)
  }
  // Nothing ran: no journal entry, no change.
  const del = `DELETE /v1/ai_secret HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${KEYS.owner}\r\ncontent-type: application/json\r\ncontent-length: 25\r\n\r\n{"name":"OPENAI_API_KEY"}`
  t.equal((await ask(port, del.replace(/\r\n\r\n$/, ''))).status, 403)
  t.same(
    (await mock.requests()).filter((r) => r.headers.host === 'evil.example'),
    [],
    'the refused requests are not in the journal',
  )
  const reset = await ask(port, 'POST /_mock/reset HTTP/1.1\r\nHost: evil.example\r\ncontent-length: 0')
  t.equal(reset.status, 403, 'the control plane alike')
  t.equal(
    (
      await mock.app.inject({
        method: 'GET',
        url: '/v1/ai_secret',
        headers: { host: 'evil.example', authorization: `Bearer ${KEYS.owner}` },
      })
    ).statusCode,
    200,
    'inject() is not checked',
  )
})

t.test('allowedHosts (ALLOWED_HOSTS) adds names; * allows every host; another address allows every host', async (t) => {
  const named = await startMockServer({ logger: false, allowedHosts: ['mock.test'] })
  t.teardown(() => named.close())
  const port = Number(new URL(named.url).port)
  t.equal((await ask(port, list('mock.test:80'))).status, 200)
  t.equal((await ask(port, list('other.test'))).status, 403)
  const any = await startMockServer({ logger: false, allowedHosts: ['*'] })
  t.teardown(() => any.close())
  t.equal((await ask(Number(new URL(any.url).port), list('other.test'))).status, 200)
  const wide = await startMockServer({ logger: false, host: '0.0.0.0' })
  t.teardown(() => wide.close())
  t.equal((await ask(Number(new URL(wide.url).port), list('mock:8000'))).status, 200, 'the image: every host')
})

t.test('an HTTP/1.1 request without Host, or with two, is a 400 in the text shape with the request ids', async (t) => {
  const mock = await startMockServer({ logger: false })
  t.teardown(() => mock.close())
  const port = Number(new URL(mock.url).port)
  const none = await ask(port, `GET /v1/ai_secret HTTP/1.1\r\nAuthorization: Bearer ${KEYS.owner}`)
  textShape(t, none, 400, /^Malformed request: an HTTP\/1\.1 request needs exactly one Host header, not 0/)
  const two = await ask(
    port,
    `GET /v1/ai_secret HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\nAuthorization: Bearer ${KEYS.owner}`,
  )
  textShape(t, two, 400, /needs exactly one Host header, not 2/)
  const journal = await mock.requests({ path: '/v1/ai_secret' })
  t.same(
    journal.map((r) => r.status),
    [400, 400],
    'the journal shows them, as every /v1 request',
  )
  t.equal(
    (await ask(port, `GET /v1/ai_secret HTTP/1.0\r\nAuthorization: Bearer ${KEYS.owner}`)).status,
    200,
    'HTTP/1.0 needs none',
  )
})

t.test('listening on another loopback address, its own URL is answered; other names are not', async (t) => {
  const mock = await startMockServer({ logger: false, host: '127.0.0.2' })
  t.teardown(() => mock.close())
  const port = Number(new URL(mock.url).port)
  t.equal((await ask(port, list(`127.0.0.2:${port}`), '127.0.0.2')).status, 200, 'the address it prints')
  t.equal((await ask(port, list('localhost'), '127.0.0.2')).status, 200)
  t.equal((await ask(port, list('127.0.0.3'), '127.0.0.2')).status, 403, 'not any loopback address')
})

t.test('a Host that is not host[:port], or two of them on HTTP/1.0 too, is a 400 before anything runs', async (t) => {
  const mock = await startMockServer({ logger: false })
  t.teardown(() => mock.close())
  const port = Number(new URL(mock.url).port)
  for (const value of ['localhost:80@evil.example', '[::1]evil.example', 'localhost/x', 'local host', 'a"b'])
    textShape(
      t,
      await ask(port, list(value)),
      400,
      /^Malformed request: the Host header ".*" is not a host and an optional port/,
    )
  for (const value of ['localhost', 'localhost:', '127.0.0.1:8000', '[::1]:1', '[::ffff:127.0.0.1]', ''])
    t.not((await ask(port, list(value))).status, 400, `${JSON.stringify(value)} is a host`)
  const reset = await ask(port, 'POST /_mock/reset HTTP/1.0\r\nHost: localhost\r\nHost: evil.example')
  textShape(t, reset, 400, /needs exactly one Host header, not 2/)
})

t.test('an absolute-form target: its own host is the one checked, not the Host header', async (t) => {
  const mock = await startMockServer({ logger: false })
  t.teardown(() => mock.close())
  const port = Number(new URL(mock.url).port)
  const absolute = (target: string, host: string) =>
    `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${KEYS.owner}`
  t.equal((await ask(port, absolute('http://rebound.example/v1/ai_secret', 'localhost'))).status, 403)
  t.equal((await ask(port, absolute('http://user@rebound.example:80/v1/ai_secret', 'localhost'))).status, 403)
  t.equal((await ask(port, absolute(`http://localhost:${port}/v1/ai_secret`, 'rebound.example'))).status, 200)
})
