import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { MockControlError, startMockServer, type MockServer } from '../src/index.js'
import { KEYS } from './support/app.js'

async function start(t: Test, options: Parameters<typeof startMockServer>[0] = {}): Promise<MockServer> {
  const server = await startMockServer({ logger: false, ...options })
  t.teardown(() => server.close())
  return server
}

const deleteSecret = (server: MockServer, key: string, name: string, init: RequestInit = {}) =>
  fetch(`${server.url}/v1/ai_secret`, {
    method: 'DELETE',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...(init.headers as Record<string, string>),
    },
    body: JSON.stringify({ name }),
  })

/**
 * A small client that retries 429s and 5xx the way the official one does: `retry-after-ms`
 * first, then `Retry-After` in seconds; at most `retries` times.
 */
async function withRetries(send: () => Promise<Response>, retries: number, waits: number[]): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const res = await send()
    if ((res.status !== 429 && res.status < 500) || attempt === retries) return res
    await res.arrayBuffer()
    const ms = Number(res.headers.get('retry-after-ms') ?? Number(res.headers.get('retry-after') ?? '1') * 1000)
    waits.push(ms)
    await new Promise((resolve) => setTimeout(resolve, ms))
  }
}

t.test('listens on a free port on 127.0.0.1, in memory, with the demo seed and its keys', async (t) => {
  const server = await start(t)
  t.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.same(server.apiKeys.byOrg, {
    acme: { owner: KEYS.owner, member: KEYS.member },
    globex: { owner: KEYS.globexOnly },
  })
  t.same(server.apiKeys.byUser, {
    'alice@acme.test': KEYS.owner,
    'bob@multi.test': KEYS.multi,
    'val@acme.test': KEYS.member,
  })
  t.same(
    server.apiKeys.list.map((k) => k.key),
    [KEYS.owner, KEYS.multi, KEYS.globexOnly, KEYS.member],
  )
  t.match(server.apiKeys.list[1], {
    user: 'bob@multi.test',
    org: null,
    orgs: [
      { name: 'acme', role: 'owner' },
      { name: 'globex', role: 'owner' },
    ],
  })

  const res = await deleteSecret(server, server.apiKeys.byOrg.acme!.owner!, 'OPENAI_API_KEY')
  t.equal(res.status, 200)
  t.equal(((await res.json()) as { name: string }).name, 'OPENAI_API_KEY')
  const health = await fetch(`${server.url}/_mock/health`)
  t.equal(health.headers.get('content-type'), 'application/json; charset=utf-8')
  t.same(await health.json(), { status: 'ok' })
})

t.test('a retrying client recovers from two 429s by honouring Retry-After', async (t) => {
  const server = await start(t)
  const rule = await server.fault({ method: 'DELETE', path: '/v1/ai_secret', status: 429, retry_after: 1, times: 2 })
  t.match(rule, { id: /^fault_\d+$/, status: 429, times: 2, matched: 0 })

  const waits: number[] = []
  const began = performance.now()
  const res = await withRetries(() => deleteSecret(server, KEYS.owner, 'OPENAI_API_KEY'), 2, waits)
  t.equal(res.status, 200)
  t.same(waits, [1000, 1000], 'waited what Retry-After said, twice')
  t.ok(performance.now() - began >= 1900, 'the waits really happened')

  const journal = await server.requests({ method: 'DELETE', path: '/v1/ai_secret' })
  t.same(
    journal.map((e) => e.status),
    [429, 429, 200],
    'three attempts, as the journal shows',
  )
  t.same(
    journal.map((e) => e.headers.authorization),
    ['Bearer sk-...ner', 'Bearer sk-...ner', 'Bearer sk-...ner'],
  )
})

t.test('retry-after-ms and x-should-retry reach the client', async (t) => {
  const server = await start(t)
  await server.fault({ status: 500, retry_after_ms: 50, should_retry: false, times: 1 })
  await server.fault({ status: 429, retry_after_ms: 20, times: 1 })
  const first = await deleteSecret(server, KEYS.owner, 'OPENAI_API_KEY')
  t.equal(first.status, 500)
  t.equal(first.headers.get('retry-after-ms'), '50')
  t.equal(first.headers.get('x-should-retry'), 'false')
  t.equal(first.headers.get('retry-after'), null)
  await first.text()
  const waits: number[] = []
  const res = await withRetries(() => deleteSecret(server, KEYS.owner, 'OPENAI_API_KEY'), 2, waits)
  t.equal(res.status, 200)
  t.same(waits, [20])
})

