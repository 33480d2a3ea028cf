// Hostile input (issue 7): generated malformed requests through inject and over raw sockets
// to a listening server. Never a 5xx, never a crash, and correct answers afterwards.
// The long run (npm run reliability) sends 10 000+ of each kind.
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { BODY_LIMIT } from '../../src/errors.js'
import {
  DEMO_KEYS,
  DEMO_SECRET_VALUES,
  HOSTILE_SECRET,
  brokenCases,
  canary,
  injectRun,
  injectSend,
  rawRun,
  requestCases,
  type Send,
} from '../support/reliability/hostile.js'
import { LeakWatch } from '../support/reliability/leaks.js'
import { http, rawExchange } from '../support/reliability/net.js'
import { build } from '../support/app.js'

const INJECT = Number(process.env.RELIABILITY_HOSTILE_INJECT ?? 1500)
const RAW = Number(process.env.RELIABILITY_HOSTILE_RAW ?? 300)
const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 2 ** 31)

function watch() {
  const leaks = new LeakWatch()
  for (const k of DEMO_KEYS) leaks.add(k, `api key ${k}`)
  for (const s of [...DEMO_SECRET_VALUES, HOSTILE_SECRET, 'sk-canary-value-Pq4Rw9']) leaks.add(s, 'secret value')
  leaks.add('c2stbW9jay1hY21lLW93bmVyOg==', 'basic credentials')
  const lines: string[] = []
  const stream = new Writable({
    write: (chunk, _enc, cb) => {
      lines.push(String(chunk))
      cb()
    },
  })
  const sink = {
    check: (text: string, where: string) =>
      leaks.check(text, where).map((l) => `${l.what} in ${l.where}: ${l.excerpt}`),
  }
  return { leaks, lines, stream, sink }
}

/**
 * Nothing may be found: no 5xx, no failed expectation, no leak. A 5xx comes with the server's own log line about it.
 */
function verdict(t: Test, problems: string[], lines: string[], what: string) {
  const explained = problems.map((p) => {
    const id = /\[request_id=([^\]]+)\]/.exec(p)?.[1]
    const line =
      id === undefined ? undefined : lines.find((l) => l.includes(`"request_id":"${id}"`) && /"level":(5\d|60)/.test(l))
    return line === undefined ? p : `${p}\n  server log: ${line.slice(0, 600)}`
  })
  t.same(explained.slice(0, 20), [], `${what} (reproduce with RELIABILITY_SEED=${SEED})`)
}

async function secretIds(send: Send): Promise<string[]> {
  const res = await send({
    method: 'GET',
    url: '/v1/ai_secret',
    headers: { authorization: 'Bearer sk-mock-multi-org' },
  })
  return (JSON.parse(res.body) as { objects: { id: string }[] }).objects.map((o) => o.id)
}

t.test(`${INJECT} generated malformed requests through inject (seed ${SEED})`, async (t) => {
  const w = watch()
  const app = await build(t, { logger: { level: 'trace', stream: w.stream }, jwtSecret: 'hostile-jwt-secret' })
  const send = injectSend(app)
  const stats = await injectRun(app, INJECT, SEED, { ids: await secretIds(send) }, w.sink)
  t.comment(
    `statuses ${JSON.stringify(stats.byStatus)}; families ${JSON.stringify(stats.byFamily)}; ${stats.unsendable} that inject cannot send`,
  )
  t.same(await canary(send, 'inject'), [], 'still answers correctly afterwards')
  t.same(Object.keys(Object.prototype), [], 'Object.prototype untouched')
  const problems = [...stats.problems]
  if (app.hasRoute({ method: 'GET', url: '/_mock/requests' })) {
    const journal = await app.inject({ method: 'GET', url: '/_mock/requests' })
    problems.push(...w.sink.check(journal.body, 'journal').map((l) => `LEAK ${l}`))
  }
  problems.push(...w.lines.flatMap((l) => w.sink.check(l, 'log line')).map((l) => `LEAK ${l}`))
  verdict(
    t,
    problems,
    w.lines,
    `no 5xx, no crash, no leak in answers, ${w.lines.length} trace log lines or the journal`,
  )
})

