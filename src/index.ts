// The package's programmatic API (CONTRACT section 7): build the mock for inject(), or
// start it on a free port for a test suite. Its declaration file (dist/index.d.ts) is bundled
// from this file and names no other package's types: see src/types.ts.
import { buildApp as buildFastifyApp, type AppOptions } from './app.js'
import type { MockApp } from './types.js'

export type { AppOptions }
export {
  startMockServer,
  MockControlError,
  type MockServer,
  type MockServerOptions,
  type MockApiKey,
  type MockApiKeys,
} from './server.js'
export { SeedError, type SeedResult, type SeededKey } from './seed.js'
export type { JournalEntry, JournalFilter } from './control/journal.js'
export type { ClockChange } from './control/context.js'
export type {
  AISecret,
  FaultActed,
  FaultRule,
  FaultRuleInput,
  InjectMethod,
  InjectOptions,
  InjectResponse,
  LoggerOptions,
  MockApp,
  Role,
  SeedData,
  StoreState,
} from './types.js'

/**
 * Builds the whole mock: ready, not listening (CONTRACT section 7), for `inject()`. Options
 * as AppOptions says; defaults: an in-memory database, the demo seed. Rejects when the seed
 * is invalid (SeedError, naming the JSON path) or an option is out of range.
 */
export const buildApp: (options?: AppOptions) => Promise<MockApp> = buildFastifyApp
