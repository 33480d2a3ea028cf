// jest/secrets.test.cjs: npx jest (CommonJS, no flags)
const { startMockServer } = require('ai-secret-mock')

let mock
beforeAll(async () => {
  mock = await startMockServer()
})
beforeEach(() => mock.reset())
afterAll(() => mock.close())

test('a read-only member cannot delete; the owner can', async () => {
  const del = (key) =>
    fetch(`${mock.url}/v1/ai_secret`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'OPENAI_API_KEY' }),
    })
  expect((await del(mock.apiKeys.byOrg.acme.member)).status).toBe(400)
  expect((await del(mock.apiKeys.byOrg.acme.owner)).status).toBe(200)
  const [, sent] = await mock.requests({ method: 'DELETE' })
  expect(sent.headers.authorization).toBe('Bearer sk-...ner') // a preview, never the key
})
