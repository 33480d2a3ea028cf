import { gzipSync } from 'node:zlib'
import axios from 'axios'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import t, { type Test } from 'tap'
import { MockControlError, SeedError, createMswMock, type MswMock } from '../src/msw.js'
import { createMswMockWith, type MswModule } from '../src/msw-mock.js'
import { startMockServer } from '../src/start-mock-server.js'
import { KEYS } from './support/app.js'

// MSW's handlers in Node, as a test suite uses them (setupServer from msw/node): plain fetch,
// axios (node:http underneath, a different interceptor) and the official client's request
// shapes, answered in-process by the app, as it answers over HTTP. The entry's two built files
// and msw 3 are run by test/package/msw-entry.test.ts and scripts/consumer-smoke.sh.

const API = 'https://api.braintrust.dev'

async function mocked(
  t: Test,
  options: Parameters<typeof createMswMock>[0] = {},
  unhandled: 'error' | 'bypass' = 'error',
) {
  const mock = await createMswMock({ logger: false, ...options })
  const server = setupServer(...mock.handlers)
  server.listen({ onUnhandledRequest: unhandled })
  t.teardown(async () => {
    server.close()
    await mock.close()
  })
  return { mock, server }
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

/** The requests the official TypeScript client sends (its REST calls, replicated with fetch's shapes). */
const officialClient = {
  headers: (key: string) => ({
    ...bearer(key),
    accept: 'application/json',
    'content-type': 'application/json',
    'user-agent': 'Braintrust/JS 0.x',
    'x-stainless-lang': 'js',
    'x-stainless-retry-count': '0',
  }),
  list: (base: string, key: string, query: string) =>
    fetch(`${base}/v1/ai_secret${query}`, { headers: officialClient.headers(key) }),
  // DELETE /v1/ai_secret/{id}: content-type application/json, and no body.
  delete: (base: string, key: string, id: string) =>
    fetch(`${base}/v1/ai_secret/${id}`, { method: 'DELETE', headers: officialClient.headers(key) }),
}

t.test('setupServer(...mock.handlers): plain fetch to the default base URL talks to the mock', async (t) => {
  const { mock } = await mocked(t)
  t.equal(mock.baseUrl, API)
  t.equal(mock.handlers.length, 1)
  t.same(mock.apiKeys.byOrg.acme, { owner: KEYS.owner, member: KEYS.member })
  t.equal(
    (mock.app as unknown as { server: { listening: boolean } }).server.listening,
    false,
    'no socket: nothing listens',
  )

  const res = await fetch(`${API}/v1/ai_secret`, {
    method: 'DELETE',
    headers: { ...bearer(KEYS.owner), 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'OPENAI_API_KEY' }),
  })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
  t.match(res.headers.get('x-request-id'), /^mock::[0-9a-f-]{36}$/)
  t.equal(res.headers.get('x-bt-internal-trace-id'), res.headers.get('x-request-id'))
  t.match(await res.json(), { name: 'OPENAI_API_KEY', preview_secret: 'sk-...def' })

  const again = await fetch(`${API}/v1/ai_secret`, {
    method: 'DELETE',
    headers: { ...bearer(KEYS.owner), 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'OPENAI_API_KEY' }),
  })
  t.equal(again.status, 400)
  t.equal(again.statusText, 'Bad Request')
  t.equal(again.headers.get('content-type'), 'text/plain; charset=utf-8')
  t.match(await again.text(), /^Missing delete access to ai_secret OPENAI_API_KEY, or the ai_secret does not exist/)
  t.same(
    (await mock.requests()).map((e) => [e.method, e.path, e.status, e.headers.authorization]),
    [
      ['DELETE', '/v1/ai_secret', 200, 'Bearer sk-...ner'],
      ['DELETE', '/v1/ai_secret', 400, 'Bearer sk-...ner'],
    ],
    'the journal sees them as over HTTP',
  )
})

