// API keys as the official clients' own test suites use them: visible ASCII and spaces (what
// every HTTP client sends as it is), without white space at either end, and a bearer token
// that is everything after `Bearer `. Every place that reads a bearer token
// (authentication, fault rules, the rate limit, the journal, the admin token) reads it the
// same way.
import t from 'tap'
import { bearerToken, keyProblem } from '../../src/auth/authenticate.js'
import { redactAuthorization } from '../../src/control/journal.js'
import { SeedError } from '../../src/seed.js'
import { build, buildMock, call, headers } from '../support/app.js'

const KEY = 'My API Key'
const seed = {
  organizations: [{ name: 'acme' }],
  users: [{ email: 'a@acme.test', memberships: { acme: 'owner' } }],
  api_keys: [{ key: KEY, user: 'a@acme.test' }],
  ai_secrets: [{ org: 'acme', name: 'OPENAI_API_KEY', secret: 'sk-proj-0123456789abcdef' }],
}
const DEL = { method: 'DELETE', url: '/v1/ai_secret', payload: { name: 'OPENAI_API_KEY' } } as const

t.test('`My API Key`, as the official clients\u2019 test suites use it, seeds and authenticates', async (t) => {
  const { app, mock } = await buildMock(t, { seed })
  const list = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(KEY) })
  t.equal(list.statusCode, 200, list.body)
  t.equal(list.json().objects.length, 1)
  t.equal(
    (await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers('My API') })).statusCode,
    401,
    'a prefix of the key is another key',
  )
  t.equal(mock.seeded!.api_keys[0]!.preview, 'My...ey')
})

t.test(
  'the bearer token is everything after `Bearer ` and its spaces; white space at its end is dropped',
  async (t) => {
    const app = await build(t, { seed })
    const status = async (authorization: string) =>
      (await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: { authorization } })).statusCode
    t.equal(await status(`Bearer ${KEY}`), 200)
    t.equal(await status(`bearer ${KEY}`), 200, 'the scheme in any case (RFC 7235)')
    t.equal(await status(`Bearer    ${KEY}`), 200, 'one or more spaces after the scheme (RFC 6750: 1*SP)')
    t.equal(
      await status(`Bearer ${KEY}  \t`),
      200,
      'white space at the end is not part of the token (HTTP drops it around a field value)',
    )
    t.equal(await status(`Bearer ${KEY.replace(/ /g, '  ')}`), 401, 'white space inside the token is part of it')
    t.equal(await status(`Bearer\t${KEY}`), 401, 'a tab is not the separator')
    t.equal(await status('Bearer '), 401)
    t.equal(await status(`Basic ${KEY}`), 401)
  },
)

t.test('bearerToken: the one reading of Authorization', async (t) => {
  t.equal(bearerToken(undefined), null)
  t.equal(bearerToken(''), null)
  t.equal(bearerToken('Bearer'), null)
  t.equal(bearerToken('Bearer    '), null)
  t.equal(bearerToken('Bearerx'), null)
  t.equal(bearerToken('Basic abc'), null)
  t.equal(bearerToken('BEARER a b c '), 'a b c')
  t.equal(bearerToken('Bearer  sk-1'), 'sk-1')
  t.equal(bearerToken('Bearer a.b.c'), 'a.b.c')
})

t.test('keyProblem: non-empty, no control characters, no white space at either end', async (t) => {
  t.equal(keyProblem(KEY), null)
  t.equal(keyProblem('k\u00e9y \ud83d\udd11'), null)
  t.match(keyProblem(''), /empty/)
  for (const bad of [' lead', 'trail ', '\tx', 'x\n', '\u00a0x', 'x\u3000'])
    t.match(keyProblem(bad), /white space at either end/, JSON.stringify(bad))
  for (const bad of ['a\u0000b', 'a\tb', 'a\nb', 'a\u007fb', 'a\u0085b', 'a\u009fb'])
    t.match(keyProblem(bad), /control character/, JSON.stringify(bad))
  t.match(keyProblem('a.b.c'), /three dot-separated parts/)
})

