// The `x-bt-org-name` header (issue 12, finding 2): Braintrust's clients and CLI send it to
// choose an organization when a key spans several. On every /v1 operation it names the
// organization when `org_name` is absent; the same name as `org_name` is fine, a different
// one a 400 naming both (nothing written); an organization the key does not span the same
// 403 as for `org_name`; by id, a secret of another organization reads as absent.
import t from 'tap'
import { KEYS, build, call, headers } from '../support/app.js'

type App = Awaited<ReturnType<typeof build>>
const GLOBEX = '6f1c9a52-3d0e-4b8e-9f2a-1c2d3e4f5a6b'
const H = 'x-bt-org-name'
const state = async (app: App) =>
  (await app.inject({ method: 'GET', url: '/_mock/state' })).json().ai_secrets as {
    id: string
    org_id: string
    name: string
    type: string | null
  }[]
const inGlobex = async (app: App) => (await state(app)).filter((s) => s.org_id === GLOBEX).map((s) => s.name)
const globexSecretId = async (app: App) => (await state(app)).find((s) => s.org_id === GLOBEX)!.id
const acmeSecretId = async (app: App) => (await state(app)).find((s) => s.org_id !== GLOBEX)!.id

t.test('it names the organization on POST, PUT and DELETE by name when org_name is absent', async (t) => {
  const app = await build(t)
  const post = await call(t, app, {
    method: 'POST',
    url: '/v1/ai_secret',
    headers: headers(KEYS.multi, { [H]: 'globex' }),
    payload: { name: 'VIA_HEADER', secret: 'sk-header-123456' },
  })
  t.equal(post.statusCode, 200, post.body)
  t.equal(post.json().org_id, GLOBEX)
  const put = await call(t, app, {
    method: 'PUT',
    url: '/v1/ai_secret',
    headers: headers(KEYS.multi, { [H]: 'globex' }),
    payload: { name: 'VIA_HEADER', type: 'anthropic', org_name: null },
  })
  t.equal(put.statusCode, 200, 'org_name null counts as absent')
  t.equal(put.json().id, post.json().id)
  t.same(await inGlobex(app), ['OPENAI_API_KEY', 'VIA_HEADER'])
  const del = await call(t, app, {
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.multi, { [H]: 'globex' }),
    payload: { name: 'OPENAI_API_KEY' },
  })
  t.equal(del.statusCode, 200)
  t.equal(del.json().org_id, GLOBEX)
  t.same(await inGlobex(app), ['VIA_HEADER'])
  t.equal(
    (await state(app)).filter((s) => s.name === 'OPENAI_API_KEY').length,
    1,
    'acme\u2019s secret of that name is untouched',
  )

  const journal = (await app.inject({ method: 'GET', url: '/_mock/requests' })).json().requests
  t.same(
    journal.map((e: { org: string }) => e.org),
    ['globex', 'globex', 'globex'],
    'the journal names the organization the request acted in',
  )
})

t.test('a list is narrowed to it; without it a key lists across its organizations', async (t) => {
  const app = await build(t)
  const list = async (extra: Record<string, string>, query = '') =>
    call(t, app, { method: 'GET', url: `/v1/ai_secret${query}`, headers: headers(KEYS.multi, extra) })
  t.equal((await list({})).json().objects.length, 2)
  const narrowed = await list({ [H]: 'globex' })
  t.same(
    narrowed.json().objects.map((s: { org_id: string }) => s.org_id),
    [GLOBEX],
  )
  t.equal((await list({ [H]: 'globex' }, '?org_name=globex')).json().objects.length, 1, 'the same name in both: fine')
  t.equal((await list({ [H]: '' })).json().objects.length, 2, 'an empty header is no header')
})

