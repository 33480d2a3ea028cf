// The package's programmatic API (CONTRACT section 7): build the mock for inject(), or
// start it on a free port for a test suite.
export { buildApp, type AppOptions } from './app.js'
export { startMockServer, MockControlError, type MockServer, type MockServerOptions, type MockApiKey, type MockApiKeys } from './server.js'
export { SeedError, type SeedResult, type SeededKey } from './seed.js'
export type { SeedData } from './schemas/mock.js'
export type { FaultActed, FaultRule, FaultRuleInput } from './control/faults.js'
export type { JournalEntry, JournalFilter } from './control/journal.js'
export type { ClockChange, ControlContext } from './control/context.js'
export type { StoreState, Role } from './repository.js'
export type { AISecret } from './schemas/ai-secret.js'
