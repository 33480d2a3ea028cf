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

export interface ServerConfig {
  /**
   * ceiling: bare Fastify; sqlite: Fastify + better-sqlite3, one DELETE … RETURNING; app: the
   * mock, seeded; seed: time seeding, then exit; reset: time POST /_mock/reset in-process, then exit.
   */
  mode: 'ceiling' | 'sqlite' | 'app' | 'seed' | 'reset'
  /** ':memory:' or a file path. */
  db: string
  /** Secrets bulk-inserted after start-up (app), or seeded and timed (seed). */
  secrets: number
  orgs: number
  /** Fastify/pino log level for both the ceiling and the app. */
  logLevel: string
  /** The app's journalSize (GET /_mock/requests); absent: the app's default. */
  journalSize?: number
  /** Send the secrets' ids (in secret order) with the ready message: GET /v1/ai_secret/{id} needs them. */
  wantIds?: boolean
  /** reset mode: how many resets are timed (after a tenth as many unrecorded). */
  resets?: number
}

/** Latencies in µs: median, 99th percentile, mean, and how many. */
export interface LatencySummary {
  n: number
  medianUs: number
  p99Us: number
  meanUs: number
}

export interface Routes {
  list: boolean
  get: boolean
}

export type ChildMessage =
  | {
      type: 'ready'
      port: number
      rss: number
      heapUsed: number
      startMs: number
      seedMs: number
      routes: Routes
      ids?: string[]
    }
  | { type: 'stats'; rss: number; heapUsed: number; cpuUs: number }
  | { type: 'seeded'; secrets: number; bulkInsertMs: number; applySeedMs: number; rssAfter: number }
  | { type: 'resets'; inject: LatencySummary; direct: LatencySummary }
  | { type: 'error'; message: string }

export type ParentMessage = { type: 'stats' } | { type: 'close' }
