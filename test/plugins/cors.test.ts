// CORS (issue 11, finding 5): what upstream documents for OPTIONS, `Vary: Origin` wherever
// the origin is echoed, the request-id headers exposed, and CORS on /_mock and the
// OpenAPI documents too, so that a browser-based harness can drive the mock.
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
function readable(t: Test, res: { headers: Record<string, unknown> }, what: string) {
  t.equal(res.headers['access-control-allow-origin'], ORIGIN, `${what}: the origin is echoed`)
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

t.test('/_mock and the OpenAPI documents answer cross-origin requests too, admin token or not', async (t) => {
  const app = await build(t, { adminToken: 'admin-secret' })
  for (const url of ['/_mock/reset', '/_mock/state', '/_mock/seed', '/_mock/faults', '/_mock/clock', '/openapi.json']) {
    // A browser's preflight carries no Authorization: it must pass without the admin token.
    const pre = await app.inject({
      method: 'OPTIONS',
      url,
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    })
    t.equal(pre.statusCode, 200, `preflight ${url}`)
    t.equal(pre.headers['access-control-allow-origin'], ORIGIN)
    t.match(pre.headers['access-control-allow-methods'], /POST/)
    t.equal(pre.headers['access-control-allow-headers'], 'authorization,content-type')
  }
  const admin = { origin: ORIGIN, authorization: 'Bearer admin-secret' }
  const reset = await app.inject({ method: 'POST', url: '/_mock/reset', headers: admin })
  t.equal(reset.statusCode, 200)
  readable(t, reset, 'POST /_mock/reset')
  const state = await app.inject({ method: 'GET', url: '/_mock/state', headers: admin })
  readable(t, state, 'GET /_mock/state')
  const refused = await app.inject({ method: 'GET', url: '/_mock/state', headers: { origin: ORIGIN } })
  t.equal(refused.statusCode, 401)
  readable(t, refused, 'the 401 of /_mock without the token')
  for (const url of ['/openapi.json', '/openapi.yaml', '/_mock/health']) {
    const res = await app.inject({ method: 'GET', url, headers: { origin: ORIGIN } })
    t.equal(res.statusCode, 200, url)
    readable(t, res, url)
  }
})
