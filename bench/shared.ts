// What the bench runner (bench/run.ts) and the server child (bench/server.ts) agree on:
// the fixture names and the messages they exchange over the IPC channel.

/** API key of the one user, owner of every bench organization (so DELETE needs org_name). */
export const OWNER_KEY = 'sk-bench-owner'
/** A well-formed key that is not in the store: the 401 path. */
export const WRONG_KEY = 'sk-bench-not-a-key'

export function orgName(i: number): string {
  return `org-${i}`
}

/** Secret number i lives in organization i % orgs and is called secret-<i>. */
export function secretName(i: number): string {
  return `secret-${i}`
}

/** A fixed uuid per secret number, so the runner can GET /v1/ai_secret/{id} without asking. */
export function secretId(i: number): string {
  return `b0000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
}

export interface ServerConfig {
  /** ceiling: bare Fastify; app: the mock, seeded; seed: time seeding, then exit. */
  mode: 'ceiling' | 'app' | 'seed'
  /** Absolute path of the built package's dist/src directory. */
  distDir: string
  /** ':memory:' or a file path. */
  db: string
  /** Secrets bulk-inserted after start-up (app), or seeded and timed (seed). */
  secrets: number
  orgs: number
  /** Fastify/pino log level for both the ceiling and the app. */
  logLevel: string
  /** The app's journalSize (GET /_mock/requests); absent: the app's default. */
  journalSize?: number
}

export interface Routes {
  list: boolean
  get: boolean
}

export type ChildMessage =
  | { type: 'ready'; port: number; rss: number; heapUsed: number; startMs: number; seedMs: number; routes: Routes }
  | { type: 'stats'; rss: number; heapUsed: number; cpuUs: number }
  | { type: 'seeded'; secrets: number; bulkInsertMs: number; applySeedMs: number; rssAfter: number }
  | { type: 'error'; message: string }

export type ParentMessage = { type: 'stats' } | { type: 'close' }
