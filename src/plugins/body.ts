import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import sjson from 'secure-json-parse'
import type { Transform } from 'node:stream'
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib'
import { ApiError, BODY_LIMIT, DRAIN_LIMIT } from '../errors.js'
import { LONE_SURROGATE, loneSurrogateAt } from '../unicode.js'

/** Deeper JSON is refused before it is parsed: nothing later can run out of stack on it. */
export const MAX_JSON_DEPTH = 64

type Done = (err: Error | null, body?: unknown) => void

/** The content codings request bodies may come in (RFC 9110 section 8.4.1), as `Accept-Encoding` lists them. */
export const ACCEPTED_ENCODINGS = 'gzip, deflate, br'

type Coding = 'gzip' | 'deflate' | 'br'

/**
 * The codings a `Content-Encoding` header lists, in the order they were applied (RFC 9110
 * section 8.4): `identity` (and empty members of the list) dropped, `x-gzip` read as `gzip`
 * (section 8.4.1.3), names compared without regard to case. Throws the 415 for a coding
 * the mock cannot decode, before any of the body is read.
 */
/**
 * The most content codings decoded one after another (undici's limit for answers, for the same
 * reason): each layer is a decoder's worth of native memory and time, and 2 500 gzip layers made a
 * 72 KB body take 30 s (an outside audit). No client applies more than one or two.
 */
export const MAX_CODINGS = 5

export function contentCodings(header: string | string[] | undefined): Coding[] {
  if (header === undefined) return []
  const codings: Coding[] = []
  for (const raw of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const name = raw.trim().toLowerCase()
    if (name === '' || name === 'identity') continue
    if (name === 'gzip' || name === 'x-gzip') codings.push('gzip')
    else if (name === 'deflate' || name === 'br') codings.push(name)
    else {
      throw new ApiError(
        'encoding_unsupported',
        { coding: printable(raw.trim()), accepted: ACCEPTED_ENCODINGS },
        { 'accept-encoding': ACCEPTED_ENCODINGS },
      )
    }
    if (codings.length > MAX_CODINGS)
      throw new ApiError('encoding_unsupported', { max: MAX_CODINGS }, { 'accept-encoding': ACCEPTED_ENCODINGS })
  }
  return codings
}

/**
 * A decoder for one coding. `deflate` is the zlib format (RFC 9110 section 8.4.1.2); as
 * browsers do for answers, a raw deflate stream (what some clients send) is decoded too,
 * told apart by the zlib header's check bits (RFC 1950).
 */
function decoder(coding: Coding, first: Buffer): Transform {
  if (coding === 'gzip') return createGunzip()
  if (coding === 'br') return createBrotliDecompress()
  const zlibHeader = first.length >= 2 && (first[0]! & 0x0f) === 8 && (first[0]! * 256 + first[1]!) % 31 === 0
  return zlibHeader ? createInflate() : createInflateRaw()
}

interface Sink {
  data(chunk: Buffer): void
  end(): void
  error(): void
}

interface Stage {
  write(chunk: Buffer): void
  end(): void
  destroy(): void
}

/**
 * Undoes one coding, passing what it decodes to `out`; its decoder is made on the first
 * bytes. Bytes after the end of the coded data (which deflate and br decoders would drop
 * without a word) mean the body is not what it says: an error, as for gzip.
 */
function stage(coding: Coding, out: Sink): Stage {
  let z: (Transform & { bytesWritten: number }) | null = null
  let fed = 0
  /** The first bytes, kept until there are two: deflate's header is told by both. */
  let first = Buffer.alloc(0)
  const open = () => {
    const d = (z = decoder(coding, first) as Transform & { bytesWritten: number })
    d.on('data', out.data)
      .on('end', () => (d.bytesWritten < fed ? out.error() : out.end()))
      .on('error', out.error)
    d.write(first)
  }
  return {
    write(chunk) {
      fed += chunk.length
      if (z !== null) return void z.write(chunk)
      first = Buffer.concat([first, chunk])
      if (first.length >= 2) open()
    },
    end() {
      // No bytes came: there is nothing to decode.
      if (z === null && first.length === 0) return out.end()
      if (z === null) open()
      z!.end()
    },
    destroy() {
      if (z === null) return
      z.removeAllListeners().on('error', () => {})
      z.destroy()
    },
  }
}

