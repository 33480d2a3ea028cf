// types/msw/check.cts: the same from CommonJS (tsc -p types/msw, skipLibCheck false)
import { setupServer } from 'msw/node'
import { createMswMock, type FaultRule, type MswMock } from 'ai-secret-mock/msw'

export async function check(): Promise<string> {
  const mock: MswMock = await createMswMock({ baseUrl: 'http://localhost:3000', seed: false })
  const server = setupServer(...mock.handlers)
  server.listen()
  const rule: FaultRule = await mock.fault({ method: 'DELETE', drop: true })
  server.close()
  await mock.close()
  return `${rule.id} ${mock.baseUrl}`
}
