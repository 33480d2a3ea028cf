import { readFileSync } from 'node:fs'
import type { FastifyInstance, InjectOptions } from 'fastify'
import t, { type Test } from 'tap'
import type { AppOptions } from '../../src/app.js'
import type { MockContext } from '../../src/context.js'
import { DEMO_SEED_FILE } from '../../src/paths.js'
import { DEMO_IDS, DEMO_KEYS, OPERATION_EXAMPLES } from '../../src/schemas/examples.js'
import { build, buildMock, call, headers } from '../support/app.js'

// The served document's examples are what a visitor of /docs executes as they are: each one
// is sent here to a fresh instance with the demo data, as Swagger UI sends it, and must work.
// Each error example is reproduced: the first request of a deterministic instance answers it
// word for word.

// biome-ignore lint/suspicious/noExplicitAny: a walk through an OpenAPI document of any shape
type Json = Record<string, any>
interface Operation {
  key: string
  method: string
  path: string
  op: Json
}

async function documented(t: Test): Promise<Operation[]> {
  const app = await build(t)
  const doc = app.swagger() as unknown as { paths: Record<string, Record<string, Json>> }
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase(),
      path,
      op,
    })),
  )
}

/** The request Swagger UI sends for an operation with its examples filled in (and nothing else). */
function request(
  o: Operation,
  body: unknown,
  key: string | undefined,
): InjectOptions & { method: string; url: string } {
  let url = o.path
  const query = new URLSearchParams()
  const hdrs: Record<string, string> = {}
  for (const p of (o.op.parameters ?? []) as Json[]) {
    if (p.example === undefined) continue
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(String(p.example)))
    else if (p.in === 'query') query.append(p.name, String(p.example))
    else hdrs[p.name] = String(p.example)
  }
  if (query.size > 0) url += `?${query}`
  const auth = key === undefined || o.method === 'OPTIONS' ? {} : { authorization: `Bearer ${key}` }
  return {
    method: o.method,
    url,
    headers: { ...hdrs, ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  }
}

t.test('every request-body and parameter example works as it is on the demo data', async (t) => {
  const ops = await documented(t)
  let sent = 0
  for (const o of ops) {
    const examples = OPERATION_EXAMPLES[o.op.operationId]
    const bodies = Object.entries(
      (o.op.requestBody?.content?.['application/json']?.examples ?? {}) as Record<string, { value: unknown }>,
    )
    for (const p of (o.op.parameters ?? []) as Json[]) {
      const why = examples?.withoutExample?.[p.name]
      if (p.name === 'Prefer')
        t.equal(p.example, undefined, `${o.key}: Prefer has no example (filled in, it would force an answer)`)
      else if (why !== undefined) t.equal(p.example, undefined, `${o.key} ${p.name}: no example, because ${why}`)
      else t.not(p.example, undefined, `${o.key} ${p.name}: an example`)
    }
    if (o.op.requestBody !== undefined) t.ok(bodies.length > 0, `${o.key}: request-body examples`)
    for (const [name, example] of bodies.length > 0 ? bodies : [['(none)', { value: undefined }] as const]) {
      const app = await build(t, { deterministic: true })
      // The example of DELETE /_mock/faults/{id} names the rule POST /_mock/faults adds first.
      if (o.op.operationId === 'deleteMockFaultsId') {
        const rule = OPERATION_EXAMPLES.postMockFaults!.body!.rate_limited!.value as object
        t.equal((await app.inject({ method: 'POST', url: '/_mock/faults', payload: rule })).json().id, 'fault_1')
      }
      const key = examples?.body?.[name]?.key ?? examples?.key
      if (o.path.startsWith('/v1/') && o.method !== 'OPTIONS') t.ok(key, `${o.key}: the examples name their demo key`)
      const res = await call(t, app, request(o, example.value, key))
      t.ok(
        res.statusCode >= 200 && res.statusCode < 300,
        `${o.key} example ${name} (${key ?? 'no key'}): ${res.statusCode} ${res.body.slice(0, 200)}`,
      )
      t.ok(o.op.responses[String(res.statusCode)], `${o.key}: ${res.statusCode} is documented`)
      sent++
    }
  }
  t.ok(sent >= 22, `${sent} examples sent`)
})

