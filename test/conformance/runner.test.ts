import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { conformance, type ConformanceIo } from '../../src/conformance/cli.js'
import { runScenario } from '../../src/conformance/scenario.js'
import type { Transcript } from '../../src/conformance/transcript.js'
import { startMockServer, type MockServer } from '../../src/start-mock-server.js'
import { MOCK_RUN } from '../../scripts/conformance-record.js'
import { startProxy, type Forwarded } from '../support/conformance-proxy.js'
import { KEYS } from '../support/app.js'

// How a run ends when the server or the network misbehaves, or the user interrupts it: it
// stops, says why, and removes what it created; what it cannot remove, it names.

const tmp = () => mkdtempSync(join(tmpdir(), 'conformance-'))

async function leftovers(mock: MockServer): Promise<string[]> {
  const state = (await (await fetch(`${mock.url}/_mock/state`)).json()) as { ai_secrets: { name: string }[] }
  return state.ai_secrets.map((s) => s.name).filter((n) => n.startsWith('aismock-conformance-'))
}

async function mockFor(t: Test): Promise<MockServer> {
  const mock = await startMockServer({ logger: false })
  t.teardown(() => mock.close())
  return mock
}

function io(over: Partial<ConformanceIo> = {}) {
  const out = { stdout: '', stderr: '' }
  const value: ConformanceIo = {
    env: { BRAINTRUST_API_KEY: MOCK_RUN.apiKey },
    stdout: (s) => (out.stdout += s),
    stderr: (s) => (out.stderr += s),
    ...over,
  }
  return { io: value, out }
}

const answer = (status: number, body: string, contentType = 'text/plain'): Forwarded => ({
  method: '',
  url: '',
  status,
  headers: { 'content-type': contentType },
  body,
})

t.test('a connection dropped mid-run: the run stops, says where, cleans up; exit 1', async (t) => {
  const mock = await mockFor(t)
  await mock.fault({ method: 'PATCH', drop: true, times: 1 })
  const out = join(tmp(), 'run.json')
  const { io: cio, out: printed } = io()
  const code = await conformance(['--base-url', mock.url, '--org-name', 'acme', '--out', out], cio)
  t.equal(code, 1)
  const transcript = JSON.parse(readFileSync(out, 'utf8')) as Transcript
  t.match(transcript.aborted, /^PATCH \/v1\/ai_secret\/<a\.id>: \S/, 'the reason names the request, normalised')
  t.equal(transcript.exchanges.length, 9)
  t.match(
    printed.stdout,
    /\n9 exchanges recorded in .*run\.json \(incomplete: PATCH \/v1\/ai_secret\/<a\.id>: .*\)\ncreated 3 secrets .*, removed 3; nothing left behind\n$/,
  )
  t.match(printed.stderr, /^the run stopped early: PATCH \/v1\/ai_secret\/<a\.id>: /)
  t.same(await leftovers(mock), [])
})

t.test('no answer within the time allowed: the run stops and cleans up', async (t) => {
  const mock = await mockFor(t)
  await mock.fault({ method: 'PATCH', delay_ms: 60_000, times: 1 })
  const result = await runScenario({ baseUrl: mock.url, ...MOCK_RUN, timeoutMs: 3000 })
  t.equal(result.transcript.aborted, 'PATCH /v1/ai_secret/<a.id>: no answer within 3 s')
  t.same(result.left, [])
  t.same(await leftovers(mock), [])
})

t.test('a server that cannot be reached: exit 1, nothing created', async (t) => {
  const mock = await startMockServer({ logger: false })
  const url = mock.url
  await mock.close()
  const { io: cio, out: printed } = io()
  t.equal(await conformance(['--base-url', url, '--out', join(tmp(), 'run.json')], cio), 1)
  t.match(
    printed.stdout,
    /\n0 exchanges recorded in .* \(incomplete: OPTIONS \/v1\/ai_secret: .*ECONNREFUSED.*\)\ncreated 0 secrets \(none\), removed 0; nothing left behind\n$/,
  )
})

