// mocha/secrets.spec.mjs: npx mocha mocha/
import assert from 'node:assert/strict'
import { startMockServer } from 'ai-secret-mock'

describe('secrets', function () {
  let mock
  before(async function () {
    mock = await startMockServer()
  })
  beforeEach(() => mock.reset())
  after(() => mock.close())

  it('seeds its own organization and deletes its secret', async function () {
    const { keys } = await mock.seed({
      organizations: [{ name: 'initech' }],
      users: [{ email: 'ci@initech.test', memberships: { initech: 'owner' } }],
      api_keys: [{ key: 'sk-initech-ci', user: 'ci@initech.test' }],
      ai_secrets: [{ org: 'initech', name: 'ANTHROPIC_API_KEY', type: 'anthropic', secret: 'sk-ant-test-1234' }],
    })
    const res = await fetch(`${mock.url}/v1/ai_secret`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${keys[0].key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ANTHROPIC_API_KEY' }),
    })
    assert.equal(res.status, 200)
    assert.equal((await res.json()).preview_secret, 'sk-...234')
  })
})
