import t from 'tap'
import { MAX_KEYS, RateLimiter, WINDOW_MS } from '../../src/control/rate-limit.js'
import { KEYS, build, buildMock, call, headers } from '../support/app.js'

const del = (key: string, name = 'nope') =>
  ({ method: 'DELETE', url: '/v1/ai_secret', headers: headers(key), payload: { name } }) as const

t.test('over the limit: 429 in the documented shape with an honest Retry-After, per key', async (t) => {
  const app = await build(t, { rateLimitPerMinute: 3, deterministic: true })
  for (let i = 0; i < 3; i++) t.equal((await call(t, app, del(KEYS.owner))).statusCode, 400)
  const limited = await call(t, app, del(KEYS.owner, 'OPENAI_API_KEY'))
  t.equal(limited.statusCode, 429)
  t.equal(limited.headers['content-type'], 'text/plain; charset=utf-8')
  const retryAfter = Number(limited.headers['retry-after'])
  t.ok(
    retryAfter >= 59 && retryAfter <= 60,
    `Retry-After ${retryAfter}: the oldest request leaves the window in about a minute`,
  )
  t.match(
    limited.body,
    new RegExp(
      `^Too many requests: the limit is 3 per minute for this API key; retry after ${retryAfter} s \\[timestamp=`,
    ),
  )
  t.equal(
    (await app.inject({ method: 'GET', url: '/_mock/state' })).json().ai_secrets.length,
    2,
    'the refused delete did nothing',
  )

  t.equal((await call(t, app, del(KEYS.member))).statusCode, 400, 'another key has its own window')
  t.equal((await call(t, app, del(`  ${KEYS.owner}`.trim()))).statusCode, 429)
  t.equal(
    (await call(t, app, { method: 'DELETE', url: '/v1/ai_secret', headers: headers(), payload: { name: 'x' } }))
      .statusCode,
    401,
    'no key: not limited, refused',
  )

  // Advancing the mock's clock frees slots, as time passing would.
  await app.inject({ method: 'POST', url: '/_mock/clock', payload: { advance_ms: WINDOW_MS } })
  t.equal((await call(t, app, del(KEYS.owner, 'OPENAI_API_KEY'))).statusCode, 200)
})

t.test('reset empties the counters', async (t) => {
  const app = await build(t, { rateLimitPerMinute: 1 })
  t.equal((await call(t, app, del(KEYS.owner))).statusCode, 400)
  t.equal((await call(t, app, del(KEYS.owner))).statusCode, 429)
  await app.inject({ method: 'POST', url: '/_mock/reset' })
  t.equal((await call(t, app, del(KEYS.owner))).statusCode, 400)
})

t.test('off by default', async (t) => {
  const { app, mock } = await buildMock(t)
  for (let i = 0; i < 50; i++) t.equal((await app.inject(del(KEYS.owner))).statusCode, 400)
  t.equal(mock.control.limiter, null)
})

t.test('RateLimiter: a sliding window with exact Retry-After', async (t) => {
  let now = 0
  const limiter = new RateLimiter(2, () => now)
  t.same(limiter.take('a'), { allowed: true, retryAfter: 0 })
  now = 10_000
  t.ok(limiter.take('a').allowed)
  now = 20_000
  t.same(limiter.take('a'), { allowed: false, retryAfter: 40 }, 'the slot taken at 0 s frees at 60 s')
  now = 59_999
  t.same(limiter.take('a'), { allowed: false, retryAfter: 1 }, 'never less than 1 s')
  now = 60_000
  t.ok(limiter.take('a').allowed, 'a refused request took no slot; the first one has left the window')
  t.same(limiter.take('a'), { allowed: false, retryAfter: 10 })
  limiter.advance(10_000)
  t.ok(limiter.take('a').allowed)
  limiter.reset()
  t.ok(limiter.take('a').allowed)
  t.ok(limiter.take('a').allowed)
  t.notOk(limiter.take('a').allowed)
})

t.test('RateLimiter: bounded memory', async (t) => {
  let now = 0
  const limiter = new RateLimiter(1000, () => now)
  for (let i = 0; i < 5000; i++) limiter.take('busy')
  t.equal(limiter.take('busy').allowed, false)
  now = WINDOW_MS + 1
  for (let i = 0; i < 999; i++) t.equal(limiter.take('busy').allowed, true)
  t.equal(limiter.take('busy').allowed, true)
  t.equal(limiter.take('busy').allowed, false)

  for (let i = 0; i < MAX_KEYS + 500; i++) limiter.take(`k${i}`)
  t.ok(limiter.trackedKeys <= MAX_KEYS, `${limiter.trackedKeys} keys tracked`)
  now += WINDOW_MS + 1
  limiter.take('late')
  t.ok(limiter.trackedKeys < 10, 'idle keys are forgotten once their window has passed')
})

t.test('tokens that name no key are not counted: they never share or push out a real key\u2019s window', async (t) => {
  const app = await build(t, { rateLimitPerMinute: 2 })
  const get = (key: string) => app.inject({ method: 'GET', url: '/v1/ai_secret', headers: headers(key) })
  t.equal((await get(KEYS.owner)).statusCode, 200)
  t.equal((await get(KEYS.owner)).statusCode, 200)
  // More junk tokens than the limiter tracks keys: each had its own window, and the real key's was dropped.
  for (let i = 0; i < 10_001; i++) {
    const res = await get(`sk-junk-${i}`)
    if (res.statusCode !== 401) return t.fail(`junk token ${i}: ${res.statusCode}`)
  }
  t.equal((await get(KEYS.owner)).statusCode, 429, 'the real key is still over its limit')
  t.equal((await get('sk-junk-1')).statusCode, 401, 'a junk token gets its 401, never a 429')
})
