import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { MockContext } from '../../src/context.js'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { DEMO_SECRETS, KEYS, build, buildMock, call, headers, upstreamErrors } from '../support/app.js'

const del = (key: string, name: string, org_name?: string) =>
  ({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(key),
    payload: { name, ...(org_name ? { org_name } : {}) },
  }) as const

const EXTRA = {
  organizations: [{ name: 'worker-1' }],
  users: [
    { email: 'w1@worker.test', memberships: { 'worker-1': 'owner', acme: 'member' } },
    { email: 'loner@worker.test' },
  ],
  api_keys: [{ key: 'sk-worker-1', user: 'w1@worker.test', org: 'worker-1' }],
  ai_secrets: [{ org: 'worker-1', name: 'ANTHROPIC_API_KEY', type: 'anthropic', secret: 'sk-ant-0123456789' }],
}

t.test('GET /_mock/state: everything stored, never a key or a secret value', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/_mock/state' })
  t.equal(res.statusCode, 200)
  const state = res.json()
  t.same(
    state.organizations.map((o: { name: string }) => o.name),
    ['acme', 'globex'],
  )
  t.match(state.users, [
    { email: 'alice@acme.test', memberships: { acme: 'owner' } },
    { email: 'bob@multi.test', memberships: { acme: 'owner', globex: 'owner' } },
    { email: 'val@acme.test', memberships: { acme: 'member' } },
  ])
  t.same(
    state.api_keys.map((k: object) => ({ ...k, id: undefined, created: undefined })),
    [
      { preview: 'sk-...ner', user: 'alice@acme.test', org: null },
      { preview: 'sk-...org', user: 'bob@multi.test', org: null },
      { preview: 'sk-...nly', user: 'bob@multi.test', org: 'globex' },
      { preview: 'sk-...ber', user: 'val@acme.test', org: null },
    ].map((k) => ({ ...k, id: undefined, created: undefined })),
  )
  t.equal(state.ai_secrets.length, 2)
  for (const s of state.ai_secrets) t.equal(upstreamErrors('AISecret', s), null, 'each secret as the API shows it')
  t.match(state.ai_secrets[0], { name: 'OPENAI_API_KEY', preview_secret: 'sk-...def', metadata: { team: 'ml' } })
  for (const secret of [...DEMO_SECRETS, ...Object.values(KEYS)]) t.notMatch(res.body, secret)
})

t.test('POST /_mock/seed adds data, answers ids and previews, and the new key works', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/_mock/seed', payload: EXTRA })
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.match(body, {
    organizations: [{ name: 'worker-1', id: /^[0-9a-f-]{36}$/ }],
    users: [{ email: 'w1@worker.test' }],
    api_keys: [
      { preview: 'sk...-1', user: 'w1@worker.test', org: 'worker-1', orgs: [{ name: 'worker-1', role: 'owner' }] },
    ],
    ai_secrets: [{ org: 'worker-1', name: 'ANTHROPIC_API_KEY' }],
  })
  t.notMatch(res.body, 'sk-worker-1', 'never the plain key')
  t.notMatch(res.body, 'sk-ant-0123456789')

  const state = (await app.inject({ method: 'GET', url: '/_mock/state' })).json()
  t.match(state.users.slice(-2), [
    { email: 'w1@worker.test', memberships: { 'worker-1': 'owner', acme: 'member' } },
    { email: 'loner@worker.test', memberships: {} },
  ])

  const deleted = await call(t, app, del('sk-worker-1', 'ANTHROPIC_API_KEY'))
  t.equal(deleted.statusCode, 200)
  t.equal(deleted.json().id, body.ai_secrets[0].id)
  t.equal(deleted.json().preview_secret, 'sk-...789')
})

