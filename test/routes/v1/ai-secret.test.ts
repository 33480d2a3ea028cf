import t from 'tap'
import { signJwt } from '../../../src/auth/jwt.js'
import { build, buildMock, call, DEMO_SECRETS, headers, KEYS, upstreamErrors } from '../../support/app.js'

const ACME_SECRET_VALUE = DEMO_SECRETS[0]!
/** A time-ordered uuid (version 7, RFC 9562): what the mock makes for the records it creates. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test(
  'POST creates; the same name again answers the existing record unchanged, with x-bt-found-existing',
  async (t) => {
    const { app, mock } = await buildMock(t)
    const created = await call(t, app, {
      method: 'POST',
      url: '/v1/ai_secret',
      headers: headers(KEYS.owner),
      payload: { name: 'ANTHROPIC_API_KEY', type: 'anthropic', secret: 'sk-ant-api03-abcdef', metadata: { a: 1 } },
    })
    t.equal(created.statusCode, 200)
    t.equal(created.headers['x-bt-found-existing'], undefined)
    const s = created.json()
    t.match(s, {
      id: UUID,
      name: 'ANTHROPIC_API_KEY',
      type: 'anthropic',
      metadata: { a: 1 },
      preview_secret: 'sk-...def',
    })
    t.equal(s.created, s.updated_at)
    t.equal(s.secret_updated_at, s.created)
    const alice = mock.repo.principalByEmail('alice@acme.test')!
    t.equal(s.secret_updated_by_user_id, alice.userId)
    t.notMatch(created.body, 'sk-ant-api03-abcdef')

    const again = await call(t, app, {
      method: 'POST',
      url: '/v1/ai_secret',
      headers: headers(KEYS.owner),
      payload: { name: 'ANTHROPIC_API_KEY', type: 'other', secret: 'changed-value-123' },
    })
    t.equal(again.statusCode, 200)
    t.equal(again.headers['x-bt-found-existing'], 'true')
    t.same(again.json(), s, 'unchanged')

    const bare = await call(t, app, {
      method: 'POST',
      url: '/v1/ai_secret',
      headers: headers(KEYS.owner),
      payload: { name: 'EMPTY' },
    })
    t.match(bare.json(), {
      name: 'EMPTY',
      type: null,
      metadata: null,
      preview_secret: null,
      secret_updated_at: null,
      secret_updated_by_user_id: null,
    })
  },
)

t.test(
  "ids are time-ordered uuids: each record the mock makes, a seed's included, has a larger one than the last",
  async (t) => {
    const app = await build(t)
    const before = Date.now()
    const ids: string[] = []
    for (let i = 0; i < 50; i++) {
      const res = await call(t, app, {
        method: 'POST',
        url: '/v1/ai_secret',
        headers: headers(KEYS.owner),
        payload: { name: `K${i}` },
      })
      ids.push(res.json().id)
    }
    const put = await call(t, app, {
      method: 'PUT',
      url: '/v1/ai_secret',
      headers: headers(KEYS.owner),
      payload: { name: 'K-put' },
    })
    ids.push(put.json().id)
    t.ok(
      ids.every((id) => UUID.test(id)),
      'version 7',
    )
    t.same([...ids].sort(), ids, 'increasing, in creation order')
    // The first 48 bits are the millisecond the id was made (RFC 9562 section 5.7).
    const ms = Number.parseInt(ids[0]!.replace('-', '').slice(0, 12), 16)
    t.ok(ms >= before && ms <= Date.now(), 'stamped with the time it was made')

    // A seed without ids: each record gets one in the order the seed is applied.
    const seed = {
      organizations: [{ name: 'o1' }, { name: 'o2' }],
      users: [{ email: 'u@x.test', memberships: { o1: 'owner' } }],
      api_keys: [{ key: 'sk-u', user: 'u@x.test' }],
      ai_secrets: [
        { org: 'o1', name: 'A' },
        { org: 'o2', name: 'B' },
      ],
    }
    const { mock } = await buildMock(t, { seed })
    const r = mock.seeded!
    const seededIds = [...r.organizations, ...r.users, ...r.api_keys, ...r.ai_secrets].map((x) => x.id)
    t.equal(seededIds.length, 6)
    t.ok(
      seededIds.every((id) => UUID.test(id)),
      'version 7',
    )
    t.same([...seededIds].sort(), seededIds, 'increasing in the order they were made')
    t.ok(seededIds[0]! > ids[ids.length - 1]!, 'later than every id made before')
  },
)

t.test('PUT creates, or replaces keeping id and created; an omitted secret is kept', async (t) => {
  const { app, mock } = await buildMock(t, { deterministic: true })
  const before = (
    await call(t, app, {
      method: 'GET',
      url: '/v1/ai_secret?ai_secret_name=OPENAI_API_KEY',
      headers: headers(KEYS.owner),
    })
  ).json().objects[0]
  mock.clock.advance(60_000)
  const put = await call(t, app, {
    method: 'PUT',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner),
    payload: { name: 'OPENAI_API_KEY', type: 'azure', metadata: { x: true } },
  })
  t.equal(put.statusCode, 200)
  const after = put.json()
  t.match(after, {
    id: before.id,
    created: before.created,
    type: 'azure',
    metadata: { x: true },
    preview_secret: 'sk-...def',
    secret_updated_at: before.secret_updated_at,
  })
  t.equal(after.updated_at, '2026-01-01T00:01:00.000Z')
  const put2 = await call(t, app, {
    method: 'PUT',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner),
    payload: { name: 'OPENAI_API_KEY', secret: 'new-secret-value-xyz' },
  })
  t.match(put2.json(), {
    preview_secret: 'new...xyz',
    secret_updated_at: '2026-01-01T00:01:00.000Z',
    type: null,
    metadata: null,
  })
  t.not(put2.json().secret_updated_by_user_id, null)
  const fresh = await call(t, app, {
    method: 'PUT',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner),
    payload: { name: 'NEW_ONE', secret: null },
  })
  t.match(fresh.json(), { name: 'NEW_ONE', preview_secret: null })
})

t.test('a preview counts characters, not UTF-16 units: never half an emoji', async (t) => {
  const app = await build(t)
  for (const [secret, preview] of [
    ['😀😀😀😀😀😀', '😀...😀'],
    ['😀😀😀😀😀😀😀😀😀😀😀😀', '😀😀😀...😀😀😀'],
    ['ab😀cd😀😀ef', 'ab...ef'],
    ['😀😀😀', '...'],
  ] as const) {
    const res = await call(t, app, {
      method: 'PUT',
      url: '/v1/ai_secret',
      headers: headers(KEYS.owner),
      payload: { name: 'EMOJI', secret },
    })
    t.equal(res.json().preview_secret, preview, secret)
    t.notMatch(res.body, /\\ud[89a-f]/i, 'no lone surrogate escaped in the answer')
  }
})

t.test('members read but may not write; owners do everything', async (t) => {
  const app = await build(t)
  const list = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.member) })
  t.equal(list.statusCode, 200)
  const id = list.json().objects[0].id
  t.equal(
    (await call(t, app, { method: 'GET', url: `/v1/ai_secret/${id}`, headers: headers(KEYS.member) })).statusCode,
    200,
  )
  for (const method of ['POST', 'PUT'] as const) {
    for (const name of ['OPENAI_API_KEY', 'NEW']) {
      const res = await call(t, app, {
        method,
        url: '/v1/ai_secret',
        headers: headers(KEYS.member),
        payload: { name, secret: 'x' },
      })
      t.equal(res.statusCode, 403, `${method} ${name}`)
      t.equal(res.json().Message.split(' [')[0], `Missing create access to ai_secret ${name} in organization acme`)
    }
  }
  const patch = await call(t, app, {
    method: 'PATCH',
    url: `/v1/ai_secret/${id}`,
    headers: headers(KEYS.member),
    payload: { type: 'x' },
  })
  t.equal(patch.statusCode, 400)
  t.match(patch.body, `Missing update access to ai_secret id ${id}, or the ai_secret does not exist`)
  const del = await call(t, app, { method: 'DELETE', url: `/v1/ai_secret/${id}`, headers: headers(KEYS.member) })
  t.equal(del.statusCode, 400)
  t.match(del.body, `Missing delete access to ai_secret id ${id}, or the ai_secret does not exist`)
  const still = await call(t, app, { method: 'GET', url: `/v1/ai_secret/${id}`, headers: headers(KEYS.owner) })
  t.match(still.json(), { type: 'openai' }, 'nothing changed')
})

t.test('GET, PATCH, DELETE by id; unknown, foreign and malformed ids', async (t) => {
  const app = await build(t)
  const [acme] = (await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.owner) })).json()
    .objects
  const [globex] = (
    await call(t, app, { method: 'GET', url: '/v1/ai_secret?org_name=globex', headers: headers(KEYS.multi) })
  ).json().objects

  const got = await call(t, app, { method: 'GET', url: `/v1/ai_secret/${acme.id}`, headers: headers(KEYS.owner) })
  t.same(got.json(), acme)
  t.equal(upstreamErrors('AISecret', got.json()), null)

  for (const id of [globex.id, '00000000-0000-4000-8000-000000000000']) {
    const res = await call(t, app, { method: 'GET', url: `/v1/ai_secret/${id}`, headers: headers(KEYS.owner) })
    t.equal(res.statusCode, 403)
    t.match(res.json(), {
      Code: 'ForbiddenError',
      Message: new RegExp(
        `^Missing read access to ai_secret id ${id}, or the ai_secret does not exist \\[user_email=alice@acme.test\\]`,
      ),
      Path: `/v1/ai_secret/${id}`,
    })
    for (const method of ['PATCH', 'DELETE'] as const) {
      const w = await call(t, app, { method, url: `/v1/ai_secret/${id}`, headers: headers(KEYS.owner), payload: {} })
      t.equal(w.statusCode, 400)
      t.match(
        w.body,
        `Missing ${method === 'PATCH' ? 'update' : 'delete'} access to ai_secret id ${id}, or the ai_secret does not exist`,
      )
    }
  }
  const bad = await call(t, app, { method: 'GET', url: '/v1/ai_secret/not-a-uuid', headers: headers(KEYS.owner) })
  t.equal(bad.statusCode, 400)
  t.match(
    bad.body,
    /^\[\n {2}\{\n {4}"validation": "uuid",\n {4}"code": "invalid_string",\n {4}"message": "Invalid uuid",\n {4}"path": \[\n {6}"id",\n {6}0\n {4}\]\n {2}\}\n\] \[user_email=alice@acme.test\]/,
  )

  const upper = await call(t, app, {
    method: 'GET',
    url: `/v1/ai_secret/${acme.id.toUpperCase()}`,
    headers: headers(KEYS.owner),
  })
  t.equal(upper.statusCode, 200, 'uuids compare case-insensitively')

  const patched = await call(t, app, {
    method: 'PATCH',
    url: `/v1/ai_secret/${acme.id}`,
    headers: headers(KEYS.owner),
    payload: { metadata: { extra: { deep: 1 } }, type: null, name: null },
  })
  t.equal(patched.statusCode, 200)
  t.match(patched.json(), {
    name: 'OPENAI_API_KEY',
    type: 'openai',
    metadata: { team: 'ml', extra: { deep: 1 } },
    preview_secret: 'sk-...def',
  })
  const merged = await call(t, app, {
    method: 'PATCH',
    url: `/v1/ai_secret/${acme.id}`,
    headers: headers(KEYS.owner),
    payload: { metadata: { extra: { more: [1, 2] }, team: null }, secret: 'brand-new-value', name: 'RENAMED' },
  })
  t.same(merged.json().metadata, { team: null, extra: { deep: 1, more: [1, 2] } }, 'deep-merged')
  t.match(merged.json(), { name: 'RENAMED', preview_secret: 'bra...lue' })
  t.not(merged.json().secret_updated_at, acme.secret_updated_at)

  await call(t, app, { method: 'POST', url: '/v1/ai_secret', headers: headers(KEYS.owner), payload: { name: 'TAKEN' } })
  const clash = await call(t, app, {
    method: 'PATCH',
    url: `/v1/ai_secret/${acme.id}`,
    headers: headers(KEYS.owner),
    payload: { name: 'TAKEN' },
  })
  t.equal(clash.statusCode, 400)
  t.match(clash.body, /^An ai_secret named TAKEN already exists in organization acme/)

  const empty = await call(t, app, {
    method: 'PATCH',
    url: `/v1/ai_secret/${acme.id}`,
    headers: { authorization: `Bearer ${KEYS.owner}` },
  })
  t.equal(empty.statusCode, 200, 'no body is an empty patch')

  const proto = await call(t, app, {
    method: 'PATCH',
    url: `/v1/ai_secret/${acme.id}`,
    headers: headers(KEYS.owner),
    payload: '{"metadata": {"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}}}}',
  })
  t.equal(proto.statusCode, 200)
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')

  // The official client's delete(id): content-type json with an EMPTY body.
  const del = await call(t, app, {
    method: 'DELETE',
    url: `/v1/ai_secret/${acme.id}`,
    headers: headers(KEYS.owner),
    payload: '',
  })
  t.equal(del.statusCode, 200)
  t.equal(del.json().name, 'RENAMED')
  const gone = await call(t, app, { method: 'GET', url: `/v1/ai_secret/${acme.id}`, headers: headers(KEYS.owner) })
  t.equal(gone.statusCode, 403)
})

t.test('list: newest first, filters, cursors, limits, across orgs', async (t) => {
  const { app, mock } = await buildMock(t, { deterministic: true })
  const post = (name: string, type: string, key: string = KEYS.multi, org = 'acme') =>
    call(t, app, {
      method: 'POST',
      url: '/v1/ai_secret',
      headers: headers(key),
      payload: { name, type, org_name: org },
    })
  for (const [i, name] of ['A', 'B', 'C', 'D'].entries()) {
    if (i === 2) mock.clock.advance(1000)
    await post(name, i % 2 === 0 ? 'openai' : 'anthropic')
  }
  await post('G', 'openai', KEYS.multi, 'globex')
  const list = async (q: string, key: string = KEYS.multi) => {
    const res = await call(t, app, { method: 'GET', url: `/v1/ai_secret${q}`, headers: headers(key) })
    t.equal(res.statusCode, 200, q)
    return (res.json().objects as { name: string; id: string; org_id: string }[]).map((o) => o.name)
  }
  t.same(
    await list(''),
    ['G', 'D', 'C', 'B', 'A', 'OPENAI_API_KEY', 'OPENAI_API_KEY'],
    'across both orgs, newest first, ties by insertion',
  )
  t.same(await list('?org_name=acme'), ['D', 'C', 'B', 'A', 'OPENAI_API_KEY'])
  t.same(await list('', KEYS.owner), ['D', 'C', 'B', 'A', 'OPENAI_API_KEY'])
  t.same(await list('', KEYS.globexOnly), ['G', 'OPENAI_API_KEY'])
  t.same(await list('?org_name=acme&limit=2'), ['D', 'C'])
  t.same(await list('?org_name=acme&limit=0'), [])
  t.same(await list('?ai_secret_type=anthropic'), ['D', 'B'])
  t.same(await list('?ai_secret_type=anthropic&ai_secret_type=openai&org_name=acme'), [
    'D',
    'C',
    'B',
    'A',
    'OPENAI_API_KEY',
  ])
  t.same(
    await list('?ai_secret_type=anthropic%2Copenai&org_name=acme'),
    ['D', 'C', 'B', 'A', 'OPENAI_API_KEY'],
    'comma-joined, as the official client sends',
  )
  t.same(await list('?ai_secret_name=OPENAI_API_KEY'), ['OPENAI_API_KEY', 'OPENAI_API_KEY'])

  const all = (
    await call(t, app, { method: 'GET', url: '/v1/ai_secret?org_name=acme', headers: headers(KEYS.multi) })
  ).json().objects as { id: string; name: string }[]
  const byName = Object.fromEntries(all.map((o) => [o.name, o.id]))
  t.same(await list(`?ids=${byName.A}&ids=${byName.C}`), ['C', 'A'])
  t.same(await list(`?ids=${byName.A}%2C${byName.C}`), ['C', 'A'])
  t.same(await list(`?ids=${byName.B}`), ['B'])
  t.same(await list(`?org_name=acme&limit=2&starting_after=${byName.C}`), ['B', 'A'])
  t.same(await list(`?org_name=acme&limit=2&ending_before=${byName.B}`), ['D', 'C'])
  t.same(await list(`?org_name=acme&ending_before=${byName.D}`), [])

  // Paging through everything with starting_after visits every record once.
  const seen: string[] = []
  let cursor = ''
  for (;;) {
    const res = await call(t, app, {
      method: 'GET',
      url: `/v1/ai_secret?limit=2${cursor}`,
      headers: headers(KEYS.multi),
    })
    const page = res.json().objects as { id: string; name: string }[]
    if (page.length === 0) break
    seen.push(...page.map((o) => o.name))
    cursor = `&starting_after=${page[page.length - 1]!.id}`
  }
  t.same(seen, ['G', 'D', 'C', 'B', 'A', 'OPENAI_API_KEY', 'OPENAI_API_KEY'])

  const bad = async (q: string, key: string = KEYS.multi) =>
    await call(t, app, { method: 'GET', url: `/v1/ai_secret${q}`, headers: headers(key) })
  const both = await bad(`?starting_after=${byName.A}&ending_before=${byName.B}`)
  t.equal(both.statusCode, 400)
  t.match(both.body, /^You may only pass one of starting_after and ending_before/)
  t.match((await bad('?limit=-1')).body, /"code": "too_small"/)
  t.match((await bad('?limit=ten')).body, /"path": \[\n {6}"limit"\n {4}\]/)
  t.match((await bad('?ids=nope')).body, /Invalid uuid/)
  t.equal((await bad('?starting_after=nope')).statusCode, 400)
  const foreign = await bad(`?starting_after=${byName.A}`, KEYS.globexOnly)
  t.equal(foreign.statusCode, 400)
  t.match(foreign.body, /^Invalid starting_after: no ai_secret with id/)
  t.equal((await bad('?org_name=initech')).statusCode, 403)
})

t.test('OPTIONS: CORS preflight without authentication', async (t) => {
  const app = await build(t)
  for (const url of ['/v1/ai_secret', '/v1/ai_secret/00000000-0000-4000-8000-000000000000']) {
    const res = await call(t, app, {
      method: 'OPTIONS',
      url,
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'DELETE',
        'access-control-request-headers': 'authorization,content-type',
      },
    })
    t.equal(res.statusCode, 200)
    t.equal(res.body, '')
    t.match(res.headers, {
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': /DELETE/,
      'access-control-allow-headers': 'authorization,content-type',
      'access-control-max-age': '86400',
    })
  }
  const bad = await call(t, app, { method: 'OPTIONS', url: '/v1/ai_secret/nope' })
  t.equal(bad.statusCode, 400)
  const cors = await call(t, app, {
    method: 'GET',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner, { origin: 'https://app.example' }),
  })
  t.equal(
    cors.headers['access-control-expose-headers'],
    'x-bt-cursor,x-bt-found-existing,x-bt-query-plan,x-request-id,x-bt-internal-trace-id',
  )
  t.equal(cors.headers['access-control-allow-origin'], 'https://app.example')
})

t.test('JWT bearer tokens: HS256 with JWT_SECRET, mapped by the email claim', async (t) => {
  const secret = 'test-jwt-secret'
  const app = await build(t, { jwtSecret: secret, deterministic: true })
  const now = Date.parse('2026-01-01T00:00:00Z') / 1000
  const good = signJwt({ email: 'alice@acme.test', exp: now + 60 }, secret)
  const ok = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(good) })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().objects.length, 1)
  const del = await call(t, app, {
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(good),
    payload: { name: 'OPENAI_API_KEY' },
  })
  t.equal(del.statusCode, 200)

  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const refused: [string, string, RegExp][] = [
    ['expired', signJwt({ email: 'alice@acme.test', exp: now - 1 }, secret), /expired/],
    ['not yet valid', signJwt({ email: 'alice@acme.test', nbf: now + 60 }, secret), /not valid yet/],
    ['wrongly signed', signJwt({ email: 'alice@acme.test' }, 'other-secret'), /bad signature/],
    ['unsigned', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ email: 'alice@acme.test' })}.`, /only HS256/],
    ['unknown user', signJwt({ email: 'mallory@x.test' }, secret), /no such user/],
    ['no email', signJwt({ sub: 'x' }, secret), /no email claim/],
    ['garbage', 'a.b.c', /malformed JWT/],
  ]
  for (const [what, token, message] of refused) {
    const res = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(token) })
    t.equal(res.statusCode, 401, what)
    t.match(res.body, message, what)
  }
  const noSecret = await build(t)
  const res = await call(t, noSecret, { method: 'GET', url: '/v1/ai_secret', headers: headers(good) })
  t.equal(res.statusCode, 401)
  t.match(res.body, /JWT authentication is not configured/)
})

t.test("the official client's wire habits", async (t) => {
  const app = await build(t)
  const stainless = {
    accept: 'application/json',
    'x-stainless-lang': 'js',
    'x-stainless-package-version': '0.5.0',
    'x-stainless-os': 'Linux',
    'x-stainless-arch': 'x64',
    'x-stainless-runtime': 'node',
    'x-stainless-runtime-version': 'v20.20.2',
    'x-stainless-retry-count': '0',
    'user-agent': 'Braintrust/JS 0.5.0',
  }
  const find = await call(t, app, {
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner, stainless),
    payload: JSON.stringify({ name: 'OPENAI_API_KEY' }, null, 2),
  })
  t.equal(find.statusCode, 200, 'findAndDelete: pretty-printed JSON body')
  const created = await call(t, app, {
    method: 'POST',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner, stainless),
    payload: JSON.stringify({ name: 'K', type: 'openai' }, null, 2),
  })
  const types = await call(t, app, {
    method: 'GET',
    url: '/v1/ai_secret?ai_secret_type=openai%2Canthropic',
    headers: headers(KEYS.owner, stainless),
  })
  t.same(
    types.json().objects.map((o: { name: string }) => o.name),
    ['K'],
  )
  const del = await call(t, app, {
    method: 'DELETE',
    url: `/v1/ai_secret/${created.json().id}`,
    headers: headers(KEYS.owner, stainless),
    payload: '',
  })
  t.equal(del.statusCode, 200, 'delete(id): empty JSON body')
})

t.test('no secret value in any answer of the resource', async (t) => {
  const app = await build(t)
  const bodies: string[] = []
  const record = async (opts: Parameters<typeof call>[2]) => {
    const res = await call(t, app, opts)
    bodies.push(res.body, JSON.stringify(res.headers))
    return res
  }
  const c = await record({
    method: 'POST',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner),
    payload: { name: 'N', secret: 'sk-very-secret-1' },
  })
  await record({
    method: 'PUT',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner),
    payload: { name: 'N', secret: 'sk-very-secret-2' },
  })
  await record({
    method: 'PATCH',
    url: `/v1/ai_secret/${c.json().id}`,
    headers: headers(KEYS.owner),
    payload: { secret: 'sk-very-secret-3' },
  })
  await record({ method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.owner) })
  await record({ method: 'GET', url: `/v1/ai_secret/${c.json().id}`, headers: headers(KEYS.owner) })
  await record({ method: 'DELETE', url: `/v1/ai_secret/${c.json().id}`, headers: headers(KEYS.owner) })
  await record({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner),
    payload: { name: 'OPENAI_API_KEY' },
  })
  for (const v of ['sk-very-secret-1', 'sk-very-secret-2', 'sk-very-secret-3', ACME_SECRET_VALUE])
    t.notMatch(bodies.join('\n'), v)
})

// --- a limit past what SQLite takes (found by the hostile run) --------------------------------
// `limit=1e21` passed validation and SQLite refused the LIMIT: a 500. A limit that is not a safe
// integer is no limit (Repository.listSecrets).
t.test('a limit past what SQLite takes is no limit: 200 with everything', async (t) => {
  const app = await build(t)
  for (const limit of ['1e21', '99999999999999999999', '9223372036854775808', '1e308', '9007199254740993']) {
    const res = await call(t, app, { method: 'GET', url: `/v1/ai_secret?limit=${limit}`, headers: headers(KEYS.multi) })
    t.equal(res.statusCode, 200, `limit=${limit}`)
    t.equal(res.json().objects?.length, 2, `limit=${limit}: both secrets`)
  }
})

t.test('limit=Infinity: no limit, or a 400 naming limit; never a 500', async (t) => {
  const app = await build(t)
  for (const limit of ['Infinity', '-Infinity', 'NaN']) {
    const res = await call(t, app, { method: 'GET', url: `/v1/ai_secret?limit=${limit}`, headers: headers(KEYS.multi) })
    if (res.statusCode === 200) t.equal(res.json().objects.length, 2, `limit=${limit}: no limit`)
    else {
      t.equal(res.statusCode, 400, `limit=${limit}`)
      t.match(res.body, /"path": \[\n\s+"limit"\n\s+\]/, `limit=${limit}: the issue names limit`)
    }
  }
})