t.test('the DELETE /v1/ai_secret example deletes a demo secret; again, the documented 400', async (t) => {
  const app = await build(t)
  const o = (await documented(t)).find((x) => x.key === 'DELETE /v1/ai_secret')!
  const media = o.op.requestBody.content['application/json']
  const first = Object.values(media.examples as Record<string, { value: unknown }>)[0]!.value
  t.same(first, { name: 'OPENAI_API_KEY', org_name: 'acme' }, 'Swagger UI fills in this one')
  const req = request(o, first, 'sk-mock-acme-owner')
  const ok = await call(t, app, req)
  t.equal(ok.statusCode, 200)
  t.match(ok.json(), { id: DEMO_IDS.acmeSecret, name: 'OPENAI_API_KEY', preview_secret: 'sk-...def' })
  const again = await call(t, app, req)
  t.equal(again.statusCode, 400)
  t.equal(again.headers['content-type'], 'text/plain; charset=utf-8')
  t.match(
    again.body,
    /^Missing delete access to ai_secret OPENAI_API_KEY, or the ai_secret does not exist \[user_email=alice@acme.test\] \[user_org=acme\] /,
  )
  t.match(o.op.responses['400'].description, 'when the ai_secret does not exist', 'the 400 says so')
})

const NO_SECRETS = (() => {
  const demo = JSON.parse(readFileSync(DEMO_SEED_FILE, 'utf8')) as Json
  delete demo.ai_secrets
  return demo
})()
const DEAD = '/v1/ai_secret/00000000-0000-4000-8000-00000000dead'
const owner = headers('sk-mock-acme-owner')

/** How to make a deterministic instance answer each documented error example with its first request. */
const RECIPES: Record<
  string,
  {
    options?: AppOptions
    prepare?: (app: FastifyInstance, mock: MockContext) => unknown
    req: InjectOptions & { method: string; url: string }
    masked?: boolean
  }