t.test('POST /_mock/seed: errors name the JSON path and change nothing', async (t) => {
  const app = await build(t)
  const before = (await app.inject({ method: 'GET', url: '/_mock/state' })).body
  const cases: [unknown, RegExp][] = [
    [
      { ...EXTRA, api_keys: [{ key: 'sk-x', user: 'nobody@x.test' }] },
      /^Invalid seed: \$\.api_keys\[0\]\.user: unknown user "nobody@x\.test"/,
    ],
    [
      { organizations: [{ name: 'acme' }] },
      /^Invalid seed: \$\.organizations\[0\]\.name: duplicate organization name "acme"/,
    ],
    [
      { users: [{ email: 'a@b.test', memberships: { acme: 'admin' } }] },
      /^Invalid seed: \$\.users\[0\]\.memberships\.acme: must be "owner" or "member", not "admin"/,
    ],
    [{ bogus: [] }, /^Invalid seed: \$\.bogus: unknown field/],
    [[1], /^Invalid seed: \$: must be an object, not an array/],
    [undefined, /^Invalid seed: \$: a JSON object in the seed-file format is required/],
  ]
  for (const [payload, message] of cases) {
    const res = await app.inject({
      method: 'POST',
      url: '/_mock/seed',
      headers: { 'content-type': 'application/json' },
      payload: payload === undefined ? '' : JSON.stringify(payload),
    })
    t.equal(res.statusCode, 400)
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    t.match(res.body, message)
  }
  const bad = await app.inject({
    method: 'POST',
    url: '/_mock/seed',
    headers: { 'content-type': 'application/json' },
    payload: '{"organizations": [',
  })
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /^Invalid JSON in request body/)
  t.equal(
    (await app.inject({ method: 'GET', url: '/_mock/state' })).body,
    before,
    'all or nothing: worker-1 of the first case was not kept',
  )
})

