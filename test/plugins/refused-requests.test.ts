// Requests Node's HTTP parser refuses before any route sees them (issue 11, finding 3):
// oversized request lines (414) and headers (431), and every other refusal (400), answered
// in the documented text shape with both request-id headers, never Fastify's JSON, and
// never echoing the bytes that were sent.
import type { AddressInfo } from 'node:net'
import { maxHeaderSize } from 'node:http'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { rawExchange, type RawResponse } from '../support/reliability/net.js'
import { startMockServer } from '../../src/start-mock-server.js'
import { KEYS, build } from '../support/app.js'

const LIMIT = maxHeaderSize
const AUTH = `authorization: Bearer ${KEYS.owner}\r\n`

async function listening(t: Test, options: Parameters<typeof build>[1] = {}) {
  const lines: string[] = []
  const stream = new Writable({
    write: (chunk, _enc, cb) => {
      lines.push(String(chunk))
      cb()
    },
  })
  const app = await build(t, { logger: { level: 'info', stream }, ...options })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port, lines }
}

async function exchange(port: number, chunks: (string | number)[]): Promise<RawResponse> {
  const ex = await rawExchange(
    port,
    chunks.map((c) => (typeof c === 'number' ? c : Buffer.from(c, 'latin1'))),
    { end: false, timeoutMs: 5000, expect: 1 },
  )
  if (ex.responses[0] === undefined) throw new Error(`no answer (reset ${ex.reset}, timed out ${ex.timedOut})`)
  return ex.responses[0]
}

function header(res: RawResponse, name: string): string | undefined {
  const m = new RegExp(`^${name}: (.*)$`, 'im').exec(res.head)
  return m?.[1]?.trim()
}

/** The documented text shape: the message, then the bracketed context with the request id that both headers carry. */
function documented(t: Test, res: RawResponse, status: number, message: RegExp, what: string) {
  t.equal(res.status, status, what)
  t.equal(header(res, 'content-type'), 'text/plain; charset=utf-8', `${what}: text`)
  const id = header(res, 'x-request-id')
  t.match(id, /^mock::[0-9a-f-]{36}$/, `${what}: x-request-id`)
  t.equal(header(res, 'x-bt-internal-trace-id'), id, `${what}: x-bt-internal-trace-id`)
  t.match(res.body, message, what)
  t.match(res.body, new RegExp(` \\[timestamp=\\d+\\.\\d{3}\\] \\[request_id=${id}\\]$`), `${what}: bracketed context`)
  t.notMatch(res.body, /statusCode|"error"/, `${what}: not Fastify's JSON`)
  t.equal(header(res, 'connection'), 'close', `${what}: the connection closes`)
}

/** Splits a string into pieces of n bytes, with a pause between them, so the server reads them apart. */
const pieces = (s: string, n: number): (string | number)[] =>
  Array.from({ length: Math.ceil(s.length / n) }, (_, i) => [s.slice(i * n, (i + 1) * n), 15]).flat()

const LONG_TARGET = `/v1/ai_secret?ids=${Array.from({ length: 600 }, () => '00000000-0000-4000-8000-000000000000').join(',')}`

