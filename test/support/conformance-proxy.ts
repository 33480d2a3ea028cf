// A small HTTP server in front of the mock for the conformance tests: it forwards every
// request and lets a test answer one exchange otherwise, or hold an answer (never send it).
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Forwarded {
  method: string
  /** Path and query. */
  url: string
  status: number
  headers: Record<string, string>
  body: string
}

/**
 * What to do with an answer: send it (changed or not), `'hold'` it forever, or `'drop'` the
 * connection. `forwarded` is false when {@link Before} answered without asking the mock.
 */
export type Alter = (answer: Forwarded, forwarded: boolean) => Forwarded | 'hold' | 'drop'
/** Runs before a request is forwarded: an answer here is sent instead (the mock never sees the request). */
export type Before = (request: { method: string; url: string }) => Forwarded | undefined

export interface Proxy {
  url: string
  close(): Promise<void>
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** Starts the proxy on a free loopback port, forwarding to `target`. */
export async function startProxy(
  target: string,
  alter: Alter = (a) => a,
  before: Before = () => undefined,
): Promise<Proxy> {
  const server = createServer(async (req, res) => {
    const body = await readBody(req)
    let answer = before({ method: req.method!, url: req.url! })
    const forwarded = answer === undefined
    if (answer === undefined) {
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers,
        body: body.length > 0 || req.headers['content-type'] !== undefined ? body : undefined,
      })
      answer = { method: req.method!, url: req.url!, status: upstream.status, headers: {}, body: await upstream.text() }
      upstream.headers.forEach((v, k) => {
        if (!['content-length', 'connection', 'keep-alive', 'transfer-encoding'].includes(k)) answer!.headers[k] = v
      })
    }
    const out = alter(answer, forwarded)
    if (out === 'hold') return
    if (out === 'drop') return void req.socket.destroy()
    res.writeHead(out.status, out.headers).end(out.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
