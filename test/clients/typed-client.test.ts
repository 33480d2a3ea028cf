import createClient from 'openapi-fetch'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import type { paths } from '../support/upstream-client.d.ts'
import { KEYS, upstreamErrors } from '../support/app.js'

// A client generated from the UPSTREAM spec (openapi-typescript + openapi-fetch) runs a
// whole lifecycle against the mock over real HTTP: what a user's generated client would do.

t.test(
  'a client generated from the upstream spec: create, list, get, patch, replace, delete by name and by id',
  async (t) => {
    const app = await buildApp({ logger: false })
    t.teardown(() => app.close())
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    const client = createClient<paths>({ baseUrl: url, headers: { authorization: `Bearer ${KEYS.owner}` } })
    const valid = (body: unknown, what: string) =>
      t.equal(upstreamErrors('AISecret', body), null, `${what}: a valid upstream AISecret`)

    const created = await client.POST('/v1/ai_secret', {
      body: { name: 'MISTRAL_API_KEY', type: 'mistral', secret: 'mistral-key-0001', metadata: { env: 'ci' } },
    })
    t.equal(created.response.status, 200)
    const id = created.data!.id
    valid(created.data, 'create')
    t.equal(created.data!.preview_secret, 'mis...001')

    const listed = await client.GET('/v1/ai_secret', {
      params: { query: { ai_secret_type: ['mistral', 'openai'], limit: 10 } },
    })
    t.equal(listed.response.status, 200)
    t.same(
      listed.data!.objects.map((o) => o.name),
      ['MISTRAL_API_KEY', 'OPENAI_API_KEY'],
    )
    for (const o of listed.data!.objects) valid(o, 'list')

    const byIds = await client.GET('/v1/ai_secret', { params: { query: { ids: [id] } } })
    t.same(
      byIds.data!.objects.map((o) => o.id),
      [id],
    )

    const got = await client.GET('/v1/ai_secret/{ai_secret_id}', { params: { path: { ai_secret_id: id } } })
    t.same(got.data, created.data)

    const patched = await client.PATCH('/v1/ai_secret/{ai_secret_id}', {
      params: { path: { ai_secret_id: id } },
      body: { metadata: { owner: 'ml' } },
    })
    t.same(patched.data!.metadata, { env: 'ci', owner: 'ml' })
    valid(patched.data, 'patch')

    const replaced = await client.PUT('/v1/ai_secret', {
      body: { name: 'MISTRAL_API_KEY', type: 'mistral', secret: 'mistral-key-0002' },
    })
    t.equal(replaced.data!.id, id)
    t.equal(replaced.data!.preview_secret, 'mis...002')
    t.equal(replaced.data!.metadata, null)

    const byName = await client.DELETE('/v1/ai_secret', { body: { name: 'OPENAI_API_KEY' } })
    t.equal(byName.response.status, 200)
    valid(byName.data, 'delete by name')

    const byId = await client.DELETE('/v1/ai_secret/{ai_secret_id}', { params: { path: { ai_secret_id: id } } })
    t.equal(byId.response.status, 200)
    t.equal(byId.data!.name, 'MISTRAL_API_KEY')

    const empty = await client.GET('/v1/ai_secret')
    t.same(empty.data!.objects, [])

    const missing = await client.GET('/v1/ai_secret/{ai_secret_id}', { params: { path: { ai_secret_id: id } } })
    t.equal(missing.response.status, 403)
    t.match(missing.error, { Code: 'ForbiddenError' })
  },
)
