// Regression (issue 7, found by test/reliability/hostile.test.ts).
//
// A request Node's HTTP parser refuses (duplicate Content-Length, a control character in a
// header, a bad chunk size...) goes to Fastify's clientError handler, which logs
// `{ err }` at trace level. Node puts the raw bytes it read on `err.rawPacket`, and pino
// writes that Buffer out whole: the Authorization header and the body, secret values
// included, end up in the log (CONTRACT 1: "Authorization and secret values are never
// logged").
//
// Fixed: add 'err.rawPacket' to REDACT in src/app.ts (checked: the line then
// reads "rawPacket":"[redacted]" and this test passes).
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import t from 'tap'
import { expandBuffers } from '../../scripts/reliability/leaks.js'
import { rawExchange } from '../../scripts/reliability/net.js'
import { KEYS, build } from '../helper.js'

t.test('an unparseable request is logged without its raw bytes', async (t) => {
  const lines: string[] = []
  const stream = new Writable({
    write: (chunk, _enc, cb) => {
      lines.push(String(chunk))
      cb()
    },
  })
  const app = await build(t, { logger: { level: 'trace', stream } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const secret = 'sk-live-raw-packet-value-123'
  const body = JSON.stringify({ name: 'OPENAI_API_KEY', secret })
  const broken = [
    `content-length: ${body.length}\r\ncontent-length: ${body.length + 1}\r\n`,
    `content-length: ${body.length}\r\nx-bad: a\u0001b\r\n`,
    'transfer-encoding: chunked\r\n\r\nzz\r\n',
  ]
  for (const extra of broken) {
    const raw = `PUT /v1/ai_secret HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${KEYS.owner}\r\ncontent-type: application/json\r\n${extra}\r\n${body}`
    const res = await rawExchange(port, [Buffer.from(raw, 'latin1')], { end: true, timeoutMs: 2000, expect: 1 })
    t.equal(res.responses[0]?.status, 400, 'Node refuses it')
  }
  const logged = lines.map(expandBuffers).join('\n')
  t.ok(
    lines.some((l) => l.includes('client error')),
    'the client errors are logged',
  )
  t.notMatch(logged, KEYS.owner, 'no API key')
  t.notMatch(logged, secret, 'no secret value')
  t.notMatch(logged, /"rawPacket":\{"type":"Buffer"/, 'no raw packet')
})
