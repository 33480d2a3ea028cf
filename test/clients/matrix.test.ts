// The client matrix (issue 11): over a real socket to a listening mock, the exact request
// line and header set each client style sends (content-type forms and charsets,
// Accept-Encoding, Connection, Expect: 100-continue, chunked bodies, h2c upgrade offers,
// user agents, header case and order, JSON spacing) for a JSON POST, PUT, PATCH, DELETE
// with a body and DELETE by id. Each must get the same status and body as the plain
// request. Where the client itself is at hand it is used too: undici, Node's fetch and
// http, axios and got from npm; curl and python3's standard library on the machine.
import { execFile } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { promisify } from 'node:util'
import axios from 'axios'
import got from 'got'
import t from 'tap'
import { fetch as undiciFetch } from 'undici'
import { parseResponses } from '../support/reliability/net.js'
import { KEYS, build } from '../support/app.js'

const run = promisify(execFile)
const AUTH = `Bearer ${KEYS.owner}`

interface Op {
  what: string
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** The path, given the ids of the secret the POST made and of the demo secret. */
  path: (ids: Ids) => string
  json?: unknown
}
interface Ids {
  created: string
  demo: string
}
interface Answer {
  status: number
  body: string
}

/** The five requests, in order, from a freshly reset (deterministic) mock. */
const OPS: Op[] = [
  {
    what: 'JSON POST',
    method: 'POST',
    path: () => '/v1/ai_secret',
    json: { name: 'MATRIX_KEY', type: 'openai', secret: 'sk-matrix-0123456789', metadata: { team: 'qa' } },
  },
  {
    what: 'PUT',
    method: 'PUT',
    path: () => '/v1/ai_secret',
    json: {
      name: 'MATRIX_KEY',
      type: 'anthropic',
      secret: 'sk-matrix-rotated-42',
      metadata: { team: 'qa', rotated: true },
    },
  },
  {
    what: 'PATCH',
    method: 'PATCH',
    path: (ids) => `/v1/ai_secret/${ids.created}`,
    json: { metadata: { rotated_by: 'ci' } },
  },
  { what: 'DELETE with a body', method: 'DELETE', path: () => '/v1/ai_secret', json: { name: 'MATRIX_KEY' } },
  { what: 'DELETE by id', method: 'DELETE', path: (ids) => `/v1/ai_secret/${ids.demo}` },
]

// --- how each client writes a request ---------------------------------------------------

/** One request as a client puts it on the wire: header lines in its order and case, then the body. */
interface Wire {
  lines: string[]
  body: Buffer | null
  /** Sent as chunks (Transfer-Encoding: chunked, in the lines). */
  chunked?: boolean
  /** The head first; the body once the server says 100 Continue. */
  expectContinue?: boolean
}

interface Style {
  name: string
  /** Keeps one connection for all five requests (else a new one each). */
  keepAlive: boolean
  wire(op: Op, path: string, host: string): Wire
}

