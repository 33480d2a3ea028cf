// node-test/msw.test.mjs: node --test node-test/*.test.mjs (MSW: no port, no socket)
import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { setupServer } from 'msw/node'
import { createMswMock } from 'ai-secret-mock/msw'

let mock
let server
before(async () => {
  mock = await createMswMock() // answers https://api.braintrust.dev/v1/*
  server = setupServer(...mock.handlers)
  server.listen({ onUnhandledRequest: 'error' })
})
beforeEach(() => mock.reset())
after(async () => {
  server.close()
  await mock.close()
})

// The code under test, unchanged: it calls the real API's URL.
const deleteSecret = (key, name) =>
  fetch('https://api.braintrust.dev/v1/ai_secret', {
    method: 'DELETE',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  })

test('deletes the secret once', async () => {
  const key = mock.apiKeys.byOrg.acme.owner
  assert.equal((await deleteSecret(key, 'OPENAI_API_KEY')).status, 200)
  assert.equal((await deleteSecret(key, 'OPENAI_API_KEY')).status, 400)
  assert.deepEqual((await mock.requests()).map((r) => r.status), [200, 400])
})

test('a dropped connection is a network error', async () => {
  await mock.fault({ method: 'DELETE', drop: true, times: 1 })
  await assert.rejects(deleteSecret(mock.apiKeys.byOrg.acme.owner, 'OPENAI_API_KEY'), TypeError)
})
