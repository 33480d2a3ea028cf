// What the package's public types say of Fastify and Node, written out: the declaration file
// users get (dist/index.d.ts) is bundled from src/index.ts and must stand alone, without
// fastify, pino or @types/node installed (a consumer's `tsc` with `skipLibCheck: false`).
// test/package/public-types.test.ts holds each to the type it stands in for. The data types
// (seeds, fault rules, the journal) are in src/public-types.ts, printed from their schemas.

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
