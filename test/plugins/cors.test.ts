// CORS: what upstream documents for OPTIONS, `Vary: Origin` wherever the origin is echoed, the
// request-id headers exposed, on the OpenAPI documents too, so that a browser-based harness can
// drive the mock; and on /_mock for loopback origins and CORS_ORIGINS only, every other origin
// refused, so that a web page cannot drive the control plane of a mock on a laptop.
import t, { type Test } from 'tap'
import { KEYS, build, call, headers } from '../support/app.js'

const ORIGIN = 'https://app.example'
const EXPOSED = ['x-bt-cursor', 'x-bt-found-existing', 'x-bt-query-plan', 'x-request-id', 'x-bt-internal-trace-id']

const listOf = (h: unknown) =>
  String(h ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '')

/** The headers an answer to a cross-origin request from ORIGIN must carry for a page to read it. */
function readable(t: Test, res: { headers: Record<string, unknown> }, what: string, origin = ORIGIN) {
  t.equal(res.headers['access-control-allow-origin'], origin, `${what}: the origin is echoed`)
  t.equal(res.headers['access-control-allow-credentials'], 'true', `${what}: credentials allowed`)
  t.ok(listOf(res.headers.vary).includes('origin'), `${what}: Vary: Origin (got ${String(res.headers.vary)})`)
  t.same(
    listOf(res.headers['access-control-expose-headers']).sort(),
    [...EXPOSED].sort(),
    `${what}: the id headers exposed`,
  )
}

t.test('preflight on both documented paths: 200 without authentication, as upstream documents', async (t) => {
  const app = await build(t)
  for (const url of ['/v1/ai_secret', '/v1/ai_secret/00000000-0000-4000-8000-000000000000']) {
    const res = await call(t, app, {
      method: 'OPTIONS',
      url,
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'DELETE',
        'access-control-request-headers': 'authorization,content-type,x-stainless-lang',
      },
    })
    t.equal(res.statusCode, 200, url)
    t.equal(res.body, '')
    t.match(res.headers, {
      'access-control-allow-origin': ORIGIN,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
      'access-control-allow-headers': 'authorization,content-type,x-stainless-lang',
      'access-control-max-age': '86400',
    })
    t.same(listOf(res.headers.vary).sort(), ['access-control-request-headers', 'origin'], 'the answer depends on both')
    t.same(listOf(res.headers['access-control-expose-headers']).sort(), [...EXPOSED].sort())
    t.equal(res.headers['x-bt-internal-trace-id'], res.headers['x-request-id'])
    // A preflight that names no headers is told the ones the API reads.
    const plain = await call(t, app, {
      method: 'OPTIONS',
      url,
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
    })
    t.equal(plain.headers['access-control-allow-headers'], 'authorization, content-type, x-bt-org-name, x-bt-parent')
    // No Origin at all (curl -X OPTIONS): still 200, nothing echoed.
    const bare = await call(t, app, { method: 'OPTIONS', url })
    t.equal(bare.statusCode, 200)
    t.equal(bare.headers['access-control-allow-origin'], undefined)
  }
  const bad = await call(t, app, {
    method: 'OPTIONS',
    url: '/v1/ai_secret/nope',
    headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
  })
  t.equal(bad.statusCode, 400, 'a bad id is still refused, in the documented shape')
  readable(t, bad, 'OPTIONS with a bad id')
})

t.test('every /v1 answer to a cross-origin request is readable: successes, errors, forced answers', async (t) => {
  const app = await build(t, { rateLimitPerMinute: 1 })
  const h = headers(KEYS.owner, { origin: ORIGIN })
  const list = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: h })
  t.equal(list.statusCode, 200)
  readable(t, list, 'GET 200')
  const limited = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: h })
  t.equal(limited.statusCode, 429)
  readable(t, limited, 'the rate limit')
  const cases: [string, Parameters<typeof call>[2]][] = [
    ['401', { method: 'GET', url: '/v1/ai_secret', headers: { origin: ORIGIN } }],
    [
      '403 JSON',
      {
        method: 'DELETE',
        url: '/v1/ai_secret',
        headers: headers(KEYS.globexOnly, { origin: ORIGIN }),
        payload: { name: 'x', org_name: 'acme' },
      },
    ],
    [
      'Prefer: code=500',
      { method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.multi, { origin: ORIGIN, prefer: 'code=500' }) },
    ],
    ['404', { method: 'GET', url: '/v1/nope', headers: { origin: ORIGIN } }],
    [
      '415',
      {
        method: 'POST',
        url: '/v1/ai_secret',
        headers: headers(KEYS.multi, { origin: ORIGIN, 'content-encoding': 'zstd' }),
        payload: '{}',
      },
    ],
  ]
  for (const [what, req] of cases) {
    const res = await app.inject(req)
    t.ok(res.statusCode >= 400, `${what}: ${res.statusCode}`)
    readable(t, res, what)
  }
  const none = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.multi) })
  t.equal(none.headers['access-control-allow-origin'], undefined, 'no Origin, nothing echoed')
  t.ok(listOf(none.headers.vary).includes('origin'), 'but a cache is still told the answer depends on Origin')
})

