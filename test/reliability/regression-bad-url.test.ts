// Regression (issue 7, found by test/reliability/hostile.test.ts).
//
// A path Fastify's router cannot decode (`/v1/ai_secret/%ZZ`, `/v1/ai_secret/%C0%AF`) or
// a parameter longer than maxParamLength (2048) is answered by Fastify's default
// frameworkErrors handler before any hook runs: Fastify's own JSON
// (`{"error":"Bad Request","code":"FST_ERR_BAD_URL",...}`, or a 414 that upstream does not
// document), without x-request-id or x-bt-internal-trace-id (CONTRACT 4: every response
// carries them; errors are plain text with the bracketed context).
//
// Fixed (src/app.ts, the Fastify options):
//   frameworkErrors: (error, request, reply) => {
//     reply.header('x-request-id', request.id).header('x-bt-internal-trace-id', request.id)
//     sendApiError(request, reply, new ApiError('bad_request', { reason: error.code ?? 'malformed request' }))
//   },
// (with `import { ApiError, BODY_LIMIT } from './errors.js'` and `sendApiError` from
// './plugins/errors.js'; errorContext already copes with a request no hook has seen.
// Checked: this test passes with it, and so do the others.)
import t from 'tap'
import { KEYS, build, headers } from '../helper.js'

t.test('an undecodable path or an over-long id: a 400 in the documented shape, with the request id', async (t) => {
  const app = await build(t)
  for (const url of [
    '/v1/ai_secret/%ZZ',
    '/v1/ai_secret/%C0%AF',
    '/v1/ai_secret/%E0%A4%A',
    '/%',
    `/v1/ai_secret/${'a'.repeat(3000)}`,
  ]) {
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await app.inject({ method, url, headers: headers(KEYS.owner) })
      t.equal(res.statusCode, 400, `${method} ${url.slice(0, 40)}`)
      t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
      t.match(res.headers['x-request-id'], /^mock::/)
      t.equal(res.headers['x-bt-internal-trace-id'], res.headers['x-request-id'])
      t.match(res.body, /^Malformed request \(FST_ERR_(BAD_URL|MAX_PARAM_LENGTH)\) .*\[request_id=mock::/)
    }
  }
})
