// Regression (issue 7, found by test/reliability/hostile.test.ts).
//
// GET /v1/ai_secret?limit=1e21 (or 99999999999999999999, or 2^63) answers 500: the value is
// an integer >= 0, so it passes validation, and SQLite refuses it in LIMIT ("datatype
// mismatch"). `limit=Infinity` passes too (Ajv coerces "Infinity" to a number it takes for an
// integer) and fails the same way.
//
// Fixed: in Repository.listSecrets (src/repository.ts), a limit that is not a safe
// integer means no limit:
//   limit: q.limit === undefined || !Number.isSafeInteger(q.limit) ? -1 : q.limit,
// (checked: this test passes with it).
import t from 'tap'
import { KEYS, build, call, headers } from '../helper.js'

t.test('a limit past what SQLite takes is no limit: 200 with everything', async (t) => {
  const app = await build(t)
  for (const limit of ['1e21', '99999999999999999999', '9223372036854775808', '1e308', '9007199254740993']) {
    const res = await call(t, app, { method: 'GET', url: `/v1/ai_secret?limit=${limit}`, headers: headers(KEYS.multi) })
    t.equal(res.statusCode, 200, `limit=${limit}`)
    t.equal(res.json().objects?.length, 2, `limit=${limit}: both secrets`)
  }
})

t.test('limit=Infinity: no limit, or a 400 naming limit; never a 500', async (t) => {
  const app = await build(t)
  for (const limit of ['Infinity', '-Infinity', 'NaN']) {
    const res = await call(t, app, { method: 'GET', url: `/v1/ai_secret?limit=${limit}`, headers: headers(KEYS.multi) })
    if (res.statusCode === 200) t.equal(res.json().objects.length, 2, `limit=${limit}: no limit`)
    else {
      t.equal(res.statusCode, 400, `limit=${limit}`)
      t.match(res.body, /"path": \[\n\s+"limit"\n\s+\]/, `limit=${limit}: the issue names limit`)
    }
  }
})