t.test('/_mock answers loopback origins, admin token or not; the OpenAPI documents any origin', async (t) => {
  const app = await build(t, { adminToken: 'admin-secret' })
  for (const origin of ['http://localhost:5173', 'https://127.0.0.1', 'http://[::1]:3000']) {
    for (const url of ['/_mock/reset', '/_mock/state', '/_mock/seed', '/_mock/faults', '/_mock/clock']) {
      // A browser's preflight carries no Authorization: it must pass without the admin token.
      const pre = await app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      })
      t.equal(pre.statusCode, 200, `preflight ${url} from ${origin}`)
      t.equal(pre.headers['access-control-allow-origin'], origin)
      t.match(pre.headers['access-control-allow-methods'], /POST/)
      t.equal(pre.headers['access-control-allow-headers'], 'authorization,content-type')
    }
    const admin = { origin, authorization: 'Bearer admin-secret' }
    const reset = await app.inject({ method: 'POST', url: '/_mock/reset', headers: admin })
    t.equal(reset.statusCode, 200)
    readable(t, reset, 'POST /_mock/reset', origin)
    const state = await app.inject({ method: 'GET', url: '/_mock/state', headers: admin })
    readable(t, state, 'GET /_mock/state', origin)
    const refused = await app.inject({ method: 'GET', url: '/_mock/state', headers: { origin } })
    t.equal(refused.statusCode, 401)
    readable(t, refused, 'the 401 of /_mock without the token', origin)
  }
  for (const url of ['/openapi.json', '/openapi.yaml']) {
    const res = await app.inject({ method: 'GET', url, headers: { origin: ORIGIN } })
    t.equal(res.statusCode, 200, url)
    readable(t, res, url)
  }
})

t.test('a page on another origin can neither read, preflight nor send a /_mock request', async (t) => {
  const app = await build(t)
  const before = (await app.inject({ method: 'GET', url: '/_mock/state' })).json()
  await app.inject({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner),
    payload: { name: 'OPENAI_API_KEY' },
  })
  for (const origin of [ORIGIN, 'null', 'http://localhost.evil.example', 'http://127.0.0.1.nip.io:8000', 'file://']) {
    for (const [method, url, extra] of [
      ['OPTIONS', '/_mock/reset', { 'access-control-request-method': 'POST' }],
      // A simple request: a browser sends it without a preflight, and a reset would be done.
      ['POST', '/_mock/reset', { 'content-type': 'text/plain' }],
      ['GET', '/_mock/requests', {}],
      ['DELETE', '/_mock/faults', {}],
      ['GET', '/_mock/health', {}],
    ] as const) {
      const res = await app.inject({ method, url, headers: { origin, ...extra } })
      t.equal(res.statusCode, 403, `${method} ${url} from ${origin}`)
      t.equal(res.headers['access-control-allow-origin'], undefined, 'nothing a page may read')
      t.match(res.body, /^Origin \S+ may not use the \/_mock control plane: only loopback origins/)
    }
  }
  const after = await app.inject({ method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.owner) })
  t.equal(after.json().objects.length, 0, 'no reset happened: the deleted secret is still gone')
  t.equal(
    (await app.inject({ method: 'GET', url: '/_mock/state' })).json().organizations.length,
    before.organizations.length,
  )
  // The API itself still answers any origin.
  readable(
    t,
    await app.inject({ method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.owner, { origin: ORIGIN }) }),
    '/v1',
  )
})

t.test('CORS_ORIGINS (option corsOrigins) lets named origins use /_mock', async (t) => {
  const app = await build(t, { corsOrigins: ['https://harness.test:8443'] })
  const ok = await app.inject({ method: 'POST', url: '/_mock/reset', headers: { origin: 'https://harness.test:8443' } })
  t.equal(ok.statusCode, 200)
  readable(t, ok, 'an allowed origin', 'https://harness.test:8443')
  const other = await app.inject({ method: 'POST', url: '/_mock/reset', headers: { origin: 'https://harness.test' } })
  t.equal(other.statusCode, 403, 'another port is another origin')
})