t.test('org_name and the header naming different organizations: 400 naming both, nothing written', async (t) => {
  const app = await build(t)
  const before = await state(app)
  const cases = [
    { method: 'POST', url: '/v1/ai_secret', payload: { name: 'X', org_name: 'acme' } },
    { method: 'PUT', url: '/v1/ai_secret', payload: { name: 'OPENAI_API_KEY', org_name: 'acme', type: 'changed' } },
    { method: 'DELETE', url: '/v1/ai_secret', payload: { name: 'OPENAI_API_KEY', org_name: 'acme' } },
    { method: 'GET', url: '/v1/ai_secret?org_name=acme' },
  ]
  for (const c of cases) {
    const res = await call(t, app, { ...c, headers: headers(KEYS.multi, { [H]: 'globex' }) })
    t.equal(res.statusCode, 400, `${c.method} ${c.url}`)
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    t.match(
      res.body,
      /^The x-bt-org-name header \(globex\) and org_name \(acme\) name different organizations \[user_email=bob@multi\.test\] \[timestamp=/,
    )
  }
  t.same(await state(app), before, 'nothing written')
})

t.test('an organization the key does not span: the same 403 as for org_name, whether or not it exists', async (t) => {
  const app = await build(t)
  for (const [key, org] of [
    [KEYS.owner, 'globex'],
    [KEYS.multi, 'initech'],
    [KEYS.globexOnly, 'acme'],
  ] as const) {
    const byHeader = await call(t, app, {
      method: 'DELETE',
      url: '/v1/ai_secret',
      headers: headers(key, { [H]: org }),
      payload: { name: 'OPENAI_API_KEY' },
    })
    const byBody = await call(t, app, {
      method: 'DELETE',
      url: '/v1/ai_secret',
      headers: headers(key),
      payload: { name: 'OPENAI_API_KEY', org_name: org },
    })
    t.equal(byHeader.statusCode, 403)
    t.equal(byHeader.json().Code, 'ForbiddenError')
    const message = (m: string) => m.replace(/ \[timestamp=[^\]]*\]/, '')
    t.equal(message(byHeader.json().Message), message(byBody.json().Message), `${org}: the same answer`)
    for (const [method, url] of [
      ['GET', '/v1/ai_secret'],
      ['GET', `/v1/ai_secret/${await acmeSecretId(app)}`],
      ['PATCH', `/v1/ai_secret/${await globexSecretId(app)}`],
    ]) {
      const res = await call(t, app, {
        method: method!,
        url: url!,
        headers: headers(key, { [H]: org }),
        payload: method === 'PATCH' ? {} : undefined,
      })
      t.equal(res.statusCode, 403, `${method} ${url}`)
      t.match(res.json().Message, `Missing read access to organization ${org}, or the organization does not exist`)
    }
  }
  t.equal((await state(app)).length, 2, 'nothing written')
})

t.test('by id: a secret of another organization than the header names reads as one that does not exist', async (t) => {
  const app = await build(t)
  const id = await globexSecretId(app)
  const as = (org: string) => headers(KEYS.multi, { [H]: org })

  const get = await call(t, app, { method: 'GET', url: `/v1/ai_secret/${id}`, headers: as('acme') })
  t.equal(get.statusCode, 403)
  t.match(get.json().Message, `Missing read access to ai_secret id ${id}, or the ai_secret does not exist`)
  const patch = await call(t, app, {
    method: 'PATCH',
    url: `/v1/ai_secret/${id}`,
    headers: as('acme'),
    payload: { type: 'changed' },
  })
  t.equal(patch.statusCode, 400)
  t.match(patch.body, `Missing update access to ai_secret id ${id}, or the ai_secret does not exist`)
  const del = await call(t, app, { method: 'DELETE', url: `/v1/ai_secret/${id}`, headers: as('acme'), payload: '' })
  t.equal(del.statusCode, 400)
  t.match(del.body, `Missing delete access to ai_secret id ${id}, or the ai_secret does not exist`)
  t.equal((await inGlobex(app)).length, 1, 'untouched')

  t.equal((await call(t, app, { method: 'GET', url: `/v1/ai_secret/${id}`, headers: as('globex') })).statusCode, 200)
  t.equal(
    (
      await call(t, app, {
        method: 'PATCH',
        url: `/v1/ai_secret/${id}`,
        headers: as('globex'),
        payload: { type: 'changed' },
      })
    ).json().type,
    'changed',
  )
  t.equal(
    (await call(t, app, { method: 'DELETE', url: `/v1/ai_secret/${id}`, headers: as('globex'), payload: '' }))
      .statusCode,
    200,
  )
  t.same(await inGlobex(app), [])
})

t.test('a key of one organization may send it too: its own organization is fine', async (t) => {
  const app = await build(t)
  const res = await call(t, app, {
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner, { [H]: 'acme' }),
    payload: { name: 'OPENAI_API_KEY' },
  })
  t.equal(res.statusCode, 200)
})

t.test('a request a fault answers before its handler is journaled under the header\u2019s organization', async (t) => {
  const app = await build(t)
  await app.inject({ method: 'POST', url: '/_mock/faults', payload: { status: 503, times: 2 } })
  await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.multi, { [H]: 'globex' }) })
  await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(KEYS.multi, { [H]: 'initech' }) })
  const journal = (await app.inject({ method: 'GET', url: '/_mock/requests' })).json().requests
  t.same(
    journal.map((e: { org: string | null }) => e.org),
    ['globex', null],
    'an organization the key does not span names none',
  )
})