t.test('every answer is the one HTTP gives: status, headers and body, errors and odd requests included', async (t) => {
  // The same requests, in the same order, to a deterministic mock over HTTP and one behind MSW.
  const { mock } = await mocked(t, { deterministic: true }, 'bypass')
  const server = await startMockServer({ logger: false, deterministic: true })
  t.teardown(() => server.close())
  const json = { ...bearer(KEYS.owner), 'content-type': 'application/json' }
  const requests: [string, RequestInit][] = [
    ['/v1/ai_secret?limit=1', { headers: bearer(KEYS.owner) }],
    ['/v1/ai_secret?limit=1&starting_after=00000000-0000-4000-8000-000000000001', { headers: bearer(KEYS.owner) }],
    ['/v1/ai_secret?ai_secret_name=OPENAI_API_KEY&ai_secret_name=NOPE', { headers: bearer(KEYS.multi) }],
    ['/v1/ai_secret', { headers: {} }],
    ['/v1/ai_secret', { headers: bearer('sk-wrong') }],
    ['/v1/ai_secret?limit=0', { headers: bearer(KEYS.owner) }],
    ['/v1/nothing-here', { headers: bearer(KEYS.owner) }],
    ['/v1/ai_secret', { method: 'DELETE', headers: json, body: '{"name":' }],
    ['/v1/ai_secret', { method: 'DELETE', headers: json, body: '' }],
    [
      '/v1/ai_secret',
      {
        method: 'DELETE',
        headers: { ...json, 'content-encoding': 'gzip' },
        body: gzipSync('{"name":"OPENAI_API_KEY"}'),
      },
    ],
    ['/v1/ai_secret', { method: 'DELETE', headers: { ...json, prefer: 'code=503' }, body: '{"name":"X"}' }],
    ['/v1/ai_secret/not-a-uuid', { method: 'DELETE', headers: json }],
    [
      '/v1/ai_secret',
      { method: 'OPTIONS', headers: { origin: 'http://app.test', 'access-control-request-method': 'DELETE' } },
    ],
    ['/v1/ai_secret', { method: 'HEAD', headers: bearer(KEYS.owner) }],
    [
      '/v1/ai_secret',
      { method: 'POST', headers: json, body: '{"name":"NEW","type":"openai","secret":"sk-new-0123456789"}' },
    ],
    [
      '/v1/ai_secret',
      { method: 'PUT', headers: json, body: '{"name":"NEW","type":"openai","secret":"sk-new-0123456789"}' },
    ],
  ]
  const answer = async (base: string, [path, init]: [string, RequestInit]) => {
    const res = await fetch(`${base}${path}`, init)
    const headers = [...res.headers].filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name))
    return { status: res.status, statusText: res.statusText, headers, body: await res.text() }
  }
  for (const request of requests) {
    const overHttp = await answer(server.url, request)
    const overMsw = await answer(API, request)
    t.same(overMsw, overHttp, `${request[1].method ?? 'GET'} ${request[0]}: ${overHttp.status}`)
  }
  // The journals agree but for the headers fetch adds on the wire (accept, user-agent, ...),
  // which MSW's requests do not have, and the host.
  const entries = async (m: { requests: MswMock['requests'] }) =>
    (await m.requests()).map(({ headers, duration_ms, ...e }) => e)
  t.same(await entries(mock), await entries(server), 'and the journals agree')
  t.same((await mock.requests())[0]!.headers, { host: 'api.braintrust.dev', authorization: 'Bearer sk-...ner' })
})

t.test(
  'the official client\u2019s requests: list pages with limit and starting_after, DELETE by id with no body',
  async (t) => {
    const { mock } = await mocked(t)
    await mock.seed({ ai_secrets: [{ org: 'acme', name: 'SECOND_KEY', secret: 'sk-second-0123456789' }] })
    const key = mock.apiKeys.byOrg.acme!.owner!
    const first = await officialClient.list(API, key, '?limit=1')
    t.equal(first.status, 200)
    const page1 = (await first.json()) as { objects: { id: string; name: string }[] }
    t.equal(page1.objects.length, 1)
    const page2 = (await (
      await officialClient.list(API, key, `?limit=1&starting_after=${page1.objects[0]!.id}`)
    ).json()) as {
      objects: { id: string }[]
    }
    t.equal(page2.objects.length, 1)
    t.not(page2.objects[0]!.id, page1.objects[0]!.id, 'the next page')
    const deleted = await officialClient.delete(API, key, page1.objects[0]!.id)
    t.equal(deleted.status, 200)
    t.equal(((await deleted.json()) as { id: string }).id, page1.objects[0]!.id)
    t.equal((await officialClient.delete(API, key, page1.objects[0]!.id)).status, 400, 'gone')
    const [, , del] = await mock.requests()
    t.match(del, { method: 'DELETE', path: `/v1/ai_secret/${page1.objects[0]!.id}`, status: 200 })
  },
)