t.test(
  'a create that answers something else than a record: the run stops; a record it made is found by name and removed',
  async (t) => {
    const mock = await mockFor(t)
    const proxy = await startProxy(mock.url, (a) => (a.method === 'POST' ? { ...a, status: 200, body: '{' } : a))
    t.teardown(() => proxy.close())
    const result = await runScenario({ baseUrl: proxy.url, ...MOCK_RUN })
    t.equal(result.transcript.aborted, 'create answered 200, not a record: {')
    t.equal(result.created.length, 1, 'the cleanup found it')
    t.same(result.left, [])
    t.same(await leftovers(mock), [])

    const foreign = await runScenario({ baseUrl: mock.url, apiKey: KEYS.owner, orgName: 'initech' })
    t.match(
      foreign.transcript.aborted,
      /^create answered 403, not a record: \{"Code":"ForbiddenError","Message":"Missing read access to organization <org-1>, or the organization does not exist/,
    )
  },
)

t.test('what the cleanup cannot remove, it names with why', async (t) => {
  const mock = await mockFor(t)
  const ids = new Map<string, string>()
  // The cleanup's deletes: a's is answered 400 though it worked (a is gone: not a leftover),
  // b's is refused (500) and c's connection is dropped, both without reaching the mock.
  const proxy = await startProxy(
    mock.url,
    (a, forwarded) => {
      if (a.method !== 'DELETE' && a.status === 200 && a.body.startsWith('{"id"')) {
        const { id, name } = JSON.parse(a.body) as { id: string; name: string }
        ids.set(id, name.slice(-1))
      }
      if (!forwarded && a.status === 599) return 'drop'
      if (a.method === 'DELETE' && ids.get(a.url.slice('/v1/ai_secret/'.length)) === 'a')
        return { ...a, status: 400, body: 'no' }
      return a
    },
    (r) => {
      if (r.method !== 'DELETE') return undefined
      const which = ids.get(r.url.slice('/v1/ai_secret/'.length))
      if (which === 'b') return answer(500, 'Internal server error')
      if (which === 'c') return answer(599, '')
      return undefined
    },
  )
  t.teardown(() => proxy.close())
  const controller = new AbortController()
  const result = await runScenario({
    baseUrl: proxy.url,
    ...MOCK_RUN,
    signal: controller.signal,
    log: (line) => {
      if (line.includes('put-create-c')) controller.abort()
    },
  })
  t.equal(result.transcript.aborted, 'interrupted')
  t.same(result.transcript.exchanges.map((e) => e.name).slice(-1), ['put-create-c'])
  t.match(
    result.left.map((l) => [l.name.slice(-1), l.reason]),
    [
      ['b', 'DELETE answered 500'],
      ['c', /^DELETE \/v1\/ai_secret\/[0-9a-f-]{36}: \S/],
    ],
  )
  t.equal(result.left.length, 2)
  t.same(
    (await leftovers(mock)).map((n) => n.slice(-1)),
    ['b', 'c'],
    'exactly what it said',
  )
})

t.test('lists the cleanup cannot make: named, with why', async (t) => {
  const mock = await mockFor(t)
  const controller = new AbortController()
  // Once the run is interrupted, the cleanup's list of a is refused (503), that of b dropped.
  const proxy = await startProxy(
    mock.url,
    (a, forwarded) => (!forwarded && a.status === 599 ? 'drop' : a),
    (r) => {
      if (!controller.signal.aborted || r.method !== 'GET' || !r.url.startsWith('/v1/ai_secret?ai_secret_name='))
        return undefined
      return r.url.includes('-a&') ? answer(503, 'Service unavailable') : answer(599, '')
    },
  )
  t.teardown(() => proxy.close())
  const result = await runScenario({
    baseUrl: proxy.url,
    ...MOCK_RUN,
    signal: controller.signal,
    log: (l) => l.includes('create-b') && controller.abort('stop'),
  })
  t.equal(result.transcript.aborted, 'interrupted (stop)')
  t.match(
    result.left.map((l) => [l.name.slice(-1), l.id, l.reason]),
    [
      ['a', '?', 'could not list it: GET answered 503'],
      ['b', '?', /^could not list it: GET \/v1\/ai_secret: \S/],
    ],
  )
  t.equal(result.left.length, 2)
  t.same(await leftovers(mock), [], 'both were removed by id all the same; the listing could not confirm it')
})

t.test('a bug mid-run (here, in the log callback) still cleans up, then rejects', async (t) => {
  const mock = await mockFor(t)
  const boom = new Error('boom')
  await t.rejects(
    runScenario({
      baseUrl: mock.url,
      ...MOCK_RUN,
      log: (l) => {
        if (l.includes('create-b')) throw boom
      },
    }),
    boom,
  )
  t.same(await leftovers(mock), [])
})

t.test(
  'SIGINT and SIGTERM in this process: the run stops, cleans up, exits 130 / 143; a second signal exits at once',
  async (t) => {
    const mock = await mockFor(t)
    let held: (() => void) | null = null
    let holdDeletes = false
    const proxy = await startProxy(mock.url, (a) => {
      if ((a.method === 'PUT' && held !== null) || (holdDeletes && a.method === 'DELETE')) {
        held?.()
        held = null
        return 'hold'
      }
      return a
    })
    t.teardown(() => proxy.close())
    const args = ['--base-url', proxy.url, '--org-name', 'acme', '--out', join(tmp(), 'run.json')]
    const listeners = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') }

    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const holding = new Promise<void>((resolve) => (held = resolve))
      const { io: cio, out } = io()
      const running = conformance(args, cio)
      await holding
      process.emit(signal)
      t.equal(await running, code, signal)
      t.match(
        out.stdout,
        new RegExp(`${signal}: stopping, and removing what this run created\\n[^]*removed 3; nothing left behind\\n$`),
      )
      t.same(await leftovers(mock), [])
      t.equal(process.listenerCount(signal), listeners[signal], 'its handlers are gone')
    }

    // The second signal arrives while the cleanup's first delete is held.
    let exited: (code: number) => void
    const exit = new Promise<number>((resolve) => (exited = resolve))
    const holding = new Promise<void>((resolve) => (held = resolve))
    const { io: cio, out } = io({ exit: (c) => exited(c) })
    void conformance(args, cio)
    await holding
    holdDeletes = true
    const deleting = new Promise<void>((resolve) => (held = resolve))
    process.emit('SIGINT')
    await deleting
    process.emit('SIGTERM')
    t.equal(await exit, 143)
    t.match(
      out.stderr,
      'SIGTERM again: stopping without finishing the cleanup; look for secrets named aismock-conformance-… on the ' +
        'account\n',
    )
  },
)
