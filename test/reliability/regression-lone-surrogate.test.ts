// Regression (issue 7, found by `npm run reliability`, the hostile run over raw sockets).
//
// JSON may escape a lone surrogate ("\ud800"), which is not Unicode. SQLite stored such a
// name as bytes that are not UTF-8 and read it back as replacement characters, so the name
// did not survive the round trip: "\ud800" and "\udfff" were two secrets that both read
// "���", and the next PATCH or PUT wrote the read-back name over the stored one. Two of
// them in one organization, and a PATCH that changed nothing but metadata answered 500
// (UNIQUE constraint failed). A secret value or type was changed the same way, silently.
//
// Fixed in src/plugins/body.ts: a body whose strings (or keys) hold a lone surrogate is
// refused with the 400 for invalid JSON, naming where, never quoting the value.
import t from 'tap'
import { KEYS, build, call, headers } from '../helper.js'

t.test('a lone surrogate anywhere in a body: a 400 that says where, and nothing stored', async (t) => {
  const app = await build(t)
  const h = headers(KEYS.owner)
  const bodies: [string, string, string, string][] = [
    ['POST', '/v1/ai_secret', '{"name": "\\ud800"}', 'name'],
    ['POST', '/v1/ai_secret', '{"name": "x\\udfffy"}', 'name'],
    ['PUT', '/v1/ai_secret', '{"name": "ok", "secret": "sk-\\udc00-live-123"}', 'secret'],
    ['POST', '/v1/ai_secret', '{"name": "ok", "type": "\\udbff"}', 'type'],
    ['POST', '/v1/ai_secret', '{"name": "ok", "metadata": {"a": ["x", "\\ud800"]}}', 'metadata.a[1]'],
    ['POST', '/v1/ai_secret', '{"name": "ok", "metadata": {"\\ud800": 1}}', 'metadata'],
    ['DELETE', '/v1/ai_secret', '{"name": "OPENAI_API_KEY", "org_name": "\\udfff\\ud800"}', 'org_name'],
  ]
  for (const [method, url, payload, where] of bodies) {
    const res = await call(t, app, { method, url, headers: h, payload })
    t.equal(res.statusCode, 400, `${method} ${payload}`)
    t.match(
      res.body,
      new RegExp(`^Invalid JSON in request body: a string at ${where.replace(/[.[\]$]/g, '\\$&')} .* is not Unicode`),
      where,
    )
    t.notMatch(res.body, 'live-123', 'the value is never quoted back')
  }
  const list = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: h })
  t.same(
    list.json().objects.map((s: { name: string }) => s.name),
    ['OPENAI_API_KEY'],
    'nothing was created, the demo secret is still there',
  )
})

t.test('surrogate pairs are Unicode: an emoji name round-trips exactly', async (t) => {
  const app = await build(t)
  const h = headers(KEYS.owner)
  const name = 'key \ud83d\udd11 \u{1F600}'
  const made = await call(t, app, {
    method: 'POST',
    url: '/v1/ai_secret',
    headers: h,
    payload: JSON.stringify({ name, secret: 's\u{1F511}cret-value' }),
  })
  t.equal(made.statusCode, 200)
  t.equal(made.json().name, name)
  const patched = await call(t, app, {
    method: 'PATCH',
    url: `/v1/ai_secret/${made.json().id}`,
    headers: h,
    payload: { metadata: { a: 1 } },
  })
  t.equal(patched.json().name, name, 'a PATCH that does not rename keeps the name as it was')
  const del = await call(t, app, { method: 'DELETE', url: '/v1/ai_secret', headers: h, payload: { name } })
  t.equal(del.statusCode, 200)
})
