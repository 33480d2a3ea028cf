// types/check.cts: the same from CommonJS (tsc -p types, skipLibCheck false)
import { buildApp, startMockServer, MockControlError, type FaultRule, type JournalEntry, type MockServer } from 'ai-secret-mock'

export async function check(): Promise<string> {
  const mock: MockServer = await startMockServer({ seed: false, logger: 'warn' })
  const rule: FaultRule = await mock.fault({ method: 'DELETE', status: 500, times: 1 })
  const sent: JournalEntry[] = await mock.requests({ path: '/v1/*' })
  const app = await buildApp()
  const health = (await app.inject({ method: 'GET', url: '/_mock/health' })).json<{ status: string }>()
  await app.close()
  await mock.close()
  return `${rule.id} ${sent.length} ${health.status} ${MockControlError.name}`
}
