// Talking to a listening mock: raw TCP exchanges (for broken HTTP) and a small HTTP client
// that tells a complete answer from a refused, reset or cut-off one. 127.0.0.1 only.

import { type Agent, request as httpRequest } from 'node:http'
import { connect } from 'node:net'

export interface RawResponse {
  status: number
  head: string
  body: string
}

/**
 * Parses the complete HTTP/1.x responses at the start of buf (interim 1xx answers skipped).
 * `closed`: the connection has ended, so a response without a length ends there.
 */
export function parseResponses(buf: Buffer, closed: boolean): { responses: RawResponse[]; rest: number } {
  const responses: RawResponse[] = []
  let at = 0
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', at, 'latin1')
    if (headEnd === -1) break
    const head = buf.subarray(at, headEnd).toString('latin1')
    const m = /^HTTP\/\d\.\d (\d{3})/.exec(head)
    if (m === null) break
    const status = Number(m[1])
    let bodyStart = headEnd + 4
    if (status >= 100 && status < 200) {
      at = bodyStart
      continue
    }
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)
    const chunked = /\r\ntransfer-encoding: *chunked/i.test(head)
    let body: Buffer
    if (length !== null) {
      const end = bodyStart + Number(length[1])
      if (buf.length < end) break
      body = buf.subarray(bodyStart, end)
      at = end
    } else if (chunked) {
      const parts: Buffer[] = []
      let p = bodyStart
      let complete = false
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', p, 'latin1')
        if (lineEnd === -1) break
        const size = parseInt(buf.subarray(p, lineEnd).toString('latin1'), 16)
        if (Number.isNaN(size)) break
        if (size === 0) {
          const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd, 'latin1')
          if (trailerEnd === -1) break
          p = trailerEnd + 4
          complete = true
          break
        }
        if (buf.length < lineEnd + 2 + size + 2) break
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size))
        p = lineEnd + 2 + size + 2
      }
      if (!complete) break
      body = Buffer.concat(parts)
      at = p
    } else if (status === 204 || status === 304) {
      body = Buffer.alloc(0)
      at = bodyStart
    } else {
      if (!closed) break
      body = buf.subarray(bodyStart)
      at = buf.length
    }
    responses.push({ status, head, body: body.toString('utf8') })
    void bodyStart
    bodyStart = at
  }
  return { responses, rest: at }
}

/**
 * Writes the chunks (numbers are pauses in ms) to a new connection and collects the
 * answers until the server closes, `expect` answers have come (and 30 ms more), or the
 * timeout. Never rejects for what the server does: a reset is an ending like a close.
 */
export function rawExchange(
  port: number,
  chunks: (Buffer | number)[],
  opts: { end: boolean; timeoutMs: number; expect?: number; host?: string },
): Promise<{ responses: RawResponse[]; closedByServer: boolean; reset: boolean; timedOut: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: opts.host ?? '127.0.0.1' })
    const got: Buffer[] = []
    let finished = false
    let reset = false
    let closedByServer = false
    let timedOut = false
    let grace: NodeJS.Timeout | undefined
    const finish = () => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      clearTimeout(grace)
      socket.destroy()
      resolve({ responses: parseResponses(Buffer.concat(got), true).responses, closedByServer, reset, timedOut })
    }
    const timer = setTimeout(() => {
      timedOut = true
      finish()
    }, opts.timeoutMs)
    socket.on('data', (d: Buffer) => {
      got.push(d)
      const want = opts.expect ?? 0
      if (want > 0 && grace === undefined && parseResponses(Buffer.concat(got), false).responses.length >= want)
        grace = setTimeout(finish, 30)
    })
    socket.on('end', () => {
      closedByServer = true
      finish()
    })
    socket.on('close', finish)
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reset = true
      // A write after the server closed: keep what arrived.
    })
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (finished || socket.destroyed) return
        if (typeof c === 'number') await new Promise((r) => setTimeout(r, c))
        else if (!socket.write(c)) await new Promise((r) => socket.once('drain', r).once('close', r))
      }
      if (opts.end && !socket.destroyed) socket.end()
    })
  })
}

// --- an HTTP client that classifies outcomes ---------------------------------------------

export type Outcome =
  | { kind: 'answer'; status: number; body: string; headers: Record<string, string | string[] | undefined> }
  /** Connection refused: nobody listening (after close). */
  | { kind: 'refused' }
  /** The connection closed before any byte of an answer. */
  | { kind: 'reset'; code: string }
  /** An answer began and was cut off: never acceptable. */
  | { kind: 'truncated'; status: number; code: string }
  | { kind: 'timeout' }

export interface HttpOpts {
  method: string
  path: string
  headers?: Record<string, string>
  body?: string
  agent?: Agent | false
  timeoutMs?: number
}

export function http(port: number, o: HttpOpts): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false
    const settle = (x: Outcome) => {
      if (!done) {
        done = true
        clearTimeout(timer)
        resolve(x)
      }
    }
    const headers: Record<string, string> = { ...(o.headers ?? {}) }
    if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body))
    const req = httpRequest(
      { host: '127.0.0.1', port, method: o.method, path: o.path, headers, agent: o.agent ?? false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          if (!res.complete) settle({ kind: 'truncated', status: res.statusCode ?? 0, code: 'incomplete' })
          else
            settle({
              kind: 'answer',
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              headers: res.headers,
            })
        })
        res.on('error', (err: NodeJS.ErrnoException) =>
          settle({ kind: 'truncated', status: res.statusCode ?? 0, code: err.code ?? err.message }),
        )
        res.on('aborted', () => settle({ kind: 'truncated', status: res.statusCode ?? 0, code: 'aborted' }))
      },
    )
    const timer = setTimeout(() => {
      settle({ kind: 'timeout' })
      req.destroy()
    }, o.timeoutMs ?? 10_000)
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') settle({ kind: 'refused' })
      else settle({ kind: 'reset', code: err.code ?? err.message })
    })
    req.end(o.body)
  })
}

export const jsonHeaders = (key: string): Record<string, string> => ({
  authorization: `Bearer ${key}`,
  'content-type': 'application/json',
})