t.test('axios (node:http underneath): the same answers, a drop is a network error', async (t) => {
  const { mock } = await mocked(t)
  const client = axios.create({ baseURL: API, headers: bearer(KEYS.owner), validateStatus: () => true })
  const list = await client.get('/v1/ai_secret', { params: { limit: 1 } })
  t.equal(list.status, 200)
  t.equal(list.data.objects.length, 1)
  t.match(list.headers['x-request-id'], /^mock::/)
  const del = await client.delete('/v1/ai_secret', { data: { name: 'OPENAI_API_KEY' } })
  t.equal(del.status, 200)
  t.equal(del.data.name, 'OPENAI_API_KEY')
  const forbidden = await axios.delete(`${API}/v1/ai_secret`, {
    headers: bearer(KEYS.member),
    data: { name: 'ANTHROPIC_API_KEY' },
    validateStatus: () => true,
  })
  t.equal(forbidden.status, 400)
  t.match(forbidden.data, /^Missing delete access to ai_secret ANTHROPIC_API_KEY/)

  await mock.fault({ method: 'GET', drop: true, times: 1 })
  await t.rejects(client.get('/v1/ai_secret'), { isAxiosError: true, message: 'Network error' } as never)
  t.equal((await client.get('/v1/ai_secret')).status, 200, 'the next request is answered')
})

t.test('faults: a drop is a network error for fetch; delays and forced statuses are kept', async (t) => {
  const { mock } = await mocked(t)
  const del = (init: RequestInit = {}) =>
    fetch(`${API}/v1/ai_secret`, {
      method: 'DELETE',
      ...init,
      headers: { ...bearer(KEYS.owner), 'content-type': 'application/json', ...(init.headers as object) },
      body: JSON.stringify({ name: 'OPENAI_API_KEY' }),
    })
  await mock.fault({ path: '/v1/ai_secret', drop: true, times: 1 })
  await t.rejects(del(), TypeError, 'fetch rejects as for a reset connection')
  t.match(await mock.requests(), [{ method: 'DELETE', status: null }], 'journaled without an answer')

  await mock.fault({ path: '/v1/ai_secret', status: 429, retry_after: 1, times: 1 })
  const limited = await del()
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '1')
  t.match(await limited.text(), /fault injected by/)

  await mock.fault({ path: '/v1/ai_secret', delay_ms: 250, times: 1 })
  const began = performance.now()
  t.equal((await del()).status, 200, 'the secret was still there')
  t.ok(performance.now() - began >= 240, 'the delay was kept')

  const preferred = performance.now()
  t.equal((await del({ headers: { prefer: 'delay=150' } })).status, 400, 'Prefer: delay too; already deleted')
  t.ok(performance.now() - preferred >= 140)
})