t.test('POST /_mock/seed: an unexpected failure is a 500 that shows nothing internal', async (t) => {
  const { app, mock } = await buildMock(t)
  mock.control.seed = () => {
    throw new Error('disk on fire at /var/lib/x')
  }
  const res = await app.inject({ method: 'POST', url: '/_mock/seed', payload: EXTRA })
  t.equal(res.statusCode, 500)
  t.match(res.body, /^Internal server error \[timestamp=/)
  t.notMatch(res.body, 'disk')
})

t.test('POST /_mock/reset: back to the configured seed, and it answers what was seeded', async (t) => {
  const app = await build(t)
  const initial = (await app.inject({ method: 'GET', url: '/_mock/state' })).json()
  t.equal((await call(t, app, del(KEYS.owner, 'OPENAI_API_KEY'))).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/_mock/seed', payload: EXTRA })).statusCode, 201)

  const res = await app.inject({ method: 'POST', url: '/_mock/reset' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), {
    organizations: [{ name: 'acme' }, { name: 'globex', id: '6f1c9a52-3d0e-4b8e-9f2a-1c2d3e4f5a6b' }],
    api_keys: [{ preview: 'sk-...ner' }, { preview: 'sk-...org' }, { preview: 'sk-...nly' }, { preview: 'sk-...ber' }],
    ai_secrets: [
      { org: 'acme', name: 'OPENAI_API_KEY' },
      { org: 'globex', name: 'OPENAI_API_KEY' },
    ],
  })
  const after = (await app.inject({ method: 'GET', url: '/_mock/state' })).json()
  t.same(
    after.organizations.map((o: { name: string }) => o.name),
    initial.organizations.map((o: { name: string }) => o.name),
  )
  t.same(
    after.ai_secrets.map((s: { name: string }) => s.name),
    ['OPENAI_API_KEY', 'OPENAI_API_KEY'],
  )
  t.equal((await call(t, app, del('sk-worker-1', 'ANTHROPIC_API_KEY'))).statusCode, 401, 'the seeded key is gone')
  t.equal((await call(t, app, del(KEYS.owner, 'OPENAI_API_KEY'))).statusCode, 200, 'the deleted secret is back')
})

/**
 * Every row of every table, as stored (key hashes and secret values included), in insertion order; secrets without
 * their seq.
 */
function rows(mock: MockContext): Record<string, unknown[]> {
  const db = mock.repo.db
  const all = (sql: string) => db.prepare(sql).all()
  return {
    organizations: all('SELECT * FROM organizations ORDER BY seq'),
    users: all('SELECT rowid, * FROM users ORDER BY rowid'),
    memberships: all('SELECT * FROM memberships ORDER BY user_id, org_id'),
    api_keys: all('SELECT rowid, * FROM api_keys ORDER BY rowid'),
    // In their order, without seq itself: it goes on counting across resets (AUTOINCREMENT).
    ai_secrets: all('SELECT * FROM ai_secrets ORDER BY seq').map((r) => ({ ...(r as object), seq: undefined })),
  }
}

/** A seed using every field: given and made ids and times, scoped keys, members, metadata, secrets without a value. */
const RICH = {
  organizations: [
    { name: 'zeta', created: '2025-03-04T05:06:07Z' },
    { name: 'acme' },
    { name: 'beta', id: '0A000000-0000-4000-8000-0000000000AA' },
  ],
  users: [
    { email: 'o@x.test', memberships: { zeta: 'owner', acme: 'owner', beta: 'member' } },
    { email: 'm@x.test', id: '0b000000-0000-4000-8000-0000000000bb', memberships: { acme: 'member' } },
    { email: 'none@x.test' },
  ],
  api_keys: [
    { key: 'sk-o all', user: 'o@x.test' },
    { key: 'sk-o-beta', user: 'o@x.test', org: 'beta', id: '0d000000-0000-4000-8000-0000000000dd' },
    { key: 'sk-m', user: 'm@x.test' },
    { key: 'sk-none', user: 'none@x.test' },
  ],
  ai_secrets: [
    { org: 'acme', name: 'A', type: 'openai', secret: 'sk-aaaaaaaaaaaa', metadata: { deep: { x: [1, 2] } } },
    {
      org: 'acme',
      name: 'B',
      id: '0c000000-0000-4000-8000-0000000000cc',
      created: '2024-01-01T00:00:00+02:00',
      updated_at: '2024-06-01T00:00:00Z',
    },
    {
      org: 'zeta',
      name: 'A',
      secret: 'short',
      secret_updated_at: '2025-01-01T00:00:00.5Z',
      created: '2024-12-31T00:00:00Z',
    },
    { org: 'beta', name: 'C', secret: null, type: null, metadata: null },
  ],
}

t.test(
  'reset writes what applying the configured seed writes: every row, the answer, the ids made after it',
  async (t) => {
    for (const seed of [undefined, RICH]) {
      const { app, mock } = await buildMock(t, { deterministic: true, ...(seed === undefined ? {} : { seed }) })
      const startUp = { seeded: mock.seeded, rows: rows(mock) }
      const fresh = await build(t, { deterministic: true, ...(seed === undefined ? {} : { seed }) })
      const nextId = async (a: FastifyInstance) =>
        (await a.inject({ method: 'POST', url: '/_mock/seed', payload: { organizations: [{ name: 'later' }] } })).json()
          .organizations[0].id
      const expectedNextId = await nextId(fresh)
      for (let i = 0; i < 3; i++) {
        await app.inject({ method: 'POST', url: '/_mock/seed', payload: EXTRA })
        await app.inject({ method: 'POST', url: '/_mock/clock', payload: { advance_ms: 1000 } })
        const res = await app.inject({ method: 'POST', url: '/_mock/reset' })
        t.equal(res.statusCode, 200)
        t.same(res.json(), startUp.seeded, `reset ${i + 1}: the answer start-up's seeding gave`)
        t.same(rows(mock), startUp.rows, `reset ${i + 1}: the same rows`)
      }
      t.equal(await nextId(app), expectedNextId, 'the next id made is the one after start-up: as many ids were made')
    }
  },
)

t.test('reset with made ids: fresh ones every time, given ones kept, times of the reset', async (t) => {
  const app = await build(t, { seed: RICH })
  const before = Date.now()
  const a = (await app.inject({ method: 'POST', url: '/_mock/reset' })).json()
  const b = (await app.inject({ method: 'POST', url: '/_mock/reset' })).json()
  const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
  t.match(a.organizations, [
    { name: 'zeta', id: V7 },
    { name: 'acme', id: V7 },
    { name: 'beta', id: '0a000000-0000-4000-8000-0000000000aa' },
  ])
  t.ok(b.organizations[0].id > a.api_keys[0].id, 'the second reset makes new, later ids')
  t.equal(b.users[1].id, '0b000000-0000-4000-8000-0000000000bb')
  t.equal(b.ai_secrets[1].id, '0c000000-0000-4000-8000-0000000000cc')
  t.match(b.api_keys, [
    {
      preview: 'sk...ll',
      user: 'o@x.test',
      org: null,
      orgs: [
        { name: 'acme', role: 'owner' },
        { name: 'beta', role: 'member' },
        { name: 'zeta', role: 'owner' },
      ],
    },
    {
      id: '0d000000-0000-4000-8000-0000000000dd',
      preview: 'sk...ta',
      org: 'beta',
      orgs: [{ name: 'beta', role: 'member' }],
    },
    { preview: 's...m', user: 'm@x.test', orgs: [{ name: 'acme', role: 'member' }] },
    { preview: 's...e', user: 'none@x.test', orgs: [] },
  ])
  const state = (await app.inject({ method: 'GET', url: '/_mock/state' })).json()
  const made = Date.parse(state.organizations[1].created)
  t.ok(made >= before && made <= Date.now(), 'a time the seed does not give is the time of the reset')
  t.match(state.ai_secrets, [
    {
      name: 'A',
      created: state.organizations[1].created,
      secret_updated_at: state.organizations[1].created,
      metadata: { deep: { x: [1, 2] } },
    },
    { name: 'B', created: '2023-12-31T22:00:00.000Z', updated_at: '2024-06-01T00:00:00.000Z', secret_updated_at: null },
    {
      name: 'A',
      created: '2024-12-31T00:00:00.000Z',
      updated_at: '2024-12-31T00:00:00.000Z',
      secret_updated_at: '2025-01-01T00:00:00.500Z',
      preview_secret: '...',
    },
    { name: 'C', type: null, metadata: null, preview_secret: null },
  ])
  t.equal(
    (await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers('sk-o all') })).json().objects.length,
    4,
    'the seeded keys work',
  )
})

