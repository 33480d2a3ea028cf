// JWT bearer tokens, verified by jose (issue 11, finding 10): today's rules (HS256 only,
// exp/nbf against the mock's clock, the email claim) and the edge cases a JOSE library
// knows: other algorithms and `none` in every spelling, `crit`, unencoded payloads,
// malformed segments, claims of the wrong type.
import { createHmac } from 'node:crypto'
import t from 'tap'
import { signJwt, verifyJwt } from '../../src/auth/jwt.js'
import { KEYS, build, call, headers } from '../support/app.js'

const SECRET = 'test-jwt-secret'
const NOW = Date.parse('2026-01-01T00:00:00Z') / 1000
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
/** A token with any header, signed with HMAC-SHA256 whatever the header says. */
const sign = (header: unknown, claims: unknown, secret = SECRET) => {
  const hp = `${b64(header)}.${b64(claims)}`
  return `${hp}.${createHmac('sha256', secret).update(hp).digest('base64url')}`
}
const alice = { email: 'alice@acme.test' }

t.test('refused tokens: each a 401 naming why, in the text shape', async (t) => {
  const app = await build(t, { jwtSecret: SECRET, deterministic: true })
  const good = sign({ alg: 'HS256', typ: 'JWT' }, alice)
  const cases: [string, string, string][] = [
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(alice)}.`, 'only HS256-signed JWTs are accepted'],
    ['alg None', `${b64({ alg: 'None' })}.${b64(alice)}.`, 'only HS256-signed JWTs are accepted'],
    ['alg NONE, signed', sign({ alg: 'NONE' }, alice), 'only HS256-signed JWTs are accepted'],
    ['alg HS512', sign({ alg: 'HS512' }, alice), 'only HS256-signed JWTs are accepted'],
    ['alg HS384', sign({ alg: 'HS384' }, alice), 'only HS256-signed JWTs are accepted'],
    ['alg RS256 (the secret as a public key)', sign({ alg: 'RS256' }, alice), 'only HS256-signed JWTs are accepted'],
    ['alg hs256 (case matters)', sign({ alg: 'hs256' }, alice), 'only HS256-signed JWTs are accepted'],
    ['no alg', sign({ typ: 'JWT' }, alice), 'malformed JWT'],
    [
      'unknown critical parameter',
      sign({ alg: 'HS256', crit: ['x-policy'], 'x-policy': 1 }, alice),
      'unsupported critical header parameter (crit)',
    ],
    [
      'critical parameter absent',
      sign({ alg: 'HS256', crit: ['x-policy'] }, alice),
      'unsupported critical header parameter (crit)',
    ],
    ['empty crit', sign({ alg: 'HS256', crit: [] }, alice), 'malformed JWT'],
    ['crit not an array', sign({ alg: 'HS256', crit: 'x' }, alice), 'malformed JWT'],
    ['unencoded payload (b64: false)', sign({ alg: 'HS256', crit: ['b64'], b64: false }, alice), 'malformed JWT'],
    ['wrong secret', sign({ alg: 'HS256' }, alice, 'other-secret'), 'bad signature'],
    [
      'signature of another token',
      `${good.split('.').slice(0, 2).join('.')}.${signJwt({ email: 'mallory@x.test' }, SECRET).split('.')[2]}`,
      'bad signature',
    ],
    ['empty signature', `${good.split('.').slice(0, 2).join('.')}.`, 'bad signature'],
    [
      'claims changed after signing',
      `${good.split('.')[0]}.${b64({ email: 'bob@multi.test' })}.${good.split('.')[2]}`,
      'bad signature',
    ],
    ['empty header', `.${b64(alice)}.${good.split('.')[2]}`, 'malformed JWT'],
    ['header not JSON', `${b64('{alg')}.${b64(alice)}.${good.split('.')[2]}`, 'malformed JWT'],
    ['header not base64url', `***.${b64(alice)}.${good.split('.')[2]}`, 'malformed JWT'],
    ['claims an array', sign({ alg: 'HS256' }, [alice]), 'malformed JWT'],
    ['claims not JSON', sign({ alg: 'HS256' }, 'email=alice'), 'malformed JWT'],
    ['signature not base64url', `${good.split('.').slice(0, 2).join('.')}.!!!`, 'malformed JWT'],
    ['garbage', 'a.b.c', 'malformed JWT'],
    ['exp a string', sign({ alg: 'HS256' }, { ...alice, exp: 'tomorrow' }), 'invalid exp claim'],
    ['nbf a string', sign({ alg: 'HS256' }, { ...alice, nbf: 'now' }), 'invalid nbf claim'],
    ['iat a string', sign({ alg: 'HS256' }, { ...alice, iat: 'now' }), 'invalid iat claim'],
    ['expired this second', sign({ alg: 'HS256' }, { ...alice, exp: NOW }), 'expired'],
    ['valid from the next second', sign({ alg: 'HS256' }, { ...alice, nbf: NOW + 1 }), 'not valid yet'],
    ['email a number', sign({ alg: 'HS256' }, { email: 5 }), 'no email claim'],
    ['email empty', sign({ alg: 'HS256' }, { email: '' }), 'no email claim'],
  ]
  for (const [what, token, reason] of cases) {
    const res = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(token) })
    t.equal(res.statusCode, 401, what)
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8', what)
    t.match(res.body, new RegExp(`^Invalid token: ${reason.replace(/[()]/g, '\\$&')} \\[timestamp=`), what)
    t.notMatch(res.body, token, `${what}: the token is not echoed`)
  }
  const ok = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(good) })
  t.equal(ok.statusCode, 200, 'and the good one passes')
  const known = await call(t, app, {
    method: 'GET',
    url: '/v1/ai_secret',
    headers: headers(sign({ alg: 'HS256', crit: ['exp'], exp: NOW + 60 }, alice)),
  })
  t.equal(known.statusCode, 401, 'crit may not name a parameter of the JWS specification itself')
})

t.test('exp and nbf are read against the mock\u2019s clock, with no tolerance', async (t) => {
  const app = await build(t, { jwtSecret: SECRET, deterministic: true })
  const token = signJwt({ ...alice, nbf: NOW + 60, exp: NOW + 120 }, SECRET)
  const get = () => call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(token) })
  const advance = (ms: number) => app.inject({ method: 'POST', url: '/_mock/clock', payload: { advance_ms: ms } })
  t.match((await get()).body, /^Invalid token: not valid yet/, 'before nbf')
  await advance(59_999)
  t.match((await get()).body, /^Invalid token: not valid yet/, 'a millisecond before nbf')
  await advance(1)
  t.equal((await get()).statusCode, 200, 'at nbf')
  await advance(59_999)
  t.equal((await get()).statusCode, 200, 'a millisecond before exp')
  await advance(1)
  t.match((await get()).body, /^Invalid token: expired/, 'at exp')
  const set = await app.inject({ method: 'POST', url: '/_mock/clock', payload: { set: '2026-01-01T00:01:30Z' } })
  t.equal(set.statusCode, 200)
  t.equal((await get()).statusCode, 200, 'setting the clock back makes it valid again')
})

t.test('verifyJwt: the email claim, and no secret configured', async (t) => {
  t.equal(await verifyJwt(signJwt({ email: 'x@y.test', sub: '1' }, 's'), 's', new Date()), 'x@y.test')
  await t.rejects(verifyJwt(signJwt({ email: 'x@y.test' }, 's'), undefined, new Date()), {
    code: 'auth_invalid_token',
    params: { reason: 'JWT authentication is not configured on this mock (set JWT_SECRET)' },
  })
  await t.rejects(verifyJwt(signJwt({ email: 'x@y.test' }, 's'), '', new Date()), { code: 'auth_invalid_token' })
  // The same token, checked twice with two secrets: the key made for one is not the other's.
  await t.rejects(verifyJwt(signJwt({ email: 'x@y.test' }, 's'), 't', new Date()), {
    code: 'auth_invalid_token',
    params: { reason: 'bad signature' },
  })
})

t.test('a JWT request answered before authentication is journaled under its user\u2019s organization', async (t) => {
  const app = await build(t, { jwtSecret: SECRET })
  const token = signJwt(alice, SECRET)
  const forced = await app.inject({
    method: 'GET',
    url: '/v1/ai_secret',
    headers: { ...headers(token), prefer: 'code=429' },
  })
  t.equal(forced.statusCode, 429)
  t.notMatch(forced.body, 'user_email', 'a forced answer comes before authentication, as for an API key')
  const journal = (await app.inject({ method: 'GET', url: '/_mock/requests' })).json<{
    requests: { status: number; org: string | null }[]
  }>().requests
  t.same(
    journal.map((r) => [r.status, r.org]),
    [[429, 'acme']],
  )
  const bad = await app.inject({
    method: 'GET',
    url: '/v1/ai_secret',
    headers: { ...headers(signJwt(alice, 'wrong')), prefer: 'code=429' },
  })
  t.equal(bad.statusCode, 429, 'a forced answer stays forced, whatever the token')
  const key = await app.inject({
    method: 'GET',
    url: '/v1/ai_secret',
    headers: { ...headers(KEYS.owner), prefer: 'code=429' },
  })
  t.equal(key.statusCode, 429)
  const all = (await app.inject({ method: 'GET', url: '/_mock/requests' })).json<{
    requests: { status: number; org: string | null }[]
  }>().requests
  t.same(
    all.map((r) => [r.status, r.org]),
    [
      [429, 'acme'],
      [429, null],
      [429, 'acme'],
    ],
  )
})