> = {
  'deleteAiSecret 400 absent': {
    options: { seed: NO_SECRETS },
    req: { method: 'DELETE', url: '/v1/ai_secret', headers: owner, payload: { name: 'OPENAI_API_KEY' } },
  },
  'deleteAiSecret 400 several_orgs': {
    req: {
      method: 'DELETE',
      url: '/v1/ai_secret',
      headers: headers('sk-mock-multi-org'),
      payload: { name: 'OPENAI_API_KEY' },
    },
  },
  'postAiSecret 400 several_orgs': {
    req: {
      method: 'POST',
      url: '/v1/ai_secret',
      headers: headers('sk-mock-multi-org'),
      payload: { name: 'OPENAI_API_KEY' },
    },
  },
  'putAiSecret 400 several_orgs': {
    req: {
      method: 'PUT',
      url: '/v1/ai_secret',
      headers: headers('sk-mock-multi-org'),
      payload: { name: 'OPENAI_API_KEY' },
    },
  },
  'getAiSecret 400 both_cursors': {
    req: {
      method: 'GET',
      url: `/v1/ai_secret?starting_after=${DEMO_IDS.acmeSecret}&ending_before=${DEMO_IDS.acmeSecret}`,
      headers: owner,
    },
  },
  'getAiSecretId 400 not_a_uuid': { req: { method: 'GET', url: '/v1/ai_secret/nope', headers: owner } },
  'getAiSecretId 403 absent': { req: { method: 'GET', url: DEAD, headers: owner } },
  'postAiSecret 403 org': {
    req: {
      method: 'POST',
      url: '/v1/ai_secret',
      headers: owner,
      payload: { name: 'OPENAI_API_KEY', org_name: 'initech' },
    },
  },
  'putAiSecret 403 org': {
    req: {
      method: 'PUT',
      url: '/v1/ai_secret',
      headers: owner,
      payload: { name: 'OPENAI_API_KEY', org_name: 'initech' },
    },
  },
  'deleteAiSecret 403 org': {
    req: {
      method: 'DELETE',
      url: '/v1/ai_secret',
      headers: owner,
      payload: { name: 'OPENAI_API_KEY', org_name: 'initech' },
    },
  },
  'getAiSecret 403 org': { req: { method: 'GET', url: '/v1/ai_secret?org_name=initech', headers: owner } },
  'postAiSecret 403 member': {
    req: {
      method: 'POST',
      url: '/v1/ai_secret',
      headers: headers('sk-mock-acme-member'),
      payload: { name: 'OPENAI_API_KEY' },
    },
  },
  'putAiSecret 403 member': {
    req: {
      method: 'PUT',
      url: '/v1/ai_secret',
      headers: headers('sk-mock-acme-member'),
      payload: { name: 'OPENAI_API_KEY' },
    },
  },
  'patchAiSecretId 403 forced': {
    req: { method: 'PATCH', url: DEAD, headers: { ...owner, prefer: 'code=403' }, payload: {} },
  },
  'deleteAiSecretId 403 forced': { req: { method: 'DELETE', url: DEAD, headers: { ...owner, prefer: 'code=403' } } },
  'patchAiSecretId 400 absent': { req: { method: 'PATCH', url: DEAD, headers: owner, payload: { metadata: {} } } },
  'deleteAiSecretId 400 absent': { req: { method: 'DELETE', url: DEAD, headers: owner } },
  'optionsAiSecret 400 malformed': { req: { method: 'OPTIONS', url: '/v1/ai_secret/%E0%A4%A' } },
  'optionsAiSecretId 400 malformed': { req: { method: 'OPTIONS', url: '/v1/ai_secret/%E0%A4%A' } },
}
for (const op of [
  'postAiSecret',
  'putAiSecret',
  'deleteAiSecret',
  'getAiSecret',
  'getAiSecretId',
  'patchAiSecretId',
  'deleteAiSecretId',
]) {
  const method = {
    postAiSecret: 'POST',
    putAiSecret: 'PUT',
    deleteAiSecret: 'DELETE',
    getAiSecret: 'GET',
    getAiSecretId: 'GET',
    patchAiSecretId: 'PATCH',
    deleteAiSecretId: 'DELETE',
  }[op]!
  const url = op.endsWith('Id') ? `/v1/ai_secret/${DEMO_IDS.acmeSecret}` : '/v1/ai_secret'
  const body = method === 'GET' ? {} : { payload: { name: 'OPENAI_API_KEY' } }
  RECIPES[`${op} 401 invalid_key`] = { req: { method, url, headers: headers('sk-unknown'), ...body } }
  if (method !== 'GET')
    RECIPES[`${op} 413 too_large`] = {
      req: { method, url, headers: owner, payload: `{"name":"${'x'.repeat(1024 * 1024)}"}` },
    }
  // 60 requests in a minute, then one more: the numbers differ (request id, seconds), the words do not.
  RECIPES[`${op} 429 rate_limited`] = {
    options: { rateLimitPerMinute: 60 },
    prepare: async (app) => {
      for (let i = 0; i < 60; i++) await app.inject({ method: 'GET', url: '/v1/ai_secret', headers: owner })
    },
    req: { method, url, headers: owner, ...body },
    masked: true,
  }
  // Something that should never fail does: the store throws.
  RECIPES[`${op} 500 internal`] = {
    prepare: (_app, mock) => {
      for (const name of ['create', 'replace', 'deleteByName', 'list', 'get', 'patch', 'deleteById'] as const) {
        ;(mock.secrets as unknown as Record<string, () => never>)[name] = () => {
          throw new Error('the store broke')
        }
      }
    },
    req: { method, url, headers: owner, ...body },
  }
}

