// npm run conformance:record: runs the conformance scenario against a fresh mock (in memory,
// the demo seed) and writes its transcript to openapi/conformance/mock.json.
// test/conformance-scenario.test.ts runs the same and fails when the answers differ from the
// committed file: any change of an answer must be a deliberate change of that file.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runScenario, type ScenarioResult } from '../src/conformance/scenario.js'
import { PACKAGE_ROOT } from '../src/paths.js'
import { startMockServer, type MockServer } from '../src/start-mock-server.js'

export const MOCK_TRANSCRIPT = join(PACKAGE_ROOT, 'openapi', 'conformance', 'mock.json')

/**
 * How the committed transcript is recorded: a key in two organizations (so every exchange runs, the ambiguous write
 * too), acting in acme.
 */
export const MOCK_RUN = { apiKey: 'sk-mock-multi-org', orgName: 'acme' as string | undefined }

/** The demo keys that match a transcript's run: in several organizations or one, with `--org-name acme` or without. */
export function mockRunFor(run: {
  org_name_given: boolean
  key_spans_several_organizations: boolean | null
}): typeof MOCK_RUN {
  return {
    apiKey: run.key_spans_several_organizations === true ? 'sk-mock-multi-org' : 'sk-mock-acme-owner',
    orgName: run.org_name_given ? 'acme' : undefined,
  }
}

/**
 * Runs the scenario against a fresh mock on a free port (or against `mock` when given) and
 * resolves to the result; rejects when the run stopped early or left anything behind.
 */
export async function recordMock(run = MOCK_RUN, mock?: MockServer): Promise<ScenarioResult> {
  const server = mock ?? (await startMockServer({ logger: false }))
  try {
    const result = await runScenario({ baseUrl: server.url, ...run })
    if (result.transcript.aborted !== undefined)
      throw new Error(`the run against the mock stopped: ${result.transcript.aborted}`)
    if (result.left.length > 0)
      throw new Error(`the run against the mock left secrets behind: ${JSON.stringify(result.left)}`)
    return result
  } finally {
    if (mock === undefined) await server.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { transcript } = await recordMock()
  mkdirSync(dirname(MOCK_TRANSCRIPT), { recursive: true })
  writeFileSync(MOCK_TRANSCRIPT, `${JSON.stringify(transcript, null, 2)}\n`)
  console.log(`wrote ${transcript.exchanges.length} exchanges to openapi/conformance/mock.json`)
}
