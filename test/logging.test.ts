import { Writable } from 'node:stream'
import t from 'tap'
import { DEMO_SECRETS, KEYS, build, call, headers } from './helper.js'

t.test('log lines never hold an Authorization value, an API key or a secret value', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) })
  const app = await build(t, { logger: { level: 'trace', stream } })
  const bodies = [
    { name: 'OPENAI_API_KEY' },
    { name: 'OPENAI_API_KEY', secret: 'sk-live-in-body-000' },
    '{"name": sk-live-in-body-000',
    { name: 'x', org_name: 'nope' },
  ]
  for (const key of [...Object.values(KEYS), 'sk-unknown-key-111']) {
    for (const payload of bodies) await call(t, app, { method: 'DELETE', url: '/v1/ai_secret?x=1', headers: headers(key), payload })
  }
  await app.inject({ method: 'GET', url: '/nowhere', headers: headers(KEYS.owner) })
  t.ok(lines.length >= 20, `${lines.length} lines logged`)
  const all = lines.join('')
  for (const s of [...Object.values(KEYS), 'sk-unknown-key-111', 'sk-live-in-body-000', ...DEMO_SECRETS, 'Bearer']) t.notMatch(all, s, `no ${s}`)
  t.match(JSON.parse(lines.find((l) => l.includes('"status":200'))!), { method: 'DELETE', url: '/v1/ai_secret?x=1', status: 200, request_id: /^mock::/ })
})