t.test(
  'reset, deterministic: an id the seed gives in the counter\u2019s range is never made again; each reset writes ' +
    'the same',
  async (t) => {
    const seed = {
      organizations: [{ name: 'a', id: '00000000-0000-4000-8000-000000000001' }],
      users: [{ email: 'u@x.test', memberships: { a: 'owner' } }],
    }
    const { app, mock } = await buildMock(t, { deterministic: true, seed })
    const startUp = { seeded: mock.seeded, rows: rows(mock) }
    t.equal(startUp.seeded!.users[0]!.id, '00000000-0000-4000-8000-000000000002', 'after the largest stored')
    for (let i = 0; i < 2; i++) {
      t.same((await app.inject({ method: 'POST', url: '/_mock/reset' })).json(), startUp.seeded)
      t.same(rows(mock), startUp.rows)
    }
  },
)

t.test(
  'reset: a configured seed that an empty store refuses (a file database that held data at start-up) fails every ' +
    'time and changes nothing',
  async (t) => {
    const file = join(mkdtempSync(join(tmpdir(), 'reset-')), 'db.sqlite')
    await (await buildApp({ db: file, logger: false })).close()
    const { app, mock } = await buildMock(t, {
      db: file,
      seed: { users: [{ email: 'u@x.test', memberships: { nowhere: 'owner' } }] },
    })
    const before = rows(mock)
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({ method: 'POST', url: '/_mock/reset' })
      t.equal(res.statusCode, 500)
      t.same(rows(mock), before, 'rolled back')
    }
  },
)