t.test('a dropped connection is a network error for fetch, and changes nothing', async (t) => {
  const server = await start(t)
  await server.fault({ path: '/v1/ai_secret', drop: true, times: 1 })
  await t.rejects(deleteSecret(server, KEYS.owner, 'OPENAI_API_KEY'), TypeError, 'fetch failed')
  const [entry] = await server.requests()
  t.match(entry, { method: 'DELETE', status: null })
  const again = await deleteSecret(server, KEYS.owner, 'OPENAI_API_KEY')
  t.equal(again.status, 200, 'the secret was still there')
})

t.test('Prefer: delay over HTTP', async (t) => {
  const server = await start(t)
  const began = performance.now()
  const res = await deleteSecret(server, KEYS.owner, 'OPENAI_API_KEY', { headers: { prefer: 'delay=200' } })
  t.equal(res.status, 200)
  t.ok(performance.now() - began >= 180)
  const [entry] = await server.requests()
  t.ok(entry!.duration_ms >= 180, `journal duration ${entry!.duration_ms}`)
})

t.test('rate limit over HTTP: 429 with Retry-After', async (t) => {
  const server = await start(t, { rateLimitPerMinute: 2 })
  for (let i = 0; i < 2; i++) t.equal((await deleteSecret(server, KEYS.member, 'x')).status, 400)
  const res = await deleteSecret(server, KEYS.member, 'x')
  t.equal(res.status, 429)
  t.match(res.headers.get('retry-after'), /^(59|60)$/)
})

t.test('seed() adds keys to apiKeys; reset() goes back; errors reject with the message', async (t) => {
  const server = await start(t, { deterministic: true })
  const created = await server.seed({
    organizations: [{ name: 'worker-7' }],
    users: [{ email: 'w7@test', memberships: { 'worker-7': 'owner' } }],
    api_keys: [{ key: 'sk-worker-seven', user: 'w7@test' }],
    ai_secrets: [{ org: 'worker-7', name: 'K', secret: 'v-1234567890' }],
  })
  t.match(created, {
    organizations: [{ name: 'worker-7' }],
    keys: [{ key: 'sk-worker-seven', user: 'w7@test', orgs: [{ name: 'worker-7', role: 'owner' }] }],
  })
  t.equal(server.apiKeys.byOrg['worker-7']!.owner, 'sk-worker-seven')
  t.equal((await deleteSecret(server, 'sk-worker-seven', 'K')).status, 200)
  t.same((await server.seed({ organizations: [{ name: 'bare' }] })).keys, [], 'no keys in the data, none added')

  await t.rejects(server.seed({ api_keys: [{ key: 'sk-x', user: 'nobody@test' }] }), MockControlError)
  await t.rejects(server.seed({ api_keys: [{ key: 'sk-x', user: 'nobody@test' }] }), {
    status: 400,
    message: /^Invalid seed: \$\.api_keys\[0\]\.user: unknown user/,
  })
  await t.rejects(server.fault({ status: 600 } as never), { status: 400, message: /^Invalid fault rule: \$\.status/ })

  const seeded = await server.reset()
  t.equal(seeded.api_keys.length, 4)
  t.equal(server.apiKeys.byOrg['worker-7'], undefined, 'reset forgets the added keys')
  t.equal(server.apiKeys.list.length, 4)
  t.same(await server.requests(), [], 'reset empties the journal')
  t.equal((await deleteSecret(server, 'sk-worker-seven', 'K')).status, 401)
  await server.fault({ status: 500 })
  await server.clearFaults()
  t.equal((await deleteSecret(server, KEYS.owner, 'OPENAI_API_KEY')).status, 200)
})

t.test('the helpers carry ADMIN_TOKEN; raw requests without it get 401', async (t) => {
  const server = await start(t, { adminToken: 'tok-123' })
  t.equal((await fetch(`${server.url}/_mock/state`)).status, 401)
  t.equal((await fetch(`${server.url}/_mock/state`, { headers: { authorization: 'Bearer tok-123' } })).status, 200)
  await server.fault({ status: 500, times: 1 })
  t.equal((await deleteSecret(server, KEYS.owner, 'OPENAI_API_KEY')).status, 500)
  t.equal((await server.requests()).length, 1)
  await server.reset()
})

