// node-test/secrets.test.mjs: node --test node-test/*.test.mjs
import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { startMockServer } from 'ai-secret-mock'

let mock
before(async () => {
  mock = await startMockServer() // a free port, in memory, the demo seed
})
beforeEach(() => mock.reset())
after(() => mock.close())

test('deletes the secret once', async () => {
  const del = () =>
    fetch(`${mock.url}/v1/ai_secret`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${mock.apiKeys.byOrg.acme.owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'OPENAI_API_KEY' }),
    })
  assert.equal((await del()).status, 200)
  assert.equal((await del()).status, 400)
  assert.deepEqual((await mock.requests()).map((r) => r.status), [200, 400])
})