t.test('the controls: seed, reset, requests, clearFaults, close', async (t) => {
  const mock = await createMswMock({ logger: false, deterministic: true })
  const server = setupServer(...mock.handlers)
  server.listen({ onUnhandledRequest: 'error' })
  t.teardown(() => server.close())
  const { keys } = await mock.seed({
    organizations: [{ name: 'worker-1' }],
    users: [{ email: 'w1@test', memberships: { 'worker-1': 'owner' } }],
    api_keys: [{ key: 'sk-worker-one', user: 'w1@test' }],
    ai_secrets: [{ org: 'worker-1', name: 'K', secret: 'v-1234567890' }],
  })
  t.same(
    keys.map((k) => k.key),
    ['sk-worker-one'],
  )
  t.equal(mock.apiKeys.byOrg['worker-1']!.owner, 'sk-worker-one')
  const list = async (key: string) =>
    (await (await fetch(`${API}/v1/ai_secret`, { headers: bearer(key) })).json()) as { objects: { name: string }[] }
  t.same(
    (await list('sk-worker-one')).objects.map((s) => s.name),
    ['K'],
  )
  await mock.fault({ status: 500 })
  t.equal((await fetch(`${API}/v1/ai_secret`, { headers: bearer(KEYS.owner) })).status, 500)
  await mock.clearFaults()
  t.equal((await fetch(`${API}/v1/ai_secret`, { headers: bearer(KEYS.owner) })).status, 200)
  t.equal((await mock.requests({ org: 'worker-1' })).length, 1)
  await t.rejects(mock.seed({ api_keys: [{ key: 'sk-x', user: 'nobody@test' }] }), MockControlError)

  await mock.reset()
  t.equal(mock.apiKeys.byOrg['worker-1'], undefined)
  t.equal((await fetch(`${API}/v1/ai_secret`, { headers: bearer('sk-worker-one') })).status, 401)

  await mock.close()
  await mock.close()
  await t.rejects(
    fetch(`${API}/v1/ai_secret`, { headers: bearer(KEYS.owner) }),
    TypeError,
    'after close(): a network error',
  )
  await t.rejects(mock.reset(), { message: /reset\(\) was called after close\(\)/ })
})

t.test('another base URL, with a path prefix: only requests under it are handled', async (t) => {
  const mock = await createMswMock({ logger: false, baseUrl: 'http://localhost:3000/braintrust/' })
  t.equal(mock.baseUrl, 'http://localhost:3000/braintrust', 'without the trailing slash')
  // After the mock's handlers, one that answers whatever they leave.
  const server = setupServer(
    ...mock.handlers,
    http.all('*', () => new HttpResponse('elsewhere', { status: 418 })),
  )
  server.listen({ onUnhandledRequest: 'error' })
  t.teardown(async () => {
    server.close()
    await mock.close()
  })
  const res = await fetch('http://localhost:3000/braintrust/v1/ai_secret?limit=1', { headers: bearer(KEYS.owner) })
  t.equal(res.status, 200)
  t.same(
    (await mock.requests()).map((e) => [e.path, e.query]),
    [['/v1/ai_secret', { limit: '1' }]],
    'the app sees the path below the prefix',
  )
  // Not under `${baseUrl}/v1/`: left to the handlers after.
  for (const url of [
    `${API}/v1/ai_secret`,
    'http://localhost:3000/v1/ai_secret',
    'http://localhost:3000/braintrust/v2/ai_secret',
    'http://localhost:3001/braintrust/v1/ai_secret',
  ]) {
    t.equal((await fetch(url, { headers: bearer(KEYS.owner) })).status, 418, `${url}: not the mock's`)
  }
})

/**
 * One mock at `baseUrl`, a handler after it that answers what it leaves (418): each of `mine` is
 * answered by the mock (and journaled as `/v1/ai_secret`, the path below the base),
 * each of `others` is left to the handler after.
 */
async function answersExactly(t: Test, baseUrl: string, mine: string[], others: string[]) {
  const mock = await createMswMock({ logger: false, baseUrl })
  const server = setupServer(
    ...mock.handlers,
    http.all('*', () => new HttpResponse('elsewhere', { status: 418 })),
  )
  server.listen({ onUnhandledRequest: 'error' })
  t.teardown(async () => {
    server.close()
    await mock.close()
  })
  for (const url of mine) {
    const res = await fetch(`${url}?limit=1`, { headers: bearer(KEYS.owner) })
    t.equal(res.status, 200, `${url}: the mock's`)
    t.match(res.headers.get('x-request-id'), /^mock::[0-9a-f-]{36}$/)
    t.equal(((await res.json()) as { objects: unknown[] }).objects.length, 1)
  }
  t.same(
    (await mock.requests()).map((e) => [e.method, e.path, e.query, e.status]),
    mine.map(() => ['GET', '/v1/ai_secret', { limit: '1' }, 200]),
    'the app sees the path below the base',
  )
  for (const url of others) {
    t.equal((await fetch(url, { headers: bearer(KEYS.owner) })).status, 418, `${url}: not the mock's`)
  }
}

