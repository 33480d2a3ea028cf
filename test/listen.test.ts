// Where the mock listens (issue 11, finding 8): by default on both loopback addresses,
// 127.0.0.1 and ::1, on one port, whatever `localhost` resolves to; a host given wins; the
// URL handed out is always one a client can connect to.
import { Agent, createServer, request } from 'node:http'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import t, { type Test } from 'tap'
import { startMockServer, type MockServer } from '../src/index.js'
import { rawExchange } from './support/reliability/net.js'
import { KEYS } from './support/app.js'

/** Whether this machine can bind ::1 at all (the documented fallback is checked where it cannot). */
const IPV6 = await new Promise<boolean>((resolve) => {
  const s = createTcpServer()
  s.once('error', () => resolve(false))
  s.listen(0, '::1', () => s.close(() => resolve(true)))
})

/**
 * One request with node:http to an address and port, no keep-alive: its status and body, or the connection error's
 * code.
 */
function get(
  host: string,
  port: number,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    // Node sends a DELETE body without framing unless told its length.
    const length = init.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(init.body)) }
    const req = request(
      { host, port, path, method: init.method ?? 'GET', headers: { ...init.headers, ...length }, agent: false },
      (res) => {
        let body = ''
        res
          .setEncoding('utf8')
          .on('data', (d: string) => (body += d))
          .on('end', () => resolve({ status: res.statusCode!, body }))
      },
    )
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }))
    req.end(init.body)
  })
}

async function start(t: Test, options: Parameters<typeof startMockServer>[0] = {}): Promise<MockServer> {
  const server = await startMockServer({ logger: false, ...options })
  t.teardown(() => server.close())
  return server
}

t.test(
  `by default both loopback addresses answer, on one port (this machine ${IPV6 ? 'can' : 'cannot'} bind ::1)`,
  async (t) => {
    const server = await start(t)
    t.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'the URL handed out names 127.0.0.1: no resolver involved')
    const port = Number(new URL(server.url).port)
    const v4 = await get('127.0.0.1', port, '/_mock/health')
    t.same(v4, { status: 200, body: '{"status":"ok"}' })
    const v6 = await get('::1', port, '/_mock/health')
    if (IPV6) {
      t.same(v6, { status: 200, body: '{"status":"ok"}' }, '::1 answers on the same port')
      // The same app behind both: a secret deleted over one is gone over the other.
      const del = (host: string) =>
        get(host, port, '/v1/ai_secret', {
          method: 'DELETE',
          headers: {
            authorization: `Bearer ${KEYS.owner}`,
            'content-type': 'application/json',
            'content-encoding': 'gzip',
          },
          body: gzipSync('{"name":"OPENAI_API_KEY"}'),
        })
      t.match(await del('::1'), { status: 200 })
      t.match(await del('127.0.0.1'), { status: 400, body: /^Missing delete access/ })
      const journal = await server.requests({ method: 'DELETE' })
      t.equal(journal.length, 2, 'both requests in one journal')
      // What Node's parser refuses over ::1 is answered in the documented shape too.
      const big = await rawExchange(
        port,
        [Buffer.from(`GET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\nx-big: ${'b'.repeat(20_000)}\r\n\r\n`)],
        { end: false, timeoutMs: 5000, expect: 1, host: '::1' },
      )
      t.equal(big.responses[0]?.status, 431)
      t.match(big.responses[0]?.head, /x-request-id: mock::/)
      // And an odd Expect is answered as over 127.0.0.1, not with Node's bare 417.
      t.match(await get('::1', port, '/_mock/health', { headers: { expect: 'x' } }), { status: 200 })
    } else {
      t.match(
        v6,
        { error: /^(ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH|EAFNOSUPPORT)$/ },
        'without IPv6, 127.0.0.1 alone (the documented fallback)',
      )
    }
    // `localhost`, whichever address this machine's resolver gives first.
    t.match(await get('localhost', port, '/_mock/health'), { status: 200 })

    await server.close()
    t.match(await get('127.0.0.1', port, '/_mock/health'), { error: 'ECONNREFUSED' }, 'closed: 127.0.0.1')
    if (IPV6) t.match(await get('::1', port, '/_mock/health'), { error: 'ECONNREFUSED' }, 'closed: ::1 too')
  },
)

t.test('close() ends idle keep-alive connections on both addresses', async (t) => {
  const server = await startMockServer({ logger: false })
  const port = Number(new URL(server.url).port)
  const agent = new Agent({ keepAlive: true })
  t.teardown(() => agent.destroy())
  const sockets: Socket[] = []
  const keep = (host: string) =>
    new Promise<void>((resolve) =>
      request({ host, port, path: '/_mock/health', agent }, (res) => res.resume().on('end', () => resolve()))
        .on('socket', (s) => sockets.push(s))
        .end(),
    )
  await keep('127.0.0.1')
  if (IPV6) await keep('::1')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(sockets.filter((s) => !s.destroyed).length, IPV6 ? 2 : 1, 'kept alive, idle')
  const closed = sockets.map(
    (s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve()))),
  )
  await server.close()
  await Promise.all(closed)
  t.pass('every idle connection was closed by the server')
})

t.test('a host given is the only address; the URL is always connectable', async (t) => {
  const cases: [string, RegExp][] = [
    ['127.0.0.1', /^http:\/\/127\.0\.0\.1:\d+$/],
    ['0.0.0.0', /^http:\/\/127\.0\.0\.1:\d+$/],
    ['localhost', /^http:\/\/localhost:\d+$/],
    ...(IPV6
      ? ([
          ['::1', /^http:\/\/\[::1\]:\d+$/],
          ['::', /^http:\/\/\[::1\]:\d+$/],
        ] as [string, RegExp][])
      : []),
  ]
  for (const [host, url] of cases) {
    const server = await start(t, { host })
    t.match(server.url, url, host)
    const res = await fetch(`${server.url}/_mock/health`)
    t.equal(res.status, 200, `${host}: ${server.url} answers`)
    await server.close()
  }
  const only = await start(t, { host: '127.0.0.1' })
  if (IPV6)
    t.match(
      await get('::1', Number(new URL(only.url).port), '/_mock/health'),
      { error: 'ECONNREFUSED' },
      'a host given: ::1 is not bound',
    )
})

t.test('a fixed port taken on either address: the error names it, and nothing stays bound', async (t) => {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  const port = (blocker.address() as AddressInfo).port
  await t.rejects(startMockServer({ logger: false, port }), { code: 'EADDRINUSE', address: '127.0.0.1', port })
  await new Promise((resolve) => blocker.close(resolve))
  if (IPV6) {
    // 127.0.0.1 failed: ::1, bound first, was let go again.
    const probe = createServer()
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, '::1', resolve))
    await t.rejects(
      startMockServer({ logger: false, port }),
      { code: 'EADDRINUSE', address: '::1', port },
      'taken on ::1',
    )
    await new Promise((resolve) => probe.close(resolve))
    const free = await start(t, { port })
    t.equal(free.url, `http://127.0.0.1:${port}`, 'both free again: the mock takes the port on both')
  }
})