t.test('the seed refuses what cannot be a key, naming the JSON path', async (t) => {
  const { buildApp } = await import('../../src/app.js')
  const ascii = 'must be visible ASCII characters and spaces (what every HTTP client sends as it is)'
  const cases: [string, string][] = [
    [' sk', '$.api_keys[0].key: has white space at either end'],
    ['sk ', '$.api_keys[0].key: has white space at either end'],
    ['sk\n', `$.api_keys[0].key: ${ascii}`],
    ['sk\u0007x', `$.api_keys[0].key: ${ascii}`],
    // Sent as written, curl sends UTF-8 bytes, which reach the mock as other characters: never a match.
    ['sk-unicod\u00e9', `$.api_keys[0].key: ${ascii}`],
    ['sk\u00a0non\u00a0breaking', `$.api_keys[0].key: ${ascii}`],
    ['sk-\u{1F511}', `$.api_keys[0].key: ${ascii}`],
    ['', '$.api_keys[0].key: must not be empty'],
    ['a.b.c', '$.api_keys[0].key: has three dot-separated parts, so it would be read as a JWT'],
  ]
  for (const [key, message] of cases) {
    const err = await buildApp({ logger: false, seed: { ...seed, api_keys: [{ key, user: 'a@acme.test' }] } }).then(
      () => null,
      (e: unknown) => e,
    )
    t.type(err, SeedError, JSON.stringify(key))
    t.match((err as Error).message, message)
  }
})

t.test(
  'siblings: fault rules, the journal, the rate limit and the admin token read the token the same way',
  async (t) => {
    const app = await build(t, { seed, rateLimitPerMinute: 1, adminToken: 'admin-1' })
    const admin = { authorization: 'Bearer   admin-1 ' }
    t.equal(
      (await app.inject({ method: 'GET', url: '/_mock/state', headers: admin })).statusCode,
      200,
      'the admin token after several spaces, trailing space dropped',
    )
    t.equal(
      (await app.inject({ method: 'GET', url: '/_mock/state', headers: { authorization: 'Bearer admin-1 x' } }))
        .statusCode,
      401,
    )

    const added = await app.inject({
      method: 'POST',
      url: '/_mock/faults',
      headers: admin,
      payload: { key: KEY, status: 500, times: 1 },
    })
    t.equal(added.statusCode, 201)
    t.equal(added.json().key, 'My...ey')
    t.equal(
      (await call(t, app, { ...DEL, headers: headers(undefined, { authorization: `Bearer  ${KEY} ` }) })).statusCode,
      500,
      'the rule matched the key with spaces',
    )
    t.equal((await call(t, app, { ...DEL, headers: headers(KEY) })).statusCode, 200)
    const limited = await call(t, app, { ...DEL, headers: headers(KEY) })
    t.equal(
      limited.statusCode,
      429,
      'one key, however the header was spaced: over the limit of 1 (the forced 500 took no slot)',
    )

    const [first] = (await app.inject({ method: 'GET', url: '/_mock/requests', headers: admin })).json().requests
    t.equal(first.headers.authorization, 'Bearer My...ey', 'the journal previews the whole token')
    t.equal(redactAuthorization(`bearer   ${KEY}`), 'bearer My...ey')
    t.equal(redactAuthorization('Basic abc'), '[redacted]')

    for (const [key, problem] of [
      [' x', /^Invalid fault rule: \$\.key: must be an API key \(has white space at either end/],
      ['a\u0001b', /^Invalid fault rule: \$\.key: must be visible ASCII characters and spaces/],
      ['sk-unicod\u00e9', /^Invalid fault rule: \$\.key: must be visible ASCII characters and spaces/],
    ] as const) {
      const bad = await app.inject({
        method: 'POST',
        url: '/_mock/faults',
        headers: admin,
        payload: { key, status: 500 },
      })
      t.equal(bad.statusCode, 400)
      t.match(bad.body, problem)
    }
  },
)