t.test('many parallel workers on one instance, one organization each', async (t) => {
  const server = await start(t)
  const workers = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const org = `worker-${i}`
      const { keys } = await server.seed({
        organizations: [{ name: org }],
        users: [{ email: `${org}@test`, memberships: { [org]: 'owner' } }],
        api_keys: [{ key: `sk-${org}-key`, user: `${org}@test` }],
        ai_secrets: [{ org, name: 'OPENAI_API_KEY', secret: `sk-${org}-value` }],
      })
      const key = keys[0]!.key
      // Faults narrowed by key hit this worker only.
      await server.fault({ key, status: 500, times: 1 })
      t.equal((await deleteSecret(server, key, 'OPENAI_API_KEY')).status, 500)
      const res = await deleteSecret(server, key, 'OPENAI_API_KEY')
      const mine = await server.requests({ org })
      return { status: res.status, body: (await res.json()) as { name: string; org_id: string }, mine }
    }),
  )
  t.same(
    workers.map((w) => w.status),
    Array(8).fill(200),
  )
  t.equal(new Set(workers.map((w) => w.body.org_id)).size, 8, 'each worker touched only its own organization')
  for (const [i, w] of workers.entries()) {
    t.same(
      w.mine.map((e) => [e.method, e.org, e.status]),
      [
        ['DELETE', `worker-${i}`, 500],
        ['DELETE', `worker-${i}`, 200],
      ],
      'each worker reads only its own requests',
    )
  }
  const state = (await (await fetch(`${server.url}/_mock/state`)).json()) as { ai_secrets: { org_id: string }[] }
  t.equal(state.ai_secrets.length, 2, 'only the demo secrets are left')
})

t.test('options: seed from a file or none; port in use rejects', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seed-'))
  const file = join(dir, 'seed.json')
  writeFileSync(
    file,
    JSON.stringify({
      organizations: [{ name: 'filed' }],
      users: [{ email: 'f@test', memberships: { filed: 'member' } }],
      api_keys: [{ key: 'sk-from-file', user: 'f@test' }],
    }),
  )
  const fromFile = await start(t, { seed: file })
  t.same(fromFile.apiKeys.byOrg, { filed: { member: 'sk-from-file' } })

  const none = await start(t, { seed: false })
  t.same(none.apiKeys, { list: [], byUser: {}, byOrg: {} })
  const port = Number(new URL(none.url).port)
  await t.rejects(startMockServer({ logger: false, port }), /EADDRINUSE|address already in use/)
})

t.test('close() does not wait for a long delay', async (t) => {
  const server = await startMockServer({ logger: false })
  await server.fault({ delay_ms: 30_000 })
  const pending = deleteSecret(server, KEYS.owner, 'OPENAI_API_KEY').then(
    (res) => res.status,
    () => 'network error',
  )
  await new Promise((resolve) => setTimeout(resolve, 100))
  const began = performance.now()
  await server.close()
  t.ok(performance.now() - began < 5000, 'closed well before the delay would have ended')
  t.ok(['network error', 200].includes(await pending))
})

t.test('after close(), the helpers reject with an error that says so, and close() again resolves', async (t) => {
  const server = await startMockServer({ logger: false })
  await server.close()
  const calls: [string, () => Promise<unknown>][] = [
    ['reset', () => server.reset()],
    ['seed', () => server.seed({ organizations: [{ name: 'late' }] })],
    ['requests', () => server.requests()],
    ['fault', () => server.fault({ status: 500 })],
    ['clearFaults', () => server.clearFaults()],
  ]
  for (const [name, call] of calls) {
    const err = (await call().then(
      () => null,
      (e: unknown) => e,
    )) as Error & { code?: string }
    t.type(err, Error, `${name}() rejects`)
    t.equal(
      err.message,
      `ai-secret-mock: ${name}() was called after close(): the mock server is closed`,
      `${name}(): a message that names the cause`,
    )
    t.not(err.code, 'FST_ERR_REOPENED_CLOSE_SERVER')
  }
  await t.resolves(server.close(), 'a second close() resolves')
  const res = await fetch(`${server.url}/_mock/health`).then(
    () => 'answered',
    () => 'refused',
  )
  t.equal(res, 'refused', 'nothing listens any more')
})

t.test('the package exports them by name (package.json exports, after npm run build)', async (t) => {
  // A variable specifier: tsc checks this file before the build has written dist/.
  const name = 'ai-secret-mock'
  const pkg = (await import(name)) as Record<string, unknown>
  for (const fn of ['startMockServer', 'buildApp', 'MockControlError', 'SeedError']) t.type(pkg[fn], 'function', fn)
})
