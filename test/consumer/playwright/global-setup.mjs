// playwright/global-setup.mjs: one mock for the whole run; tests get its URL from the environment
import { startMockServer } from 'ai-secret-mock'

export default async function globalSetup() {
  const mock = await startMockServer()
  process.env.MOCK_URL = mock.url
  process.env.MOCK_OWNER_KEY = mock.apiKeys.byOrg.acme.owner
  return () => mock.close() // the global teardown
}
