// The package's programmatic API: build the mock for inject(), or start it on a free port for a
// test suite. Its declaration file (dist/index.d.ts) is bundled from this file and names no
// other package's types: see src/fastify-types.ts.
import { buildApp as buildFastifyApp, type AppOptions } from './app.js'
import type { MockApp } from './fastify-types.js'

export type { AppOptions }
export { startMockServer, type MockServer, type MockServerOptions } from './start-mock-server.js'
export type { TlsCertificate } from './tls.js'
export { MockControlError, type MockApiKey, type MockApiKeys, type MockControls } from './controls.js'
export { SeedError } from './seed.js'
export type { InjectMethod, InjectOptions, InjectResponse, LoggerOptions, MockApp } from './fastify-types.js'
export type {
  AISecret,
  ClockChange,
  FaultActed,
  FaultRule,
  FaultRuleInput,
  JournalEntry,
  JournalFilter,
  Role,
  SeedData,
  SeededKey,
  SeedResult,
  StoreState,
} from './public-types.js'

/**
 * Builds the whole mock: ready, not listening, for `inject()`. Options as AppOptions says;
 * defaults: an in-memory database, the demo seed. Rejects when the seed is invalid (SeedError,
 * naming the JSON path) or an option is out of range.
 */
export const buildApp: (options?: AppOptions) => Promise<MockApp> = buildFastifyApp as never
