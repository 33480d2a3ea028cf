// The mock behind MSW request handlers: createMswMock of `ai-secret-mock/msw` (src/msw.ts) hands
// in the msw module the caller installed, so that this file, bundled into dist/core.cjs with the
// rest of the mock, never loads msw itself (the package's other entries never do).
import type { HttpHandler } from 'msw'
import { buildMockApp, type AppOptions } from './app.js'
import { type MockControls, mockControls } from './controls.js'

/** What the handlers are made with: the `msw` module, 2.x or 3.x (the optional peer dependency). */
export type MswModule = Pick<typeof import('msw'), 'http' | 'HttpResponse'>

/** createMswMock's options: buildApp's (defaults: an in-memory database, the demo seed), and the API's base URL. */
export interface MswMockOptions extends AppOptions {
  /**
   * The base URL the code under test sends its requests to; the handlers answer every request
   * under `${baseUrl}/v1/`, and no other. An http(s) URL, with a path prefix if the code has one
   * (`http://localhost:3000/braintrust`), without query or fragment; a URL, not an MSW path
   * pattern. The origin is compared exactly, the paths case-sensitively with escapes of
   * unreserved characters decoded (`/br%61intrust` is `/braintrust`). Default
   * `https://api.braintrust.dev`, the official clients' default.
   */
  baseUrl?: string
}

/** A mock that answers MSW's handlers in-process (no port, no socket), and its controls. */
export interface MswMock extends MockControls {
  /**
   * MSW request handlers, for `setupServer(...mock.handlers)` (msw/node) or `server.use(...)`:
   * every request under `${baseUrl}/v1/` is answered by the mock's app, with the status,
   * headers and body it answers over HTTP. A `drop` fault is a network error
   * (`HttpResponse.error()`, as after close()); delays are kept. Other requests are not handled:
   * MSW's `onUnhandledRequest` decides what becomes of them.
   */
  handlers: HttpHandler[]
  /** The base URL the handlers answer, as given, without a trailing slash. */
  baseUrl: string
}

/** The official clients' base URL. */
export const DEFAULT_BASE_URL = 'https://api.braintrust.dev'

/** Headers of a connection, not of the answer: there is no connection between MSW and the app. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding'])

/** Statuses whose answers have no body (a Response refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304])

/** RFC 3986's unreserved characters: a percent-escape of one of them is the character itself. */
const UNRESERVED = /^[A-Za-z0-9._~-]$/

/**
 * A URL path, as the WHATWG URL parser leaves it, made comparable (RFC 3986's normalization):
 * escapes of unreserved characters decoded (`/br%61intrust` is `/braintrust`), the others'
 * hex digits upper-cased (`%2f` is `%2F`), everything else as it is.
 */