t.test('a base URL is a URL, not an MSW path pattern: IPv6 hosts, ports, + * ( ) : ? in its path', async (t) => {
  const cases: [string, string[], string[]][] = [
    [
      'http://[::1]:3000',
      ['http://[::1]:3000/v1/ai_secret'],
      ['http://[::1]:3001/v1/ai_secret', 'http://[::2]:3000/v1/ai_secret', 'http://127.0.0.1:3000/v1/ai_secret'],
    ],
    [
      'https://[2001:DB8::1]:443/api/',
      ['https://[2001:db8::1]/api/v1/ai_secret', 'https://[2001:db8::1]:443/api/v1/ai_secret'],
      [
        'http://[2001:db8::1]/api/v1/ai_secret',
        'https://[2001:db8::1]/apix/v1/ai_secret',
        'https://[2001:db8::1]/api/v1x/ai_secret',
        'https://[2001:db8::1]/api/v1',
        'https://[2001:db8::1]/v1/ai_secret',
      ],
    ],
    [
      'http://localhost:3000/a+',
      ['http://localhost:3000/a+/v1/ai_secret'],
      ['http://localhost:3000/a/v1/ai_secret', 'http://localhost:3000/aa/v1/ai_secret'],
    ],
    [
      'http://localhost:3000/:tenant',
      ['http://localhost:3000/:tenant/v1/ai_secret'],
      ['http://localhost:3000/acme/v1/ai_secret', 'http://localhost:3000/v1/ai_secret'],
    ],
    [
      'http://localhost:3000/a:b',
      ['http://localhost:3000/a:b/v1/ai_secret'],
      ['http://localhost:3000/ax/v1/ai_secret'],
    ],
    [
      'http://localhost:3000/a*b',
      ['http://localhost:3000/a*b/v1/ai_secret'],
      [
        'http://localhost:3000/ab/v1/ai_secret',
        'http://localhost:3000/axb/v1/ai_secret',
        'http://localhost:3000/a/b/v1/ai_secret',
      ],
    ],
    [
      'http://localhost:3000/a(b)/',
      ['http://localhost:3000/a(b)/v1/ai_secret'],
      ['http://localhost:3000/ab/v1/ai_secret', 'http://localhost:3000/a(b)x/v1/ai_secret'],
    ],
    [
      'http://localhost:3000/a%3Fb',
      ['http://localhost:3000/a%3Fb/v1/ai_secret', 'http://localhost:3000/a%3fb/v1/ai_secret'],
      [
        'http://localhost:3000/a?b/v1/ai_secret',
        'http://localhost:3000/ab/v1/ai_secret',
        'http://localhost:3000/A%3Fb/v1/ai_secret',
      ],
    ],
  ]
  for (const [baseUrl, mine, others] of cases) {
    await t.test(baseUrl, (t) => answersExactly(t, baseUrl, mine, others))
  }
})

t.test('an IPv6 base URL through axios (node:http underneath)', async (t) => {
  const { mock } = await mocked(t, { baseUrl: 'http://[::1]:3000/api' })
  const res = await axios.get('http://[::1]:3000/api/v1/ai_secret', {
    headers: bearer(KEYS.owner),
    params: { limit: 1 },
    validateStatus: () => true,
  })
  t.equal(res.status, 200)
  t.equal(res.data.objects.length, 1)
  t.match(res.headers['x-request-id'], /^mock::/)
  t.match(await mock.requests(), [
    { method: 'GET', path: '/v1/ai_secret', status: 200, headers: { host: '[::1]:3000' } },
  ])
})