/** Python's json.dumps: `", "` and `": "` between items (requests), unlike JSON.stringify. */
function pyDumps(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyDumps).join(', ')}]`
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pyDumps(x)}`)
      .join(', ')}}`
  return v === true ? 'true' : v === false ? 'false' : JSON.stringify(v)
}

/** The body with a property no operation reads (they ignore it, as the schemas allow), making it over 1 KiB. */
const padded = (op: Op) => ({ ...(op.json as object), padding: 'p'.repeat(1500) })
const compact = (op: Op) => (op.json === undefined ? null : Buffer.from(JSON.stringify(op.json)))
const length = (b: Buffer | null) => (b === null ? [] : [`Content-Length: ${b.length}`])
/** A W3C trace context, as .NET's HttpClient adds by default. */
const TRACEPARENT = 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'

const STYLES: Style[] = [
  {
    name: 'curl 7.88 (-d, -H content-type)',
    keepAlive: false,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `Host: ${host}`,
          'User-Agent: curl/7.88.1',
          'Accept: */*',
          `Authorization: ${AUTH}`,
          ...(body === null ? [] : ['Content-Type: application/json']),
          ...length(body),
        ],
        body,
      }
    },
  },
  {
    name: 'curl with a body over 1 KiB (Expect: 100-continue)',
    keepAlive: false,
    wire: (op, path, host) => {
      const body = op.json === undefined ? null : Buffer.from(JSON.stringify(padded(op)))
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `Host: ${host}`,
          'User-Agent: curl/7.88.1',
          'Accept: */*',
          `Authorization: ${AUTH}`,
          ...(body === null
            ? []
            : ['Content-Type: application/json', `Content-Length: ${body.length}`, 'Expect: 100-continue']),
        ],
        body,
        expectContinue: body !== null,
      }
    },
  },
  {
    name: 'undici fetch (Node 20 fetch)',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `host: ${host}`,
          'connection: keep-alive',
          `authorization: ${AUTH}`,
          ...(body === null ? [] : ['content-type: application/json']),
          'accept: */*',
          'accept-language: *',
          'sec-fetch-mode: cors',
          'user-agent: node',
          'accept-encoding: gzip, deflate',
          ...(body === null ? [] : [`content-length: ${body.length}`]),
        ],
        body,
      }
    },
  },
  {
    name: 'Node http.request without a length (chunked)',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `Authorization: ${AUTH}`,
          ...(body === null ? [] : ['Content-Type: application/json']),
          `Host: ${host}`,
          'Connection: keep-alive',
          ...(body === null ? [] : ['Transfer-Encoding: chunked']),
        ],
        body,
        chunked: body !== null,
      }
    },
  },
  {
    name: 'axios 1.x',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          'Accept: application/json, text/plain, */*',
          ...(body === null ? [] : ['Content-Type: application/json']),
          `Authorization: ${AUTH}`,
          'User-Agent: axios/1.7.9',
          ...length(body),
          'Accept-Encoding: gzip, compress, deflate, br',
          `Host: ${host}`,
          'Connection: keep-alive',
        ],
        body,
      }
    },
  },
  {
    name: 'axios 0.27 (application/json;charset=utf-8)',
    keepAlive: false,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          'Accept: application/json, text/plain, */*',
          ...(body === null ? [] : ['Content-Type: application/json;charset=utf-8']),
          `Authorization: ${AUTH}`,
          'User-Agent: axios/0.27.2',
          ...length(body),
          `Host: ${host}`,
          'Connection: close',
        ],
        body,
      }
    },
  },
  {
    name: 'got 14',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          'user-agent: got (https://github.com/sindresorhus/got)',
          `authorization: ${AUTH}`,
          ...(body === null ? [] : ['content-type: application/json']),
          ...(body === null ? [] : [`content-length: ${body.length}`]),
          'accept: application/json',
          'accept-encoding: gzip, deflate, br',
          `Host: ${host}`,
          'Connection: keep-alive',
        ],
        body,
      }
    },
  },
  {
    name: 'Python requests 2.32 (json=, spaced JSON)',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = op.json === undefined ? null : Buffer.from(pyDumps(op.json))
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `Host: ${host}`,
          'User-Agent: python-requests/2.32.3',
          'Accept-Encoding: gzip, deflate',
          'Accept: */*',
          'Connection: keep-alive',
          `Authorization: ${AUTH}`,
          `Content-Length: ${body?.length ?? 0}`,
          ...(body === null ? [] : ['Content-Type: application/json']),
        ],
        body,
      }
    },
  },
  {
    name: 'httpx 0.28',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `host: ${host}`,
          'accept: */*',
          'accept-encoding: gzip, deflate, br, zstd',
          'connection: keep-alive',
          'user-agent: python-httpx/0.28.1',
          `authorization: ${AUTH}`,
          ...(body === null ? [] : [`content-length: ${body.length}`, 'content-type: application/json']),
        ],
        body,
      }
    },
  },
  {
    name: 'Go net/http (bytes.Reader body)',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `Host: ${host}`,
          'User-Agent: Go-http-client/1.1',
          ...length(body),
          `Authorization: ${AUTH}`,
          ...(body === null ? [] : ['Content-Type: application/json']),
          'Accept-Encoding: gzip',
        ],
        body,
      }
    },
  },
  {
    name: 'Go net/http (io.Reader body: chunked)',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `Host: ${host}`,
          'User-Agent: Go-http-client/1.1',
          ...(body === null ? [] : ['Transfer-Encoding: chunked']),
          `Authorization: ${AUTH}`,
          ...(body === null ? [] : ['Content-Type: application/json']),
          'Accept-Encoding: gzip',
        ],
        body,
        chunked: body !== null,
      }
    },
  },
  {
    // As JDK 17's java.net.http sends it (recorded): an h2c upgrade offer on every request, Content-Length: 0 for a
    // DELETE without a body.
    name: 'Java HttpClient 17 (h2c upgrade offer, charset=utf-8)',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          'Connection: Upgrade, HTTP2-Settings',
          `Content-Length: ${body?.length ?? 0}`,
          `Host: ${host}`,
          'HTTP2-Settings: AAEAAEAAAAIAAAAAAAMAAAAAAAQBAAAAAAUAAEAAAAYABgAA',
          'Upgrade: h2c',
          'User-Agent: Java-http-client/17.0.15',
          `Authorization: ${AUTH}`,
          ...(body === null ? [] : ['Content-Type: application/json; charset=utf-8']),
        ],
        body,
      }
    },
  },
  {
    name: 'Java HttpClient 17 (ofInputStream: chunked)',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          'Connection: Upgrade, HTTP2-Settings',
          ...(body === null ? ['Content-Length: 0'] : []),
          `Host: ${host}`,
          'HTTP2-Settings: AAEAAEAAAAIAAAAAAAMAAAAAAAQBAAAAAAUAAEAAAAYABgAA',
          ...(body === null ? [] : ['Transfer-encoding: chunked']),
          'Upgrade: h2c',
          'User-Agent: Java-http-client/17.0.15',
          `Authorization: ${AUTH}`,
          ...(body === null ? [] : ['Content-Type: application/json']),
        ],
        body,
        chunked: body !== null,
      }
    },
  },
  {
    name: 'OkHttp 4.12',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op) ?? Buffer.alloc(0)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `Authorization: ${AUTH}`,
          ...(op.json === undefined ? [] : ['Content-Type: application/json; charset=utf-8']),
          `Content-Length: ${body.length}`,
          `Host: ${host}`,
          'Connection: Keep-Alive',
          'Accept-Encoding: gzip',
          'User-Agent: okhttp/4.12.0',
        ],
        body,
      }
    },
  },
  {
    name: '.NET 8 HttpClient (StringContent)',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `Host: ${host}`,
          `Authorization: ${AUTH}`,
          TRACEPARENT,
          ...(body === null ? [] : ['Content-Type: application/json; charset=utf-8', `Content-Length: ${body.length}`]),
        ],
        body,
      }
    },
  },
  {
    name: '.NET 8 HttpClient (PostAsJsonAsync: JsonContent, chunked)',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `Host: ${host}`,
          `Authorization: ${AUTH}`,
          TRACEPARENT,
          ...(body === null ? [] : ['Transfer-Encoding: chunked', 'Content-Type: application/json; charset=utf-8']),
        ],
        body,
        chunked: body !== null,
      }
    },
  },
  {
    name: 'Ruby Net::HTTP',
    keepAlive: false,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          ...(body === null ? [] : ['Content-Type: application/json']),
          `Authorization: ${AUTH}`,
          'Connection: close',
          'Accept-Encoding: gzip;q=1.0,deflate;q=0.6,identity;q=0.3',
          'Accept: */*',
          'User-Agent: Ruby',
          `Host: ${host}`,
          ...length(body),
        ],
        body,
      }
    },
  },
  {
    // The official clients (Stainless): content-type json even on a DELETE by id with no body.
    name: 'Braintrust JS client (Stainless, on fetch)',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `host: ${host}`,
          'connection: keep-alive',
          'accept: application/json',
          'content-type: application/json',
          'user-agent: Braintrust/JS 0.5.0',
          'x-stainless-lang: js',
          'x-stainless-package-version: 0.5.0',
          'x-stainless-os: Linux',
          'x-stainless-arch: x64',
          'x-stainless-runtime: node',
          'x-stainless-runtime-version: v20.20.2',
          'x-stainless-retry-count: 0',
          `authorization: ${AUTH}`,
          'accept-language: *',
          'sec-fetch-mode: cors',
          'accept-encoding: gzip, deflate',
          ...(body === null ? [] : [`content-length: ${body.length}`]),
        ],
        body,
      }
    },
  },
  {
    name: 'Braintrust Python client (Stainless, on httpx)',
    keepAlive: true,
    wire: (op, path, host) => {
      const body = compact(op)
      return {
        lines: [
          `${op.method} ${path} HTTP/1.1`,
          `host: ${host}`,
          'accept-encoding: gzip, deflate',
          'connection: keep-alive',
          'accept: application/json',
          'content-type: application/json',
          'user-agent: Braintrust/Python 0.1.0',
          'x-stainless-lang: python',
          'x-stainless-package-version: 0.1.0',
          'x-stainless-os: Linux',
          'x-stainless-arch: x64',
          'x-stainless-runtime: CPython',
          'x-stainless-runtime-version: 3.11.7',
          `authorization: ${AUTH}`,
          'x-stainless-retry-count: 0',
          'x-stainless-read-timeout: 60',
          `content-length: ${body?.length ?? 0}`,
        ],
        body,
      }
    },
  },
]

/** The bytes of a request: the head, and the body (as one chunk then the last, when chunked). */
function bytes(w: Wire): { head: Buffer; body: Buffer } {
  const head = Buffer.from(`${w.lines.join('\r\n')}\r\n\r\n`, 'latin1')
  if (w.body === null) return { head, body: Buffer.alloc(0) }
  if (w.chunked === true)
    return {
      head,
      body: Buffer.concat([Buffer.from(`${w.body.length.toString(16)}\r\n`), w.body, Buffer.from('\r\n0\r\n\r\n')]),
    }
  return { head, body: w.body }
}

/** A raw HTTP/1.1 connection that sends one request at a time and reads its answer. */
class RawConnection {
  private buf = Buffer.alloc(0)
  private waiting: (() => void) | null = null
  private closed = false
  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d])
      this.waiting?.()
    })
    socket.on('close', () => {
      this.closed = true
      this.waiting?.()
    })
    socket.on('error', () => {})
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => resolve(new RawConnection(socket)))
      socket.once('error', reject)
    })
  }

  private async until(test: () => boolean): Promise<void> {
    while (!test()) {
      if (this.closed)
        throw new Error(`connection closed; got ${JSON.stringify(this.buf.toString('latin1').slice(0, 300))}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000)
        this.waiting = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.waiting = null
    }
  }

  async send(w: Wire): Promise<Answer & { head: string }> {
    const { head, body } = bytes(w)
    if (w.expectContinue === true) {
      this.socket.write(head)
      // The server's interim answer comes before the body is sent, as curl waits for it.
      await this.until(() => /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(this.buf.toString('latin1')))
      this.socket.write(body)
    } else this.socket.write(Buffer.concat([head, body]))
    let parsed = parseResponses(this.buf, this.closed)
    await this.until(() => (parsed = parseResponses(this.buf, this.closed)).responses.length > 0)
    const [res] = parsed.responses
    this.buf = this.buf.subarray(parsed.rest)
    return { status: res!.status, body: res!.body, head: res!.head }
  }

  close(): void {
    this.socket.destroy()
  }
}