function normalizeUrlPath(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16))
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`
  })
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** A hex digit in either case. */
const hexDigit = (digit: string) => (/[A-F]/.test(digit) ? `[${digit}${digit.toLowerCase()}]` : digit)
const escapePattern = (hex: string) => `%${hexDigit(hex[0]!)}${hexDigit(hex[1]!)}`

/**
 * A RegExp source (no capturing groups: MSW 2 decodes what they capture, and throws on a bad escape)
 * that matches exactly the paths whose normalizeUrlPath is that of `path`: each unreserved
 * character as itself or its escape, each other escape in either case, the rest literally.
 */
function pathPattern(path: string): string {
  return normalizeUrlPath(path).replace(/%[0-9A-F]{2}|./gs, (token) => {
    if (token.length === 3) return escapePattern(token.slice(1))
    if (!UNRESERVED.test(token)) return escapeRegExp(token)
    return `(?:${escapeRegExp(token)}|${escapePattern(token.charCodeAt(0).toString(16).toUpperCase())})`
  })
}

/**
 * The base URL as given (without a trailing slash), and what the handlers match: MSW tests a
 * RegExp path against the request's origin and path (no query), so `handled` is the origin,
 * exactly, then the base path and `/v1/`, each compared normalized (normalizeUrlPath), and
 * `prefix` finds where the base path ends in a request's path. Nothing in the URL reaches
 * MSW's path patterns (`:name`, `*`, `(`, `+` are characters, not syntax).
 */
function parseBaseUrl(value: unknown): { baseUrl: string; handled: RegExp; prefix: RegExp } {
  const wrong = () =>
    new Error(
      `baseUrl: must be an http or https URL without query or fragment, such as ${DEFAULT_BASE_URL}, not ${JSON.stringify(value)}`,
    )
  if (typeof value !== 'string') throw wrong()
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw wrong()
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') throw wrong()
  const path = url.pathname.replace(/\/+$/, '')
  return {
    baseUrl: `${url.origin}${path}`,
    handled: new RegExp(`^${escapeRegExp(url.origin)}${pathPattern(`${path}/v1/`)}`),
    prefix: new RegExp(`^${pathPattern(path)}`),
  }
}

async function loadMsw(load: () => MswModule | Promise<MswModule>): Promise<MswModule> {
  let msw: MswModule
  try {
    msw = await load()
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if ((e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND') && /'msw'|"msw"/.test(e.message))
      throw new Error('ai-secret-mock/msw needs msw, an optional peer dependency: npm install -D msw', { cause: err })
    throw err
  }
  if (typeof msw.http?.all !== 'function' || typeof msw.HttpResponse?.error !== 'function')
    throw new Error('ai-secret-mock/msw needs msw 2.x or 3.x (the msw found has no `http` handlers: msw 1.x?)')
  return msw
}

/**
 * Builds the mock and the MSW handlers that answer from it (createMswMock of
 * `ai-secret-mock/msw`, with the msw module `load` gives). Rejects before anything is built
 * for a bad `baseUrl` or a missing msw, then as buildApp does.
 */
export async function createMswMockWith(
  load: () => MswModule | Promise<MswModule>,
  options: MswMockOptions = {},
): Promise<MswMock> {
  const { baseUrl: given = DEFAULT_BASE_URL, ...appOptions } = options
  const { baseUrl, handled, prefix } = parseBaseUrl(given)
  const { http, HttpResponse } = await loadMsw(load)
  const built = await buildMockApp({ db: ':memory:', ...appOptions })
  const { app } = built

  const handler = http.all(handled, async ({ request }) => {
    const url = new URL(request.url)
    // What follows the base path (`handled` matched: `/v1/...`), as the request spells it.
    const path = url.pathname.slice(prefix.exec(url.pathname)?.[0].length ?? 0)
    // The request as a server would receive it: the Host it was sent to, the headers and the
    // body's bytes as they are (Content-Encoding included), and its length, as fetch sends it.
    // (user-agent: undefined keeps light-my-request from adding one of its own where there is none.)
    const headers: Record<string, string | undefined> = { host: url.host, 'user-agent': undefined }
    request.headers.forEach((value, name) => {
      headers[name] = value
    })
    let payload: Buffer | undefined
    if (request.body !== null) {
      payload = Buffer.from(await request.arrayBuffer())
      headers['content-length'] ??= String(payload.length)
    }
    let res: Awaited<ReturnType<typeof app.inject>>
    try {
      res = await app.inject({
        method: request.method as 'GET',
        url: `${path}${url.search}`,
        headers,
        ...(payload === undefined ? {} : { payload }),
      })
    } catch {
      // A `drop` fault cuts the connection (inject rejects); after close() nothing answers.
      return HttpResponse.error()
    }
    const answer = new Headers()
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue
      for (const v of Array.isArray(value) ? value : [value]) answer.append(name, String(v))
    }
    const body = request.method === 'HEAD' || NULL_BODY.has(res.statusCode) ? null : res.rawPayload
    return new HttpResponse(body, { status: res.statusCode, statusText: res.statusMessage, headers: answer })
  })

  const controls = mockControls(built, (a) => a.close())
  return { handlers: [handler], baseUrl, ...controls }
}
