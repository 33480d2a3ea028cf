import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import sjson from 'secure-json-parse'
import { ApiError, BODY_LIMIT, DRAIN_LIMIT } from '../errors.js'
import { LONE_SURROGATE, loneSurrogateAt } from '../unicode.js'

/** Deeper JSON is refused before it is parsed: nothing later can run out of stack on it. */
export const MAX_JSON_DEPTH = 64

type Done = (err: Error | null, body?: unknown) => void

/**
 * Reads the whole body. Over the limit, the rest is read and discarded before the 413 is
 * answered, so the client sees the answer instead of a broken pipe.
 */
function readBody(stream: NodeJS.ReadableStream, done: (err: Error | null, buf?: Buffer) => void) {
  const chunks: Buffer[] = []
  let size = 0
  let finished = false
  const finish = (err: Error | null, buf?: Buffer) => {
    if (finished) return
    finished = true
    stream.removeListener('data', onData)
    done(err, buf)
  }
  const onData = (chunk: Buffer) => {
    size += chunk.length
    if (size <= BODY_LIMIT) chunks.push(chunk)
    else {
      chunks.length = 0
      if (size > DRAIN_LIMIT) {
        finish(new ApiError('body_too_large', {}, { connection: 'close' }))
        stream.resume()
      }
    }
  }
  stream.on('data', onData)
  stream.once('end', () => finish(size > BODY_LIMIT ? new ApiError('body_too_large') : null, Buffer.concat(chunks)))
  stream.once('error', (err: Error) => finish(err))
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
      throw new ApiError('invalid_json', { where: `: a string at ${field} holds half of a UTF-16 surrogate pair (a lone surrogate), which is not Unicode` })
    }
  }
  return value
}

function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?')
  return clean.length > 80 ? `${clean.slice(0, 80)}...` : clean
}

/**
 * Body parsing for the whole app. JSON bodies may be empty (the official client's
 * `delete(id)` sends `content-type: application/json` with no body). Anything else is read
 * (within the limit) and refused as not JSON, with a 400 in the documented shape rather
 * than Fastify's own 415.
 */
async function bodyPlugin(app: FastifyInstance) {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json$/i, (_req: FastifyRequest, payload, done: Done) => {
    readBody(payload, (err, buf) => {
      if (err) return done(err)
      try {
        done(null, parseJson(buf!.toString('utf8')))
      } catch (e) {
        done(e as Error)
      }
    })
  })
  app.addContentTypeParser('*', (req: FastifyRequest, payload, done: Done) => {
    readBody(payload, (err, buf) => {
      if (err) return done(err)
      if (buf!.length === 0) return done(null, undefined)
      done(new ApiError('not_json', { type: printable(req.headers['content-type'] ?? 'none') }))
    })
  })
}

export default fp(bodyPlugin, { name: 'body', fastify: '5.x' })