t.test('a request line over the limit: 414 in the text shape; headers over it: 431', async (t) => {
  const { port } = await listening(t)
  t.ok(LONG_TARGET.length > LIMIT, `the target is ${LONG_TARGET.length} bytes`)
  const URI =
    /^URI too long: the request line and its headers may hold \d+ bytes together, and the request line alone is longer \[/
  const HEADERS = /^Request header fields too large: the request line and its headers may hold \d+ bytes together \[/
  documented(
    t,
    await exchange(port, [`GET ${LONG_TARGET} HTTP/1.1\r\nhost: localhost\r\n${AUTH}\r\n`]),
    414,
    URI,
    'long target, one write',
  )
  documented(
    t,
    await exchange(port, [`DELETE /v1/ai_secret/${'a'.repeat(LIMIT + 10)} HTTP/1.1\r\nhost: localhost\r\n\r\n`]),
    414,
    URI,
    'long id',
  )
  // Read in two pieces, the parser failing in the second, which holds the end of the request line:
  // where that line began tells whether it alone was too long.
  const longer = `GET /v1/ai_secret?x=${'a'.repeat(LIMIT + 500)} HTTP/1.1\r\nhost: localhost\r\n${AUTH}\r\n`
  documented(
    t,
    await exchange(port, [longer.slice(0, LIMIT - 100), 30, longer.slice(LIMIT - 100)]),
    414,
    URI,
    'long target read in two pieces',
  )
  const almost = `GET /v1/ai_secret?x=${'a'.repeat(LIMIT - 100)} HTTP/1.1\r\nhost: localhost\r\n${AUTH}x-pad: ${'p'.repeat(300)}\r\n\r\n`
  documented(
    t,
    await exchange(port, [almost.slice(0, LIMIT - 200), 30, almost.slice(LIMIT - 200)]),
    431,
    HEADERS,
    'a target just under the limit, then a header, in two pieces',
  )

  documented(
    t,
    await exchange(port, [
      `GET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}x-big: ${'b'.repeat(LIMIT + 10)}\r\n\r\n`,
    ]),
    431,
    HEADERS,
    'one big header',
  )
  documented(
    t,
    await exchange(port, [
      `GET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}${Array.from({ length: 1000 }, (_, i) => `x-header-${i}: value-${i}`).join('\r\n')}\r\n\r\n`,
    ]),
    431,
    HEADERS,
    'many headers',
  )
  documented(
    t,
    await exchange(
      port,
      pieces(
        `GET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}${Array.from({ length: 1000 }, (_, i) => `x-header-${i}: value-${i}`).join('\r\n')}\r\n\r\n`,
        4000,
      ),
    ),
    431,
    HEADERS,
    'many headers, read in pieces',
  )
  // A piece without any line end cannot tell which line it belongs to: the general answer, 431.
  documented(
    t,
    await exchange(
      port,
      pieces(`GET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\nx-big: ${'b'.repeat(LIMIT + 4000)}\r\n\r\n`, 2000),
    ),
    431,
    HEADERS,
    'one big header, read in pieces',
  )
  // The same on a kept-alive connection, after a first request: the second piece still ends the request line.
  const again = await rawExchange(
    port,
    [
      Buffer.from('GET /_mock/health HTTP/1.1\r\nhost: localhost\r\n\r\n'),
      100,
      Buffer.from(longer.slice(0, LIMIT - 100), 'latin1'),
      30,
      Buffer.from(longer.slice(LIMIT - 100), 'latin1'),
    ],
    { end: false, timeoutMs: 5000, expect: 2 },
  )
  t.same(
    again.responses.map((r) => r.status),
    [200, 414],
    'kept alive: 200, then 414',
  )
  // Pipelined: a good request, then one over the limit in the same packet.
  const two = await rawExchange(
    port,
    [
      Buffer.from(
        `GET /_mock/health HTTP/1.1\r\nhost: localhost\r\n\r\nGET ${LONG_TARGET} HTTP/1.1\r\nhost: localhost\r\n\r\n`,
        'latin1',
      ),
    ],
    { end: false, timeoutMs: 5000, expect: 2 },
  )
  t.same(
    two.responses.map((r) => r.status),
    [200, 414],
    'pipelined: the good one answered, then the 414',
  )
  // Node's limit is kept: just under it is a normal request.
  const under = `GET /v1/ai_secret?x=${'a'.repeat(LIMIT - 200)} HTTP/1.1\r\nhost: localhost\r\n${AUTH}\r\n`
  t.equal((await exchange(port, [under])).status, 200, 'just under the limit: answered as usual')
})

t.test(
  'every other request the parser refuses: 400 in the text shape, naming Node\u2019s reason, never the bytes',
  async (t) => {
    const { port, lines } = await listening(t)
    const secret = 'sk-live-refused-value-42'
    const body = JSON.stringify({ name: 'OPENAI_API_KEY', secret })
    const cases: [string, string][] = [
      ['garbage', 'GARBAGE\r\n\r\n'],
      ['bad method', `G\u00c9T /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}\r\n`],
      ['bad version', `GET /v1/ai_secret HTTP/9.9\r\nhost: localhost\r\n${AUTH}\r\n`],
      ['bad header name', `GET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}(x): y\r\n\r\n`],
      [
        'control character in a header',
        `GET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}x-bad: a\u0001b\r\n\r\n`,
      ],
      [
        'two content lengths',
        `PUT /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}content-type: application/json\r\ncontent-length: ${body.length}\r\ncontent-length: ${body.length + 1}\r\n\r\n${body}`,
      ],
      [
        'content-length and chunked',
        `PUT /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}content-type: application/json\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n${body}`,
      ],
      [
        'obsolete line folding',
        `GET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer\r\n ${KEYS.owner}\r\n\r\n`,
      ],
    ]
    for (const [what, raw] of cases) {
      documented(t, await exchange(port, [raw]), 400, /^Malformed request \(HPE_[A-Z_]+\) \[/, what)
    }
    const all = lines.join('\n')
    t.ok(
      lines.some((l) => l.includes('"status":400') && l.includes('client error')),
      'each refusal is logged, at info',
    )
    t.notMatch(all, KEYS.owner, 'no key in the log')
    t.notMatch(all, secret, 'no secret in the log')
  },
)

t.test(
  'the journal: a refused /v1 request whose request line could be read is listed, without its headers',
  async (t) => {
    const { app, port } = await listening(t)
    await exchange(port, [
      `GET /v1/ai_secret?org_name=acme HTTP/1.1\r\nhost: localhost\r\n${AUTH}x-big: ${'b'.repeat(LIMIT + 10)}\r\n\r\n`,
    ])
    await exchange(port, [`DELETE /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}x-bad: a\u0001b\r\n\r\n`])
    await exchange(port, [`GET ${LONG_TARGET} HTTP/1.1\r\nhost: localhost\r\n${AUTH}\r\n`])
    await exchange(port, [`GET /_mock/state HTTP/1.1\r\nhost: localhost\r\nx-big: ${'b'.repeat(LIMIT + 10)}\r\n\r\n`])
    // Other spellings of the path: listed under the path they name, as an accepted request is.
    await exchange(port, [`GET /v1/%61i_secret HTTP/1.1\r\nhost: localhost\r\nBad Header: x\r\n\r\n`])
    await exchange(port, [`GET http://localhost/v1/ai_secret HTTP/1.1\r\nhost: localhost\r\nBad Header: x\r\n\r\n`])
    const journal = (await app.inject({ method: 'GET', url: '/_mock/requests' })).json<{
      requests: {
        method: string
        path: string
        query: object
        headers: object
        body: unknown
        status: number
        id: string
      }[]
    }>().requests
    t.same(
      journal.map((r) => [r.method, r.path, r.query, r.headers, r.body, r.status]),
      [
        ['GET', '/v1/ai_secret', { org_name: 'acme' }, {}, null, 431],
        ['DELETE', '/v1/ai_secret', {}, {}, null, 400],
        ['GET', '/v1/ai_secret', {}, {}, null, 400],
        ['GET', '/v1/ai_secret', {}, {}, null, 400],
      ],
      'a 414 has no whole target to list, and /_mock requests are not journaled',
    )
    t.match(journal[0]!.id, /^mock::/)
  },
)

t.test(
  'a body that breaks off inside a request the app is handling, and a request that does not arrive in time',
  async (t) => {
    const { app, port, lines } = await listening(t)
    const res = await exchange(port, [
      `PUT /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"nam\r\n`,
      50,
      'zz\r\n',
    ])
    documented(t, res, 400, /^Malformed request \(HPE_INVALID_CHUNK_SIZE\) \[/, 'a bad chunk size')
    // The request the app was handling ends as aborted: no server error in the log.
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.notOk(
      lines.some((l) => /"level":50/.test(l)),
      'the abort is not logged as a server error',
    )
    // Node reports a request that did not arrive within requestTimeout as ERR_HTTP_REQUEST_TIMEOUT.
    const timedOut = new Promise<RawResponse>((resolve, reject) => {
      app.server.once('connection', (socket) => {
        setTimeout(
          () =>
            app.server.emit(
              'clientError',
              Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }),
              socket,
            ),
          50,
        )
      })
      exchange(port, ['GET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n']).then(resolve, reject)
    })
    documented(t, await timedOut, 408, /^Request timeout: the request did not arrive in time \[/, 'timeout')
    const after = await app.inject({
      method: 'GET',
      url: '/v1/ai_secret',
      headers: { authorization: `Bearer ${KEYS.owner}` },
    })
    t.equal(after.statusCode, 200, 'the mock goes on answering')
  },
)

t.test('an Expect other than 100-continue is answered as if absent, never with Node\u2019s bare 417', async (t) => {
  const { port } = await listening(t)
  for (const expect of ['x', 'something-else', '100-continue, x']) {
    const res = await exchange(port, [
      `GET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}expect: ${expect}\r\nconnection: close\r\n\r\n`,
    ])
    t.equal(res.status, 200, expect)
    t.match(header(res, 'x-request-id'), /^mock::/)
    t.match(res.body, /^\{"objects":\[/)
  }
})

// --- a request that never finishes arriving ---------------------------------------------------
// Node's own requestTimeout covers the head alone: a body that stopped was held for ever.

t.test(
  'a head or a body not whole within REQUEST_TIMEOUT_MS: 408 in the text shape, the connection closed',
  async (t) => {
    const mock = await startMockServer({ logger: false, requestTimeoutMs: 300 })
    t.teardown(() => mock.close())
    const port = Number(new URL(mock.url).port)
    const cases: [string, string][] = [
      [
        'a body cut short',
        `DELETE /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}content-type: application/json\r\ncontent-length: 25\r\n\r\n{"name"`,
      ],
      [
        'a gzip body cut short',
        `POST /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}content-type: application/json\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n5\r\n\u001f\u008b\b\u0000\u0000\r\n`,
      ],
      ['a head cut short', `GET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n${AUTH}`],
      [
        'a control-plane body',
        'POST /_mock/seed HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ' +
          '40\r\n\r\n{"organizations"',
      ],
    ]
    for (const [what, bytes] of cases) {
      const started = performance.now()
      const ex = await rawExchange(port, [Buffer.from(bytes, 'latin1')], { end: false, timeoutMs: 10_000 })
      const res = ex.responses[0]
      if (res === undefined) {
        t.fail(`${what}: no answer`)
        continue
      }
      documented(t, res, 408, /^Request timeout: the request did not arrive( whole within 300 ms| in time)/, what)
      t.ok(ex.closedByServer || ex.reset, `${what}: the connection closed`)
      t.ok(performance.now() - started < 5000, `${what}: answered at the timeout, not held`)
    }
    const list = await mock.app.inject({
      method: 'GET',
      url: '/v1/ai_secret',
      headers: { authorization: `Bearer ${KEYS.owner}` },
    })
    t.equal(list.json().objects.length, 1, 'nothing was deleted or created')
  },
)

t.test(
  'answered while its body still arrives: the connection closes after the answer, whatever the route',
  async (t) => {
    // GET's body is not read; a 401, a 404 or a forced answer gives up draining after
    // REQUEST_TIMEOUT_MS: the socket then stayed up 60 s for a client that kept trickling.
    const mock = await startMockServer({ logger: false, requestTimeoutMs: 500 })
    t.teardown(() => mock.close())
    const port = Number(new URL(mock.url).port)
    const head = (line: string, auth = true) =>
      Buffer.from(
        `${line}\r\nHost: localhost\r\n${auth ? `Authorization: Bearer ${KEYS.owner}\r\n` : ''}` +
          'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"na',
      )
    for (const [line, auth, status] of [
      ['GET /v1/ai_secret HTTP/1.1', true, 200],
      ['GET /_mock/health HTTP/1.1', true, 200],
      ['POST /v1/ai_secret HTTP/1.1', false, 401],
      ['GET /nowhere HTTP/1.1', true, 404],
    ] as const) {
      // A byte every 100 ms, for 20 s, unless the server closes first.
      const trickle = Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 100 : Buffer.from(' ')))
      const ex = await rawExchange(port, [head(line, auth), ...trickle], { end: false, timeoutMs: 15_000, expect: 1 })
      t.equal(ex.responses[0]?.status, status, line)
      t.ok(ex.closedByServer, `${line}: the server closed the connection (within 15 s, not at the client's pace)`)
    }
  },
)
