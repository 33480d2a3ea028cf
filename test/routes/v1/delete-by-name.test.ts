import t from 'tap'
import { DEMO_SECRETS, KEYS, build, call, headers, upstreamErrors } from '../../support/app.js'

const DELETE = { method: 'DELETE', url: '/v1/ai_secret' } as const
const CONTEXT = / \[timestamp=\d+\.\d{3}\] \[request_id=mock::[0-9a-f-]{36}\]$/

t.test('200: deletes and answers the whole record, never the secret value', async (t) => {
  const app = await build(t)
  const res = await call(t, app, { ...DELETE, headers: headers(KEYS.owner), payload: { name: 'OPENAI_API_KEY' } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const body = res.json()
  t.same(Object.keys(body).sort(), [
    'created',
    'id',
    'metadata',
    'name',
    'org_id',
    'preview_secret',
    'secret_updated_at',
    'secret_updated_by_user_id',
    'type',
    'updated_at',
  ])
  t.match(body, {
    name: 'OPENAI_API_KEY',
    type: 'openai',
    metadata: { team: 'ml' },
    preview_secret: 'sk-...def',
    secret_updated_by_user_id: null,
  })
  t.equal(upstreamErrors('AISecret', body), null, 'valid upstream AISecret')
  for (const s of DEMO_SECRETS) t.notMatch(res.body, s)

  const again = await call(t, app, { ...DELETE, headers: headers(KEYS.owner), payload: { name: 'OPENAI_API_KEY' } })
  t.equal(again.statusCode, 400)
  t.equal(again.headers['content-type'], 'text/plain; charset=utf-8')
  t.match(
    again.body,
    /^Missing delete access to ai_secret OPENAI_API_KEY, or the ai_secret does not exist \[user_email=alice@acme\.test\] \[user_org=acme\]/,
  )
  t.match(again.body, CONTEXT)
  t.match(again.body, `[request_id=${again.headers['x-request-id']}]`)
})

t.test('every answer carries its request id in x-request-id and x-bt-internal-trace-id', async (t) => {
  const app = await build(t)
  for (const h of [headers(KEYS.owner), headers()]) {
    const res = await call(t, app, { ...DELETE, headers: h, payload: { name: 'nope' } })
    t.match(res.headers['x-request-id'], /^mock::[0-9a-f-]{36}$/)
    t.equal(res.headers['x-bt-internal-trace-id'], res.headers['x-request-id'])
  }
  const mine = await call(t, app, {
    ...DELETE,
    headers: headers(KEYS.owner, { 'x-request-id': 'trace-42' }),
    payload: { name: 'x' },
  })
  t.equal(mine.headers['x-request-id'], 'trace-42', 'a plain caller-given id is kept')
  t.match(mine.body, /\[request_id=trace-42\]$/)
  const odd = await call(t, app, {
    ...DELETE,
    headers: headers(KEYS.owner, { 'x-request-id': 'bad id\u00e9' }),
    payload: { name: 'x' },
  })
  t.match(odd.headers['x-request-id'], /^mock::/, 'an odd one is replaced')
})

t.test('an unknown key is refused every time until it is seeded, then works at once', async (t) => {
  const app = await build(t)
  const req = { ...DELETE, headers: headers('sk-added-later'), payload: { name: 'OPENAI_API_KEY' } }
  for (let i = 0; i < 3; i++) t.equal((await call(t, app, req)).statusCode, 401, `attempt ${i + 1}: unknown`)
  const seeded = await app.inject({
    method: 'POST',
    url: '/_mock/seed',
    payload: { api_keys: [{ key: 'sk-added-later', user: 'alice@acme.test' }] },
  })
  t.equal(seeded.statusCode, 201)
  t.equal((await call(t, app, req)).statusCode, 200, 'the new key deletes at once')
  await app.inject({ method: 'POST', url: '/_mock/reset' })
  t.equal((await call(t, app, req)).statusCode, 401, 'and is unknown again after a reset')
})

t.test('401: missing, not Bearer, or unknown key, before the body is looked at', async (t) => {
  const app = await build(t)
  const cases: [string, Record<string, string>, RegExp][] = [
    ['no header', headers(), /^Missing Authorization header/],
    ['empty header', headers(undefined, { authorization: '' }), /^Missing Authorization header/],
    ['Basic', headers(undefined, { authorization: 'Basic YWxpY2U6c2VjcmV0' }), /^Invalid Authorization header/],
    ['Bearer without token', headers(undefined, { authorization: 'Bearer ' }), /^Invalid Authorization header/],
    ['token without Bearer', headers(undefined, { authorization: KEYS.owner }), /^Invalid Authorization header/],
    ['unknown key', headers('sk-not-a-key'), /^Invalid API key/],
    ['key with different case', headers(KEYS.owner.toUpperCase()), /^Invalid API key/],
  ]
  for (const [what, h, message] of cases) {
    for (const payload of [{ name: 'OPENAI_API_KEY' }, '{not json', '[1]']) {
      const res = await call(t, app, { ...DELETE, headers: h, payload })
      t.equal(res.statusCode, 401, what)
      t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
      t.match(res.body, message, what)
      t.match(res.body, CONTEXT)
      t.notMatch(res.body, 'user_email', 'nobody is known yet')
    }
  }
  const ok = await call(t, app, {
    ...DELETE,
    headers: headers(undefined, { authorization: `bearer  ${KEYS.owner}` }),
    payload: { name: 'OPENAI_API_KEY' },
  })
  t.equal(ok.statusCode, 200, 'the scheme is case-insensitive, as in RFC 7235')
})

t.test('400: malformed bodies name the field, in zod-style issues', async (t) => {
  const app = await build(t)
  const issues = (body: string) => JSON.parse(body.slice(0, body.indexOf(' [user_email=')))
  const invalid = async (payload: string | object | undefined, contentType = 'application/json') => {
    const res = await call(t, app, {
      ...DELETE,
      headers: headers(KEYS.owner, { 'content-type': contentType }),
      payload: payload as string,
    })
    t.equal(res.statusCode, 400)
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    t.match(res.body, /\[user_email=alice@acme\.test\] \[user_org=acme\]/)
    return res.body
  }
  t.same(issues(await invalid({})), [
    { code: 'invalid_type', expected: 'string', received: 'undefined', path: ['name'], message: 'Required' },
  ])
  t.same(issues(await invalid({ name: 5, org_name: 3 })), [
    {
      code: 'invalid_type',
      expected: 'string',
      received: 'number',
      path: ['name'],
      message: 'Expected string, received number',
    },
    {
      code: 'invalid_type',
      expected: 'string',
      received: 'number',
      path: ['org_name'],
      message: 'Expected string, received number',
    },
  ])
  t.same(issues(await invalid({ name: null })), [
    {
      code: 'invalid_type',
      expected: 'string',
      received: 'null',
      path: ['name'],
      message: 'Expected string, received null',
    },
  ])
  t.same(issues(await invalid({ name: ['a'] })), [
    {
      code: 'invalid_type',
      expected: 'string',
      received: 'array',
      path: ['name'],
      message: 'Expected string, received array',
    },
  ])
  t.same(issues(await invalid('[{"name":"OPENAI_API_KEY"}]')), [
    {
      code: 'invalid_type',
      expected: 'object',
      received: 'array',
      path: [],
      message: 'Expected object, received array',
    },
  ])
  t.same(issues(await invalid('"OPENAI_API_KEY"')), [
    {
      code: 'invalid_type',
      expected: 'object',
      received: 'string',
      path: [],
      message: 'Expected object, received string',
    },
  ])
  t.match(await invalid('{"name": "x",'), /^Invalid JSON in request body/)
  t.match(await invalid('{"name": sk-live-123}'), /^Invalid JSON in request body/)
  t.notMatch(await invalid('{"name": sk-live-123}'), 'sk-live', 'the body is never quoted back')
  t.match(
    await invalid('name=OPENAI_API_KEY', 'application/x-www-form-urlencoded'),
    /^Request body must be JSON \(content-type: application\/json\), not application\/x-www-form-urlencoded/,
  )
  t.match(await invalid('OPENAI_API_KEY', 'text/plain'), /^Request body must be JSON/)
  t.match(await invalid('['.repeat(100) + ']'.repeat(100)), /nested deeper than 64 levels/)
  // Extra properties are ignored, as the schema allows.
  const extra = await call(t, app, {
    ...DELETE,
    headers: headers(KEYS.owner),
    payload: { name: 'OPENAI_API_KEY', extra: 1 },
  })
  t.equal(extra.statusCode, 200)
})

t.test('400: no body at all', async (t) => {
  const app = await build(t)
  for (const h of [headers(KEYS.owner), { authorization: `Bearer ${KEYS.owner}` }]) {
    const res = await call(t, app, { ...DELETE, headers: h })
    t.equal(res.statusCode, 400)
    t.match(res.body, /"expected": "object"/)
  }
})

t.test('413: a body over 1 MiB, in the documented shape', async (t) => {
  const app = await build(t)
  const payload = JSON.stringify({ name: 'OPENAI_API_KEY', pad: 'x'.repeat(1024 * 1024) })
  const res = await call(t, app, { ...DELETE, headers: headers(KEYS.owner), payload })
  t.equal(res.statusCode, 413)
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
  t.match(res.body, /^Request body is larger than the limit of 1048576 bytes/)
  const still = await call(t, app, { ...DELETE, headers: headers(KEYS.owner), payload: { name: 'OPENAI_API_KEY' } })
  t.equal(still.statusCode, 200, 'nothing was deleted by the refused request')
})

t.test('organization resolution', async (t) => {
  t.test('multi-org key without org_name (or null): 400 listing its orgs', async (t) => {
    const app = await build(t)
    for (const payload of [{ name: 'OPENAI_API_KEY' }, { name: 'OPENAI_API_KEY', org_name: null }]) {
      const res = await call(t, app, { ...DELETE, headers: headers(KEYS.multi), payload })
      t.equal(res.statusCode, 400)
      t.match(
        res.body,
        /^Your API key belongs to multiple organizations \(acme, globex\): specify org_name to choose one \[user_email=bob@multi\.test\] \[timestamp=/,
      )
    }
  })
  t.test('multi-org key with org_name deletes in that org only', async (t) => {
    const app = await build(t)
    const res = await call(t, app, {
      ...DELETE,
      headers: headers(KEYS.multi),
      payload: { name: 'OPENAI_API_KEY', org_name: 'globex' },
    })
    t.equal(res.statusCode, 200)
    t.equal(res.json().org_id, '6f1c9a52-3d0e-4b8e-9f2a-1c2d3e4f5a6b')
    const acme = await call(t, app, { ...DELETE, headers: headers(KEYS.owner), payload: { name: 'OPENAI_API_KEY' } })
    t.equal(acme.statusCode, 200, "acme's secret of the same name is untouched")
    t.not(acme.json().id, res.json().id)
  })
  t.test('org-scoped key: its org without org_name, 403 for another org it could otherwise reach', async (t) => {
    const app = await build(t)
    const other = await call(t, app, {
      ...DELETE,
      headers: headers(KEYS.globexOnly),
      payload: { name: 'OPENAI_API_KEY', org_name: 'acme' },
    })
    t.equal(other.statusCode, 403)
    const own = await call(t, app, {
      ...DELETE,
      headers: headers(KEYS.globexOnly),
      payload: { name: 'OPENAI_API_KEY' },
    })
    t.equal(own.statusCode, 200)
    t.equal(own.json().org_id, '6f1c9a52-3d0e-4b8e-9f2a-1c2d3e4f5a6b')
  })
  t.test('403 ForbiddenError alike for a foreign org and an absent one', async (t) => {
    const app = await build(t, { deterministic: true })
    const shape = async (org: string) => {
      const res = await call(t, app, {
        ...DELETE,
        headers: headers(KEYS.owner),
        payload: { name: 'OPENAI_API_KEY', org_name: org },
      })
      t.equal(res.statusCode, 403)
      t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
      const body = res.json()
      t.same(body, {
        Code: 'ForbiddenError',
        Message: `Missing read access to organization ${org}, or the organization does not exist [user_email=alice@acme.test] [user_org=acme] [timestamp=1767225600.000]`,
        InternalTraceId: res.headers['x-request-id'],
        Path: '/v1/ai_secret',
        Service: 'api',
      })
      return body.Message.replace(org, 'ORG')
    }
    t.equal(await shape('globex'), await shape('initech'), 'no way to tell whether the org exists')
  })
  t.test('a key whose user belongs to no organization: 403', async (t) => {
    const app = await build(t, {
      seed: { users: [{ email: 'lone@x.test' }], api_keys: [{ key: 'sk-lone', user: 'lone@x.test' }] },
    })
    const res = await call(t, app, { ...DELETE, headers: headers('sk-lone'), payload: { name: 'x' } })
    t.equal(res.statusCode, 403)
    t.match(res.json().Message, /^Your API key does not belong to any organization/)
  })
})

t.test('a member may not delete: the combined 400, and the secret survives', async (t) => {
  const app = await build(t)
  const denied = await call(t, app, { ...DELETE, headers: headers(KEYS.member), payload: { name: 'OPENAI_API_KEY' } })
  t.equal(denied.statusCode, 400)
  const absent = await call(t, app, { ...DELETE, headers: headers(KEYS.member), payload: { name: 'NOT_THERE' } })
  t.equal(absent.statusCode, 400)
  const strip = (b: string, name: string) => b.replace(name, 'N').replace(/ \[timestamp.*$/, '')
  t.equal(strip(denied.body, 'OPENAI_API_KEY'), strip(absent.body, 'NOT_THERE'), 'denied and absent read the same')
  const owner = await call(t, app, { ...DELETE, headers: headers(KEYS.owner), payload: { name: 'OPENAI_API_KEY' } })
  t.equal(owner.statusCode, 200, 'still there for its owner')
})

t.test('names with quotes, SQL fragments and unicode are data, nothing more', async (t) => {
  const names = [
    `it's "quoted"`,
    `x'; DROP TABLE ai_secrets; --`,
    `%_*`,
    'ключ 🔑 名前',
    ' padded ',
    'a\u0000b',
    'OPENAI_API_KEY\n',
  ]
  const app = await build(t, {
    seed: {
      organizations: [{ name: 'acme' }],
      users: [{ email: 'a@a.test', memberships: { acme: 'owner' } }],
      api_keys: [{ key: 'sk-a', user: 'a@a.test' }],
      ai_secrets: [
        { org: 'acme', name: 'OPENAI_API_KEY' },
        ...names.map((name) => ({ org: 'acme', name, secret: 'v' })),
      ],
    },
  })
  for (const name of names) {
    const res = await call(t, app, { ...DELETE, headers: headers('sk-a'), payload: { name } })
    t.equal(res.statusCode, 200, JSON.stringify(name))
    t.equal(res.json().name, name)
  }
  const wildcard = await call(t, app, { ...DELETE, headers: headers('sk-a'), payload: { name: '%' } })
  t.equal(wildcard.statusCode, 400, 'no pattern matching')
  const left = await call(t, app, { ...DELETE, headers: headers('sk-a'), payload: { name: 'OPENAI_API_KEY' } })
  t.equal(left.statusCode, 200, 'the table and the other secret survived')
})

t.test('25 concurrent deletes of one secret: exactly one 200', async (t) => {
  const app = await build(t)
  const results = await Promise.all(
    Array.from({ length: 25 }, () =>
      call(t, app, { ...DELETE, headers: headers(KEYS.owner), payload: { name: 'OPENAI_API_KEY' } }),
    ),
  )
  const codes = results.map((r) => r.statusCode).sort()
  t.same(codes, [200, ...Array(24).fill(400)])
})

t.test('unknown routes answer 404 in the same shape', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'DELETE', url: '/v1/ai_secrets', headers: headers(KEYS.owner) })
  t.equal(res.statusCode, 404)
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
  t.match(res.body, /^No route for DELETE \/v1\/ai_secrets \[timestamp=/)
})