t.test(`a listening server: ${RAW} hostile requests and ${RAW} pieces of broken HTTP over raw sockets`, async (t) => {
  const w = watch()
  const app = await build(t, { logger: { level: 'trace', stream: w.stream }, jwtSecret: 'hostile-jwt-secret' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const send: Send = async (o) => {
    const r = await http(port, { method: o.method, path: o.url, headers: o.headers, body: o.payload })
    return r.kind === 'answer' ? { status: r.status, body: r.body } : { status: 0, body: JSON.stringify(r) }
  }
  const ctx = { ids: await secretIds(send) }
  const stats = await rawRun(port, requestCases(RAW, SEED, ctx), 8, w.sink)
  await rawRun(port, brokenCases(RAW, SEED + 1, ctx), 8, w.sink, stats)
  t.comment(
    `statuses ${JSON.stringify(stats.byStatus)}; ${stats.unanswered} connections closed without an answer (broken framing)`,
  )
  t.same(await canary(send, 'raw'), [], 'still answers correctly afterwards')
  const problems = [...stats.problems, ...w.lines.flatMap((l) => w.sink.check(l, 'log line')).map((l) => `LEAK ${l}`)]
  verdict(t, problems, w.lines, `no 5xx, no crash, no leak in answers or ${w.lines.length} trace log lines`)
})

t.test(
  'over the limit: a complete 413 over a real socket, by length and chunked; the connection is drained',
  async (t) => {
    const app = await build(t)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as AddressInfo).port
    const big = Buffer.alloc(2 * BODY_LIMIT, 0x61)
    const head = (extra: string) =>
      Buffer.from(
        `POST /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer sk-mock-acme-owner\r\ncontent-type: application/json\r\n${extra}\r\n`,
      )
    const byLength = await rawExchange(port, [head(`content-length: ${big.length}\r\n`), big], {
      end: false,
      timeoutMs: 5000,
      expect: 1,
    })
    t.equal(byLength.responses[0]?.status, 413)
    t.match(byLength.responses[0]?.body, /^Request body is larger than the limit of 1048576 bytes/)
    t.equal(byLength.reset, false, 'no reset: the client wrote the whole body and read the answer')
    const chunked = await rawExchange(
      port,
      [
        head('transfer-encoding: chunked\r\n'),
        Buffer.from(`${big.length.toString(16)}\r\n`),
        big,
        Buffer.from('\r\n0\r\n\r\n'),
      ],
      { end: false, timeoutMs: 5000, expect: 1 },
    )
    t.equal(chunked.responses[0]?.status, 413)
    const exact = JSON.stringify({
      name: 'x',
      pad: 'a'.repeat(BODY_LIMIT - JSON.stringify({ name: 'x', pad: '' }).length),
    })
    t.equal(Buffer.byteLength(exact), BODY_LIMIT)
    const atLimit = await http(port, {
      method: 'DELETE',
      path: '/v1/ai_secret',
      headers: { authorization: 'Bearer sk-mock-acme-owner', 'content-type': 'application/json' },
      body: exact,
    })
    t.match(atLimit, { kind: 'answer', status: 400 }, 'exactly 1 MiB is read and answered (the name is absent)')
  },
)

t.test('nesting cannot exhaust the stack', async (t) => {
  const app = await build(t)
  const h = { authorization: 'Bearer sk-mock-acme-owner', 'content-type': 'application/json' }
  for (const payload of [
    '['.repeat(BODY_LIMIT),
    '{"a":'.repeat(200_000),
    `{"name":"x","metadata":${'{"a":'.repeat(65)}1${'}'.repeat(65)}}`,
  ]) {
    const res = await app.inject({ method: 'POST', url: '/v1/ai_secret', headers: h, payload })
    t.equal(res.statusCode, 400)
    t.match(res.body, /nested deeper than 64 levels/)
  }
  // Brackets inside strings are not nesting; 63 levels of metadata are stored, merged and answered.
  const inString = await app.inject({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: h,
    payload: JSON.stringify({ name: `\\"${'['.repeat(10_000)}` }),
  })
  t.equal(inString.statusCode, 400)
  t.match(inString.body, /^Missing delete access/)
  const deep = (n: number): object => (n === 0 ? { leaf: 1 } : { a: deep(n - 1) })
  const made = await app.inject({
    method: 'POST',
    url: '/v1/ai_secret',
    headers: h,
    payload: { name: 'deep', metadata: deep(62) },
  })
  t.equal(made.statusCode, 200)
  const patched = await app.inject({
    method: 'PATCH',
    url: `/v1/ai_secret/${made.json().id}`,
    headers: h,
    payload: { metadata: deep(62) },
  })
  t.equal(patched.statusCode, 200)
})
