// vitest/secrets.test.mjs: npx vitest run (any pool: forks, threads, vmThreads, vmForks)
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest'
import { startMockServer } from 'ai-secret-mock'

let mock
beforeAll(async () => {
  mock = await startMockServer()
})
beforeEach(() => mock.reset())
afterAll(() => mock.close())

test('a 429 first, then the deletion', async () => {
  await mock.fault({ method: 'DELETE', path: '/v1/ai_secret', status: 429, retry_after: 1, times: 1 })
  const del = () =>
    fetch(`${mock.url}/v1/ai_secret`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${mock.apiKeys.byOrg.acme.owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'OPENAI_API_KEY' }),
    })
  const first = await del()
  expect(first.status).toBe(429)
  expect(first.headers.get('retry-after')).toBe('1')
  expect((await del()).status).toBe(200)
})