/**
 * Reads the whole body, decoding its content codings (the last applied first). The limit
 * counts the bytes received and the decoded bytes alike: once either passes it, decoding
 * stops at once (a small compressed bomb is never inflated whole) and the rest is read and
 * discarded before the 413 is answered, so the client sees the answer instead of a broken
 * pipe. A body that does not decode as declared is a 400. An empty body is no body,
 * whatever coding it is labelled with.
 */
function readBody(
  stream: NodeJS.ReadableStream,
  codings: Coding[],
  timeLeftMs: number,
  timeoutMs: number,
  done: (err: Error | null, buf?: Buffer) => void,
) {
  const chunks: Buffer[] = []
  let received = 0
  let decoded = 0
  let over = false
  let ended = false
  let finished = false
  const stages: Stage[] = []
  // A body that stops arriving: answered once the request's time is up, its connection closed.
  const timer = setTimeout(() => {
    finish(new ApiError('request_timeout', { ms: timeoutMs }, { connection: 'close' }))
    ;(stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.()
  }, timeLeftMs)
  // Only a live connection waits for its body: the timer alone never keeps the process up.
  timer.unref()
  const finish = (err: Error | null, buf?: Buffer) => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    stream.removeListener('data', onData)
    for (const s of stages) s.destroy()
    done(err, buf)
  }
  const tooLarge = () => {
    over = true
    chunks.length = 0
    for (const s of stages) s.destroy()
    if (ended) finish(new ApiError('body_too_large'))
  }
  const invalid = () => finish(new ApiError('encoding_invalid', { coding: codings.join(', ') }))
  let sink: Sink = {
    data(chunk) {
      decoded += chunk.length
      if (decoded > BODY_LIMIT) tooLarge()
      else chunks.push(chunk)
    },
    end: () => finish(null, Buffer.concat(chunks)),
    error: invalid,
  }
  // Applied first, undone last: each stage feeds the one made before it.
  for (const coding of codings) {
    const next = stage(coding, sink)
    stages.unshift(next)
    sink = { data: (chunk) => next.write(chunk), end: () => next.end(), error: invalid }
  }
  const onData = (chunk: Buffer) => {
    received += chunk.length
    if (received > DRAIN_LIMIT) {
      finish(new ApiError('body_too_large', {}, { connection: 'close' }))
      stream.resume()
      return
    }
    if (over) return
    if (received > BODY_LIMIT) tooLarge()
    else sink.data(chunk)
  }
  stream.on('data', onData)
  stream.once('end', () => {
    ended = true
    if (over) finish(new ApiError('body_too_large'))
    else sink.end()
  })
  stream.once('error', (err: Error) => finish(err))
  // The client left before its body ended: while a fault rule delayed the request (the stream is
  // destroyed before this read began, and says so by no event), or during the read.
  const gone = () => {
    if (!ended) finish(Object.assign(new Error('the client closed the connection'), { code: 'ECONNRESET' }))
  }
  if ((stream as NodeJS.ReadableStream & { destroyed?: boolean }).destroyed === true) gone()
  else stream.once('close', gone)
}

/** Whether a request's head announces a body: a Content-Length other than 0, or a Transfer-Encoding. */
function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length']
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined
}

/**
 * Whether a Content-Type names JSON: `application/json` or `application/<anything>+json`
 * (RFC 6839 section 3.1), in any case (RFC 9110 section 8.3.1), whatever its parameters
 * say. RFC 8259 defines no parameters for JSON ("adding one really has no effect on
 * compliant recipients", section 11) and JSON exchanged between systems is UTF-8 (section
 * 8.1), so `charset` and any other parameter, quoted or not, are ignored.
 */
export function isJsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false
  const semi = header.indexOf(';')
  const type = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase()
  return (
    type === 'application/json' ||
    (type.startsWith('application/') && type.endsWith('+json') && type.length > 'application/+json'.length)
  )
}