t.test(
  'base and request paths compare with unreserved escapes decoded, other escapes in either case, the rest as written (case-sensitive)',
  async (t) => {
    const cases: [string, string[], string[]][] = [
      [
        'http://localhost:3000/br%61intrust',
        [
          'http://localhost:3000/braintrust/v1/ai_secret',
          'http://localhost:3000/br%61intrust/v1/ai_secret',
          'http://localhost:3000/%62r%61intrust/%76%31/ai_secret',
        ],
        [
          'http://localhost:3000/Braintrust/v1/ai_secret',
          'http://localhost:3000/br%2561intrust/v1/ai_secret',
          'http://localhost:3000/braintrusts/v1/ai_secret',
        ],
      ],
      [
        'http://localhost:3000/braintrust',
        ['http://localhost:3000/br%61intrust/v1/ai_secret', 'http://localhost:3000/%62raintrust/v1/ai_secret'],
        ['http://localhost:3000/brAintrust/v1/ai_secret', 'http://localhost:3000/braintrust/V1/ai_secret'],
      ],
      [
        'http://localhost:3000/~me',
        ['http://localhost:3000/%7Eme/v1/ai_secret', 'http://localhost:3000/%7eme/v1/ai_secret'],
        ['http://localhost:3000/me/v1/ai_secret'],
      ],
      [
        'http://localhost:3000/a%2fb',
        ['http://localhost:3000/a%2Fb/v1/ai_secret', 'http://localhost:3000/a%2fb/v1/ai_secret'],
        ['http://localhost:3000/a/b/v1/ai_secret', 'http://localhost:3000/A%2Fb/v1/ai_secret'],
      ],
      [
        'http://localhost:3000/a+b',
        ['http://localhost:3000/a+b/v1/ai_secret'],
        ['http://localhost:3000/a%2Bb/v1/ai_secret', 'http://localhost:3000/a%20b/v1/ai_secret'],
      ],
      [
        'http://localhost:3000/caf\u00e9',
        ['http://localhost:3000/caf%C3%A9/v1/ai_secret', 'http://localhost:3000/caf%c3%a9/v1/ai_secret'],
        ['http://localhost:3000/cafe/v1/ai_secret', 'http://localhost:3000/CAF%C3%A9/v1/ai_secret'],
      ],
    ]
    for (const [baseUrl, mine, others] of cases) {
      await t.test(baseUrl, (t) => answersExactly(t, baseUrl, mine, others))
    }
  },
)

t.test('bad options are refused before anything is built', async (t) => {
  for (const baseUrl of ['ftp://api.braintrust.dev', 'api.braintrust.dev', 'https://api.braintrust.dev/?x=1', 42]) {
    await t.rejects(createMswMock({ baseUrl: baseUrl as string }), {
      message: `baseUrl: must be an http or https URL without query or fragment, such as https://api.braintrust.dev, not ${JSON.stringify(baseUrl)}`,
    })
  }
  await t.rejects(createMswMock({ logger: false, journalSize: -1 }), {
    message: /^journalSize: must be a whole number/,
  })
  await t.rejects(createMswMock({ logger: false, seed: { api_keys: [{ key: 'k', user: 'nobody' }] } }), SeedError)
  const missing = Object.assign(new Error("Cannot find module 'msw'"), { code: 'MODULE_NOT_FOUND' })
  await t.rejects(
    createMswMockWith(() => {
      throw missing
    }),
    { message: 'ai-secret-mock/msw needs msw, an optional peer dependency: npm install -D msw', cause: missing },
  )
  const other = new Error('something else')
  await t.rejects(
    createMswMockWith(() => Promise.reject(other)),
    other,
  )
  await t.rejects(
    createMswMockWith(() => ({ rest: {} }) as unknown as MswModule),
    {
      message: /needs msw 2\.x or 3\.x/,
    },
  )
})

t.test('a mock per test file: two mocks do not share state', async (t) => {
  const a: MswMock = await createMswMock({ logger: false, baseUrl: 'https://a.test' })
  const b: MswMock = await createMswMock({ logger: false, baseUrl: 'https://b.test' })
  const server = setupServer(...a.handlers, ...b.handlers)
  server.listen({ onUnhandledRequest: 'error' })
  t.teardown(async () => {
    server.close()
    await a.close()
    await b.close()
  })
  const del = (base: string) =>
    fetch(`${base}/v1/ai_secret`, {
      method: 'DELETE',
      headers: { ...bearer(KEYS.owner), 'content-type': 'application/json' },
      body: '{"name":"OPENAI_API_KEY"}',
    })
  t.equal((await del('https://a.test')).status, 200)
  t.equal((await del('https://b.test')).status, 200, 'b still had it')
  t.equal((await a.requests()).length, 1)
})