t.test('reset with no seed empties the store', async (t) => {
  const app = await build(t, { seed: false })
  await app.inject({ method: 'POST', url: '/_mock/seed', payload: EXTRA })
  const res = await app.inject({ method: 'POST', url: '/_mock/reset' })
  t.same(res.json(), { organizations: [], users: [], api_keys: [], ai_secrets: [] })
  t.same((await app.inject({ method: 'GET', url: '/_mock/state' })).json(), {
    organizations: [],
    users: [],
    api_keys: [],
    ai_secrets: [],
  })
})

t.test('deterministic: ids, timestamps and request ids repeat after a reset', async (t) => {
  const app = await build(t, { deterministic: true })
  const state = async () => (await app.inject({ method: 'GET', url: '/_mock/state' })).json()
  const first = await state()
  t.equal(first.organizations[0].id, '00000000-0000-4000-8000-000000000001')
  t.equal(first.organizations[0].created, '2026-01-01T00:00:00.000Z')
  const run = async () => {
    await app.inject({ method: 'POST', url: '/_mock/clock', payload: { advance_ms: 5000 } })
    const seeded = await app.inject({ method: 'POST', url: '/_mock/seed', payload: EXTRA })
    const deleted = await call(t, app, del(KEYS.owner, 'OPENAI_API_KEY'))
    return {
      seeded: seeded.json(),
      deleted: deleted.json(),
      requestId: deleted.headers['x-request-id'],
      state: await state(),
    }
  }
  const a = await run()
  t.equal(a.seeded.organizations[0].created, undefined)
  t.equal(a.state.organizations[2].created, '2026-01-01T00:00:05.000Z', 'seeded at the advanced time')
  await app.inject({ method: 'POST', url: '/_mock/reset' })
  t.same(await state(), first, 'reset gives the same ids and times as start-up')
  const b = await run()
  t.same(b, a, 'the same steps give the same answers')
})

t.test('POST /_mock/clock sets or advances the time; GET answers it', async (t) => {
  const app = await build(t, { deterministic: true })
  const clock = (payload: unknown) => app.inject({ method: 'POST', url: '/_mock/clock', payload: payload as object })
  t.same((await app.inject({ method: 'GET', url: '/_mock/clock' })).json(), {
    now: '2026-01-01T00:00:00.000Z',
    deterministic: true,
  })
  t.same((await clock({ set: '2030-05-06T07:08:09Z' })).json(), {
    now: '2030-05-06T07:08:09.000Z',
    deterministic: true,
  })
  t.same((await clock({ advance_ms: 1500 })).json(), { now: '2030-05-06T07:08:10.500Z', deterministic: true })
  const err = await call(t, app, { ...del(KEYS.owner, 'nope') })
  t.match(
    err.body,
    `[timestamp=${(Date.parse('2030-05-06T07:08:10.500Z') / 1000).toFixed(3)}]`,
    'errors carry the mock time',
  )

  for (const [payload, message] of [
    [{}, /give either set/],
    [{ set: '2030-01-01T00:00:00Z', advance_ms: 1 }, /give either set/],
    [{ set: 'tomorrow' }, /\$\.set: must be an RFC 3339 date-time/],
    [{ set: 5 }, /\$\.set: must be a string, not 5/],
    [{ advance_ms: 1.5 }, /\$\.advance_ms: must be a whole number/],
    [{ speed: 2 }, /\$\.speed: unknown field/],
    [[], /\$: must be an object, not an array/],
  ] as const) {
    const res = await clock(payload)
    t.equal(res.statusCode, 400)
    t.match(res.body, /^Invalid clock change: /)
    t.match(res.body, message)
  }

  const live = await build(t)
  const target = Date.parse('2035-01-01T00:00:00Z')
  const set = await live.inject({ method: 'POST', url: '/_mock/clock', payload: { set: '2035-01-01T00:00:00Z' } })
  t.equal(set.json().deterministic, false)
  const now = Date.parse((await live.inject({ method: 'GET', url: '/_mock/clock' })).json().now)
  t.ok(now >= target && now < target + 60_000, 'a live clock runs on from the time set')
})

