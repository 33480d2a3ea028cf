// vitest/msw.test.mjs: npx vitest run (MSW in each pool: forks, threads, vmThreads, vmForks)
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest'
import { setupServer } from 'msw/node'
import { createMswMock } from 'ai-secret-mock/msw'

let mock
let server
beforeAll(async () => {
  mock = await createMswMock()
  server = setupServer(...mock.handlers)
  server.listen({ onUnhandledRequest: 'error' })
})
beforeEach(() => mock.reset())
afterAll(async () => {
  server.close()
  await mock.close()
})

test('the official client\u2019s shapes: a page of one, then DELETE by id', async () => {
  const headers = { authorization: `Bearer ${mock.apiKeys.byOrg.acme.owner}`, 'content-type': 'application/json' }
  const page = await (await fetch('https://api.braintrust.dev/v1/ai_secret?limit=1', { headers })).json()
  expect(page.objects).toHaveLength(1)
  const del = await fetch(`https://api.braintrust.dev/v1/ai_secret/${page.objects[0].id}`, { method: 'DELETE', headers })
  expect(del.status).toBe(200)
  await mock.fault({ status: 429, retry_after: 1, times: 1 })
  const limited = await fetch('https://api.braintrust.dev/v1/ai_secret', { headers })
  expect(limited.status).toBe(429)
  expect(limited.headers.get('retry-after')).toBe('1')
})