// --- the matrix ---------------------------------------------------------------------------

/**
 * Resets the mock (deterministic: the same ids and times every time) and runs the five requests; the POST's answer
 * gives the PATCH its id.
 */
async function runOps(
  app: Awaited<ReturnType<typeof build>>,
  send: (op: Op, path: string) => Promise<Answer>,
): Promise<Answer[]> {
  const reset = await app.inject({ method: 'POST', url: '/_mock/reset' })
  const ids: Ids = {
    demo: reset.json<{ ai_secrets: { id: string; org: string }[] }>().ai_secrets.find((s) => s.org === 'acme')!.id,
    created: '',
  }
  const answers: Answer[] = []
  for (const op of OPS) {
    const a = await send(op, op.path(ids))
    answers.push(a)
    if (op.method === 'POST' && a.status === 200) ids.created = (JSON.parse(a.body) as { id: string }).id
  }
  return answers
}

/** The plain request: what app.inject sends, nothing more. */
const plainSend =
  (app: Awaited<ReturnType<typeof build>>) =>
  async (op: Op, path: string): Promise<Answer> => {
    const res = await app.inject({
      method: op.method,
      url: path,
      headers: { authorization: AUTH, ...(op.json === undefined ? {} : { 'content-type': 'application/json' }) },
      payload: op.json === undefined ? undefined : JSON.stringify(op.json),
    })
    return { status: res.statusCode, body: res.body }
  }