t.test('a reset racing with deletes: every answer is valid, the end state is the seed or after it', async (t) => {
  const app = await build(t)
  // A delete that arrived before a reset but reaches its handler after it is ended without
  // an answer (the connection closes: inject() rejects), so that it cannot change the new state.
  const dropped = (err: { code?: string }) => (err.code === 'LIGHT_ECONNRESET' ? null : Promise.reject(err))
  const many = Array.from({ length: 60 }, (_, i) =>
    i % 10 === 5
      ? app.inject({ method: 'POST', url: '/_mock/reset' })
      : call(t, app, del(i % 2 ? KEYS.owner : KEYS.globexOnly, 'OPENAI_API_KEY')).catch(dropped),
  )
  const answers = await Promise.all(many)
  for (const [i, res] of answers.entries()) {
    if (i % 10 === 5) t.equal(res?.statusCode, 200, 'reset')
    else
      t.ok(
        res === null || res.statusCode === 200 || res.statusCode === 400,
        `delete answered ${res?.statusCode ?? 'nothing'}`,
      )
  }
  const state = (await app.inject({ method: 'GET', url: '/_mock/state' })).json()
  t.same(
    state.api_keys.map((k: { preview: string }) => k.preview),
    ['sk-...ner', 'sk-...org', 'sk-...nly', 'sk-...ber'],
    'keys as seeded',
  )
  t.ok(state.ai_secrets.length <= 2)
  for (const s of state.ai_secrets)
    t.match(s, { name: 'OPENAI_API_KEY', type: 'openai' }, 'a remaining secret is a seeded one')
  // Each reset brings back at most one secret per organization, so no more deletes can win.
  const resets = answers.filter((_, i) => i % 10 === 5).length
  for (const parity of [0, 1]) {
    const won = answers.filter((res, i) => i % 10 !== 5 && i % 2 === parity && res?.statusCode === 200).length
    t.ok(won <= resets + 1, `${won} deletes won with ${resets} resets`)
  }
})