const MOCK_RECIPES: typeof RECIPES = {
  'postMockSeed 400 example': {
    req: { method: 'POST', url: '/_mock/seed', payload: { api_keys: [{ key: 'sk-x', user: 'nobody@initech.test' }] } },
  },
  'postMockFaults 400 example': { req: { method: 'POST', url: '/_mock/faults', payload: { times: 0 } } },
  'deleteMockFaultsId 404 example': { req: { method: 'DELETE', url: '/_mock/faults/fault_9' } },
  'postMockClock 400 example': { req: { method: 'POST', url: '/_mock/clock', payload: { advance_ms: 1.5 } } },
}
for (const [id, method, url] of [
  ['postMockReset', 'POST', '/_mock/reset'],
  ['postMockSeed', 'POST', '/_mock/seed'],
  ['getMockState', 'GET', '/_mock/state'],
  ['getMockRequests', 'GET', '/_mock/requests'],
  ['deleteMockRequests', 'DELETE', '/_mock/requests'],
  ['postMockFaults', 'POST', '/_mock/faults'],
  ['getMockFaults', 'GET', '/_mock/faults'],
  ['deleteMockFaults', 'DELETE', '/_mock/faults'],
  ['deleteMockFaultsId', 'DELETE', '/_mock/faults/fault_1'],
  ['getMockClock', 'GET', '/_mock/clock'],
  ['postMockClock', 'POST', '/_mock/clock'],
] as const) {
  // The 401 example names /_mock/reset, where it was asked; the others answer alike but for the path.
  MOCK_RECIPES[`${id} 401 example`] = {
    options: { adminToken: 'admin-0123' },
    req: { method, url, headers: { authorization: 'Bearer wrong' } },
  }
}

t.test('every error example is the answer the mock gives', async (t) => {
  const ops = await documented(t)
  let reproduced = 0
  for (const o of ops) {
    for (const [code, response] of Object.entries((o.op.responses ?? {}) as Record<string, Json>)) {
      if (Number(code) < 400) continue
      const [type, media] = Object.entries(response.content as Record<string, Json>)[0]!
      const examples: [string, unknown][] =
        media.examples !== undefined
          ? Object.entries(media.examples).map(([n, e]) => [n, (e as Json).value])
          : [['example', media.example]]
      for (const [name, value] of examples) {
        const label = `${o.op.operationId} ${code} ${name}`
        t.not(value, undefined, `${label}: documented`)
        const recipe = RECIPES[label] ?? MOCK_RECIPES[label]
        if (recipe === undefined) {
          t.fail(`${label}: no way to reproduce it`)
          continue
        }
        const { app, mock } = await buildMock(t, { deterministic: true, ...recipe.options })
        await recipe.prepare?.(app, mock)
        const res = await app.inject(recipe.req)
        t.equal(res.statusCode, Number(code), `${label}: status`)
        t.equal(String(res.headers['content-type']).split(';')[0], type, `${label}: content type`)
        const actual = type === 'application/json' ? res.json() : res.body
        const mask = (v: unknown) =>
          recipe.masked
            ? JSON.parse(
                JSON.stringify(v)
                  .replace(/mock::\w+/g, 'mock::')
                  .replace(/\d+/g, '0'),
              )
            : v
        t.same(mask(actual), mask(value), `${label}: as answered`)
        reproduced++
      }
    }
  }
  t.ok(reproduced >= 50, `${reproduced} error examples reproduced`)
})

t.test('the info lists every demo key of seed/demo.json with what it can do', async (t) => {
  const demo = JSON.parse(readFileSync(DEMO_SEED_FILE, 'utf8')) as {
    api_keys: { key: string; user: string; org?: string }[]
    users: { email: string; memberships: Record<string, string> }[]
    ai_secrets: { org: string; id: string }[]
  }
  t.same(
    DEMO_KEYS.map((k) => [k.key, k.user]),
    demo.api_keys.map((k) => [k.key, k.user]),
  )
  for (const k of demo.api_keys) {
    const listed = DEMO_KEYS.find((d) => d.key === k.key)!
    const roles = demo.users.find((u) => u.email === k.user)!.memberships
    const orgs = k.org === undefined ? Object.keys(roles) : [k.org]
    for (const org of orgs)
      t.match(
        listed.can,
        roles[org] === 'owner' ? new RegExp(`owner .*\`${org}\``) : new RegExp(`member of \`${org}\`: read-only`),
        `${k.key} in ${org}`,
      )
  }
  t.same(
    demo.ai_secrets.map((s) => s.id),
    [DEMO_IDS.acmeSecret, DEMO_IDS.globexSecret],
    'the ids the examples name',
  )
  const app = await build(t)
  const info = (app.swagger() as unknown as { info: { description: string } }).info
  for (const k of DEMO_KEYS) t.match(info.description, `| \`${k.key}\` | ${k.user} | ${k.can} |`)
})
