// The package's public types, written out in full: the declaration file users get
// (dist/index.d.ts) is bundled from src/index.ts and must stand alone, without fastify,
// TypeBox or better-sqlite3 installed (a consumer's `tsc` with `skipLibCheck: false`).
// The schemas stay the source of truth: test/package.test.ts fails to type-check when one
// of these no longer matches the TypeBox type it mirrors.

/** A role in an organization: an owner can write, a member only read (the mock's model of Braintrust's ACLs). */
export type Role = 'owner' | 'member'

/** An AI secret as the API answers it (upstream `components.schemas.AISecret`): never the value, only `preview_secret`. */
export interface AISecret {
  /** Unique identifier for the AI secret (uuid). */
  id: string
  /** Date of AI secret creation (RFC 3339). */
  created?: string | null
  /** Date of last AI secret update (RFC 3339). */
  updated_at?: string | null
  /** Date of last update to the encrypted secret value itself (RFC 3339). */
  secret_updated_at?: string | null
  /** Unique identifier for the organization (uuid). */
  org_id: string
  /** Name of the AI secret. */
  name: string
  type?: string | null
  metadata?: Record<string, unknown> | null
  /** User id of the last update to the encrypted secret value (uuid). */
  secret_updated_by_user_id?: string | null
  /** A preview of the value, such as `sk-...def`. */
  preview_secret?: string | null
}

/**
 * Data in the seed-file format (README "Seed file"), as `startMockServer({ seed })`, `seed()`
 * and `POST /_mock/seed` take it. Names may refer to what the mock already holds; ids and
 * dates are generated when absent.
 */
export interface SeedData {
  organizations?: { name: string; id?: string; created?: string }[]
  users?: {
    email: string
    id?: string
    /** organization name: role */
    memberships?: Record<string, Role>
  }[]
  api_keys?: {
    /** The plain key, as clients will send it; stored only as a hash. */
    key: string
    /** The email of a user. */
    user: string
    /** Scope the key to this one organization. */
    org?: string | null
    id?: string
  }[]
  ai_secrets?: {
    org: string
    name: string
    type?: string | null
    /** The value; the API only ever shows a preview of it. */
    secret?: string | null
    metadata?: Record<string, unknown> | null
    id?: string
    created?: string
    updated_at?: string
    secret_updated_at?: string
  }[]
}

/** A fault rule as `fault()` and `POST /_mock/faults` take it (README "Faults, latency and Prefer"). */
export interface FaultRuleInput {
  /** HTTP method to match (any case); absent: any. */
  method?: string
  /** Path to match, without the query; may end in `*` to match a prefix; absent: any /v1 path. */
  path?: string
  /** Only requests with `Authorization: Bearer <key>`; shown back as a preview. */
  key?: string
  /** The status to answer, from 400 to 599: documented ones in their documented shape, others as text. */
  status?: number
  /** The `Retry-After` header in seconds, with any status (default 1 for a 429). */
  retry_after?: number
  /** A `retry-after-ms` header, which the official client prefers. */
  retry_after_ms?: number
  /** An `x-should-retry: true|false` header, which overrides the official client's choice. */
  should_retry?: boolean
  /** Wait this long first (with or without a status), in milliseconds. */
  delay_ms?: number
  /** Close the connection without an answer. */
  drop?: boolean
  /**
   * `before` (default): act before authentication and any handler, so nothing changes.
   * `after`: let the request run for real, then drop, replace or hold its answer (the change stands).
   */
  when?: 'before' | 'after'
  /** Act on this many of the requests the rule sees, then let them through; absent: unlimited. */
  times?: number
  /** Let this many of the requests the rule sees through first. */
  after?: number
}

/** What one fault rule did to a request, as the journal's `faults` lists it. */
export interface FaultActed {
  /** The rule's id. */
  id: string
  when: 'before' | 'after'
  /** The delay it added, in milliseconds. */
  delay_ms?: number
  /** The status it answered instead. */
  status?: number
  /** It closed the connection without an answer. */
  drop?: true
}

/** A fault rule as stored: the input (its key as a preview) with its id and counters. */
export interface FaultRule extends Omit<FaultRuleInput, 'key'> {
  /** `fault_1`, `fault_2`, ... */
  id: string
  /** A preview of the key the rule matches. */
  key?: string
  /** How many requests the rule has seen: those it matched that no earlier rule had answered. */
  matched: number
  /** How many of them it acted on: answered, changed the answer of, or delayed. */
  applied: number
}

/** What `GET /_mock/state` shows: everything stored, secret values and keys redacted. */
export interface StoreState {
  organizations: { id: string; name: string; created: string }[]
  users: { id: string; email: string; created: string; memberships: Record<string, Role> }[]
  api_keys: { id: string; preview: string; user: string; org: string | null; created: string }[]
  ai_secrets: AISecret[]
}

/** HTTP methods `inject()` takes, in either case. */
export type InjectMethod =
  | 'DELETE'
  | 'GET'
  | 'HEAD'
  | 'PATCH'
  | 'POST'
  | 'PUT'
  | 'OPTIONS'
  | 'delete'
  | 'get'
  | 'head'
  | 'patch'
  | 'post'
  | 'put'
  | 'options'

/** A request for `MockApp.inject()` (Fastify's `inject()`, light-my-request's options). */
export interface InjectOptions {
  /** Default GET. */
  method?: InjectMethod
  /** The path, with or without a query string. */
  url?: string
  /** Query parameters, added to those of `url`. */
  query?: string | Record<string, string | string[]>
  headers?: Record<string, string | string[] | number | undefined>
  /** The body: an object is sent as JSON (with `content-type: application/json`), a string or bytes as they are. */
  payload?: string | object | Uint8Array
  /** The same as `payload`. */
  body?: string | object | Uint8Array
  remoteAddress?: string
}

/** The answer to `MockApp.inject()`. */
export interface InjectResponse {
  statusCode: number
  statusMessage: string
  headers: Record<string, string | string[] | number | undefined>
  /** The body as text (UTF-8). */
  body: string
  /** The same as `body`. */
  payload: string
  /** The body's bytes (a Buffer). */
  rawPayload: Uint8Array
  /** The body parsed as JSON; throws when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: as light-my-request types it, so that a caller's own type needs no cast
  json<T = any>(): T
}

/**
 * What `buildApp()` resolves to and `MockServer.app` is. At run time it is the Fastify 5
 * instance itself; the type names only what the package stands behind, so that it needs no
 * `fastify` types: a user with fastify 5 installed can cast it (`app as unknown as FastifyInstance`).
 */
export interface MockApp {
  /** Sends a request to the app without a socket (Fastify's `inject()`): same routes, hooks and answers. */
  inject(options: InjectOptions | string): Promise<InjectResponse>
  /**
   * Listens (Fastify's `listen()`); resolves to the address, such as `http://127.0.0.1:43121`.
   * Default port 0 (a free one), host `localhost`.
   */
  listen(options?: { port?: number; host?: string }): Promise<string>
  /** Stops listening, ends the control plane's pending delays and closes the database. */
  close(): Promise<void>
}

/** Logger options passed to Fastify's logger (pino): `level` and any other pino option. */
export interface LoggerOptions {
  /** A pino level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. */
  level?: string
  [option: string]: unknown
}

/**
 * What buildApp reads of an AbortSignal (Node's own fits): written out so that the package's
 * public types need neither Node's nor the DOM's typings.
 */
export interface AbortSignalLike {
  readonly aborted: boolean
  /** Throws the signal's reason when it is aborted. */
  throwIfAborted(): void
}