t.test('ADMIN_TOKEN: every /_mock route but health wants it', async (t) => {
  const app = await build(t, { adminToken: 'admin-s3cret' })
  const routes: [string, string, object?][] = [
    ['POST', '/_mock/reset'],
    ['POST', '/_mock/seed', EXTRA],
    ['GET', '/_mock/state'],
    ['GET', '/_mock/requests'],
    ['DELETE', '/_mock/requests'],
    ['POST', '/_mock/faults', { status: 500 }],
    ['GET', '/_mock/faults'],
    ['DELETE', '/_mock/faults'],
    ['DELETE', '/_mock/faults/fault_1'],
    ['GET', '/_mock/clock'],
    ['POST', '/_mock/clock', { advance_ms: 1 }],
  ]
  for (const [method, url, payload] of routes) {
    for (const authorization of [
      undefined,
      'Bearer wrong',
      'admin-s3cret',
      'Basic YWRtaW4tczNjcmV0',
      `Bearer ${KEYS.owner}`,
    ]) {
      const res = await app.inject({
        method: method as 'GET',
        url,
        payload,
        headers: authorization === undefined ? {} : { authorization },
      })
      t.equal(res.statusCode, 401, `${method} ${url} with ${authorization}`)
      t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
      t.match(res.body, /^The \/_mock control plane needs `Authorization: Bearer <ADMIN_TOKEN>` \[timestamp=/)
    }
  }
  t.same((await app.inject({ method: 'GET', url: '/_mock/state' })).statusCode, 401)
  t.equal(
    (await call(t, app, del(KEYS.owner, 'OPENAI_API_KEY'))).statusCode,
    200,
    'the 401 changed nothing; /v1 does not want the admin token',
  )
  const ok = await app.inject({ method: 'GET', url: '/_mock/state', headers: { authorization: 'Bearer admin-s3cret' } })
  t.equal(ok.statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/_mock/health' })).statusCode, 200, 'health never wants it')
  t.equal((await app.inject({ method: 'GET', url: '/_mock/health?x=1' })).statusCode, 200)
})

t.test('bad control options stop buildApp', async (t) => {
  await t.rejects(build(t, { journalSize: -1 }), /journalSize: must be a whole number of at least 0/)
  await t.rejects(build(t, { rateLimitPerMinute: 1.5 }), /rateLimitPerMinute: must be a whole number/)
  await t.rejects(build(t, { adminToken: 'two words' }), /adminToken: must be one token/)
})

t.test(
  'reset: a seed object changed after the first reset is not read again; the recorded version is written',
  async (t) => {
    const seed = { organizations: [{ name: 'first' }] }
    const app = await build(t, { seed })
    t.match((await app.inject({ method: 'POST', url: '/_mock/reset' })).json().organizations, [{ name: 'first' }])
    seed.organizations[0]!.name = 'changed'
    t.match(
      (await app.inject({ method: 'POST', url: '/_mock/reset' })).json().organizations,
      [{ name: 'first' }],
      'as recorded at the first reset',
    )
  },
)

// --- the clock's range ---------------------------------------------------------------------------
// `{"advance_ms": 8640000000000000}` answered 500 and left every later write and GET /_mock/clock a
// 500 until a reset; a clock near the end of year 9999 wrote `created: "+010000-…"`.

t.test('a clock change out of 0001…9999 is a 400 naming the range; the clock is unchanged', async (t) => {
  for (const deterministic of [true, false]) {
    const app = await build(t, { deterministic })
    const clock = (payload: unknown) => app.inject({ method: 'POST', url: '/_mock/clock', payload: payload as object })
    const before = (await app.inject({ method: 'GET', url: '/_mock/clock' })).json().now
    for (const [change, path] of [
      [{ advance_ms: 8_640_000_000_000_000 }, '$.advance_ms'],
      [{ advance_ms: -8_640_000_000_000_000 }, '$.advance_ms'],
      [{ advance_ms: Number.MAX_SAFE_INTEGER }, '$.advance_ms'],
      [{ set: '0000-12-31T23:59:59Z' }, '$.set'],
    ] as const) {
      const res = await clock(change)
      t.equal(res.statusCode, 400, JSON.stringify(change))
      t.match(res.body, `Invalid clock change: ${path}: the clock would show `)
      t.match(res.body, 'it shows 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z')
    }
    const after = await app.inject({ method: 'GET', url: '/_mock/clock' })
    t.equal(after.statusCode, 200)
    if (deterministic) t.equal(after.json().now, before, 'unchanged')
    const write = await call(t, app, {
      method: 'POST',
      url: '/v1/ai_secret',
      headers: headers(KEYS.owner),
      payload: { name: 'AFTER' },
    })
    t.equal(write.statusCode, 200, 'writes still work')
  }
})

t.test('at the end of year 9999, a live clock stops: dates stay RFC 3339 with four digits, in order', async (t) => {
  const app = await build(t)
  const set = await app.inject({ method: 'POST', url: '/_mock/clock', payload: { set: '9999-12-31T23:59:59.990Z' } })
  t.equal(set.statusCode, 200)
  await new Promise((resolve) => setTimeout(resolve, 30))
  const made: { created: string; name: string }[] = []
  for (const name of ['LATE_1', 'LATE_2']) {
    made.push(
      (
        await call(t, app, { method: 'POST', url: '/v1/ai_secret', headers: headers(KEYS.owner), payload: { name } })
      ).json(),
    )
  }
  for (const m of made) t.equal(m.created, '9999-12-31T23:59:59.999Z', `${m.name}: the last instant, not +010000`)
  t.equal((await app.inject({ method: 'GET', url: '/_mock/clock' })).json().now, '9999-12-31T23:59:59.999Z')
  const listed = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.owner) })
  t.same(
    listed.json().objects.map((s: { name: string }) => s.name),
    ['LATE_2', 'LATE_1', 'OPENAI_API_KEY'],
    'newest first',
  )
  const edge = await app.inject({ method: 'POST', url: '/_mock/clock', payload: { set: '0001-01-01T00:00:00Z' } })
  t.equal(edge.statusCode, 200, 'the first instant is in range')
})