t.test('every client style gets what the plain request gets', async (t) => {
  const app = await build(t, { deterministic: true })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const host = `127.0.0.1:${port}`
  const plain = await runOps(app, plainSend(app))
  t.same(
    plain.map((a) => a.status),
    [200, 200, 200, 200, 200],
    'the plain requests all succeed',
  )

  for (const style of STYLES) {
    let conn = await RawConnection.open(port)
    const got = await runOps(app, async (op, path) => {
      const res = await conn.send(style.wire(op, path, host))
      if (!style.keepAlive || /\r\nconnection: close/i.test(res.head)) {
        conn.close()
        conn = await RawConnection.open(port)
      }
      return { status: res.status, body: res.body }
    })
    conn.close()
    t.same(got, plain, style.name)
    const journal = (await app.inject({ method: 'GET', url: '/_mock/requests' })).json<{
      requests: { method: string; status: number }[]
    }>().requests
    t.same(
      journal.map((r) => `${r.method} ${r.status}`),
      OPS.map((op) => `${op.method} 200`),
      `${style.name}: all five reached the API`,
    )
  }
  t.ok(STYLES.length >= 10, `${STYLES.length} client styles`)
})

// --- the real clients at hand --------------------------------------------------------------

type Send = (url: string, op: Op) => Promise<Answer>