/** Depth of `[`/`{` nesting outside strings, stopping early once past max. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > max) return true
    } else if (c === 93 || c === 125) depth--
  }
  return false
}

/** Where JSON.parse stopped, without its message: V8 quotes the input, which may hold a secret. */
function errorPosition(err: unknown): string {
  const m = /position (\d+)/.exec(String((err as Error).message))
  return m ? ` at position ${m[1]}` : ''
}

/** How JSON writes one (`\ud800`); a body decoded from UTF-8 holds no other kind. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/

export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw new ApiError('json_too_deep', { max: MAX_JSON_DEPTH })
  let value: unknown
  try {
    value = sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' })
  } catch (err) {
    throw new ApiError('invalid_json', { where: errorPosition(err) })
  }
  // "\ud800" is valid JSON but not Unicode: stored, it would come back as other characters
  // (and two such names as one), so it is refused, as I-JSON (RFC 7493) refuses it.
  if (SURROGATE_ESCAPE.test(text) || LONE_SURROGATE.test(text)) {
    const at = loneSurrogateAt(value)
    if (at !== null) {
      // A body's fields are named as the issue arrays name them: `name`, not `$.name`.
      const field = at.startsWith('$.') ? at.slice(2) : at
      throw new ApiError('invalid_json', {
        where: `: a string at ${field} holds half of a UTF-16 surrogate pair (a lone surrogate), which is not Unicode`,
      })
    }
  }
  return value
}

function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?')
  return clean.length > 80 ? `${clean.slice(0, 80)}...` : clean
}

/**
 * Body parsing for the whole app: one parser for every content type, which decodes the
 * body (Content-Encoding) and reads JSON media types (see isJsonMediaType) as JSON. JSON
 * bodies may be empty (the official client's `delete(id)` sends `content-type:
 * application/json` with no body). Anything else is read (within the limit) and refused as
 * not JSON, with a 400 in the documented shape rather than Fastify's own 415. Nothing is
 * parsed, so nothing is created, from a body that was not read as declared.
 */
async function bodyPlugin(app: FastifyInstance, opts: { requestTimeoutMs: number }) {
  // When each request arrived: its body must be whole within requestTimeoutMs of that (Node's
  // own requestTimeout stops waiting once the head is in: a body that never ends was held forever).
  const arrived = new WeakMap<object, number>()
  app.addHook('onRequest', (request, _reply, done) => {
    arrived.set(request.raw, performance.now())
    done()
  })
  // Node's parser takes `Transfer-Encoding: gzip, chunked` and hands the body on still in gzip:
  // read as JSON, a client's compressed body would be taken for a plain one. Only chunked alone
  // is accepted, as RFC 9112 section 6.1 lets a server refuse a coding it does not apply (501).
  app.addHook('onRequest', (request, _reply, done) => {
    const te = request.headers['transfer-encoding']
    if (te === undefined || te.trim().toLowerCase() === 'chunked') return done()
    done(new ApiError('transfer_coding_unsupported', { coding: printable(te) }))
  })
  // An answer given while the request's body is still arriving (a GET whose body is not read, a
  // 401 or a forced fault whose drain gave up): the connection closes after it, instead of staying
  // up for whatever the client still trickles (an outside audit held sockets 60 s so).
  // (A request with no body may be answered before Node marks it complete: it is not one of these.)
  app.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw
    if (raw.complete === false && hasBody(raw.headers)) reply.header('connection', 'close')
    done(null, payload)
  })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (req: FastifyRequest, payload, done: Done) => {
    let codings: Coding[]
    try {
      codings = contentCodings(req.headers['content-encoding'])
    } catch (err) {
      return done(err as Error)
    }
    const type = req.headers['content-type']
    const elapsed = performance.now() - (arrived.get(req.raw) ?? performance.now())
    const left = Math.max(0, opts.requestTimeoutMs - elapsed)
    readBody(payload, codings, left, opts.requestTimeoutMs, (err, buf) => {
      if (err) return done(err)
      if (isJsonMediaType(type)) {
        try {
          return done(null, parseJson(buf!.toString('utf8')))
        } catch (e) {
          return done(e as Error)
        }
      }
      if (buf!.length === 0) return done(null, undefined)
      done(new ApiError('not_json', { type: printable(type ?? 'none') }))
    })
  })
}

export default fp(bodyPlugin, { name: 'body', fastify: '5.x' })
