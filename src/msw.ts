// The `ai-secret-mock/msw` entry: the mock behind MSW request handlers, in-process. Its
// declaration file (dist/msw.d.ts) is bundled from this file and imports msw's types only
// (msw is the optional peer dependency this entry needs). The built entries (dist/msw.cjs,
// dist/msw.mjs, written by scripts/bundle.mjs) do what createMswMock does here, with the
// caller's own require or import of msw.
import { createMswMockWith, type MswMock, type MswMockOptions } from './msw-mock.js'

export type { MswMock, MswMockOptions }
export { MockControlError, type MockApiKey, type MockApiKeys, type MockControls } from './controls.js'
export { SeedError } from './seed.js'
export type { InjectMethod, InjectOptions, InjectResponse, LoggerOptions, MockApp } from './fastify-types.js'
export type {
  AISecret,
  FaultActed,
  FaultRule,
  FaultRuleInput,
  JournalEntry,
  JournalFilter,
  Role,
  SeedData,
  SeededKey,
  SeedResult,
} from './public-types.js'

/**
 * Builds the mock (an in-memory database and the demo seed by default; buildApp's options) and
 * MSW request handlers that answer every request under `${baseUrl}/v1/` from it, in this process:
 * `setupServer(...mock.handlers)` makes code that calls the Braintrust API (plain fetch, axios,
 * the official client with its default base URL) talk to the mock. Rejects for a `baseUrl` that
 * is not an http(s) URL, when msw (2.x or 3.x) is not installed, and as buildApp does (SeedError
 * for a bad seed, an Error naming a bad option). Call close() when done.
 */
export function createMswMock(options?: MswMockOptions): Promise<MswMock> {
  return createMswMockWith(() => import('msw'), options)
}