const REAL: [string, Send][] = [
  [
    'fetch (Node 20, undici inside)',
    async (url, op) => {
      const res = await fetch(url, {
        method: op.method,
        headers: {
          authorization: AUTH,
          ...(op.json === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        },
        body: op.json === undefined ? undefined : JSON.stringify(op.json),
      })
      return { status: res.status, body: await res.text() }
    },
  ],
  [
    'undici fetch (npm)',
    async (url, op) => {
      const res = await undiciFetch(url, {
        method: op.method,
        headers: { authorization: AUTH, ...(op.json === undefined ? {} : { 'content-type': 'application/json' }) },
        body: op.json === undefined ? undefined : JSON.stringify(op.json),
      })
      return { status: res.status, body: await res.text() }
    },
  ],
  [
    'Node http.request, chunked',
    (url, op) =>
      new Promise((resolve, reject) => {
        const req = httpRequest(
          url,
          {
            method: op.method,
            headers: {
              authorization: AUTH,
              ...(op.json === undefined ? {} : { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }),
            },
          },
          (res) => {
            let body = ''
            res
              .setEncoding('utf8')
              .on('data', (d: string) => (body += d))
              .on('end', () => resolve({ status: res.statusCode!, body }))
          },
        )
        req.on('error', reject)
        req.end(op.json === undefined ? undefined : JSON.stringify(op.json))
      }),
  ],
  [
    'axios',
    async (url, op) => {
      const res = await axios.request({
        url,
        method: op.method,
        headers: { authorization: AUTH },
        data: op.json,
        responseType: 'text',
        transformResponse: (d: string) => d,
        validateStatus: () => true,
      })
      return { status: res.status, body: res.data as string }
    },
  ],
  [
    'got',
    async (url, op) => {
      const res = await got(url, {
        method: op.method,
        headers: { authorization: AUTH },
        json: op.json,
        throwHttpErrors: false,
        retry: { limit: 0 },
      })
      return { status: res.statusCode, body: res.body }
    },
  ],
  [
    'curl',
    async (url, op) => {
      const args = ['-sS', '-X', op.method, url, '-H', `Authorization: ${AUTH}`, '-w', '\n%{http_code}']
      // A body over 1 KiB: curl 7 sends Expect: 100-continue and waits for the server's 100.
      if (op.json !== undefined)
        args.push('-H', 'Content-Type: application/json; charset=UTF-8', '--data-binary', JSON.stringify(padded(op)))
      const { stdout } = await run('curl', args)
      const i = stdout.lastIndexOf('\n')
      return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) }
    },
  ],
  [
    'python3 urllib.request (standard library)',
    async (url, op) => {
      const script = [
        'import json, sys, urllib.request, urllib.error',
        'url, method, auth, data = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]',
        "body = None if data == '' else json.dumps(json.loads(data)).encode()",
        "req = urllib.request.Request(url, data=body, method=method, headers={'Authorization': auth, **({} if body is None else {'Content-Type': 'application/json; charset=utf-8'})})",
        'try:',
        '    res = urllib.request.urlopen(req)',
        'except urllib.error.HTTPError as e:',
        '    res = e',
        "sys.stdout.write(str(res.status) + '\\n' + res.read().decode())",
      ].join('\n')
      const { stdout } = await run('python3', [
        '-c',
        script,
        url,
        op.method,
        AUTH,
        op.json === undefined ? '' : JSON.stringify(op.json),
      ])
      const i = stdout.indexOf('\n')
      return { status: Number(stdout.slice(0, i)), body: stdout.slice(i + 1) }
    },
  ],
]

t.test('the real clients at hand get what the plain request gets', async (t) => {
  for (const tool of ['curl', 'python3']) {
    // CI installs them (.ci/run); a machine without them fails here, loudly, rather than skipping.
    await t.resolves(run(tool, ['--version']), `${tool} is on this machine`)
  }
  const app = await build(t, { deterministic: true })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const plain = await runOps(app, plainSend(app))
  for (const [name, send] of REAL) t.same(await runOps(app, (op, path) => send(`${base}${path}`, op)), plain, name)
})
