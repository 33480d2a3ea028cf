// Hostile input: generated malformed requests. Each is sent through app.inject, or over a
// raw TCP socket to a listening server (so that even broken HTTP framing gets through).
// Whatever arrives, the mock must never answer 5xx, never crash, and still answer correctly
// afterwards; bodies over the limit get 413 and nesting cannot exhaust the stack.

import type { FastifyInstance } from 'fastify'
import { brotliCompressSync, constants as zlibConstants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import { BODY_LIMIT } from '../../../src/errors.js'
import { type RawResponse, rawExchange } from './net.js'
import { Rng } from './rng.js'

export const DEMO_KEYS = ['sk-mock-acme-owner', 'sk-mock-multi-org', 'sk-mock-globex-only', 'sk-mock-acme-member']

/**
 * The OpenAPI document (JSON or YAML, which Swagger UI shows) lists the demo keys on purpose:
 * they are public, so that a visitor can try the API (issue 14). Only there are they not a
 * leak; any other secret in a document still is. Told by the answer itself, so that raw
 * socket answers (pipelined, or to an odd request line) are judged alike.
 */
export function publicDocs(body: string): string {
  const doc =
    body.startsWith('{"openapi":') ||
    body.startsWith('openapi: ') ||
    /\r?\n\r?\n(\{"openapi":|openapi: )/.test(body.slice(0, 4096))
  if (!doc) return body
  let out = body
  for (const k of DEMO_KEYS) out = out.split(k).join('<demo key>')
  return out
}
export const DEMO_SECRET_VALUES = ['sk-proj-0123456789abcdef', 'sk-proj-fedcba9876543210']
/** Secret values the generated bodies carry: no answer or log line may show them. */
export const HOSTILE_SECRET = 'sk-hostile-value-Zr8q2Lw7'

export interface HostileRequest {
  family: string
  method: string
  url: string
  headers: Record<string, string>
  payload?: string | Buffer
  /** A check beyond "no 5xx": returns what is wrong, or null. */
  expect?: (status: number, body: string) => string | null
}

export interface Ctx {
  /** Ids the generator may aim at (real secrets of the demo seed, or any uuid). */
  ids: string[]
}

const UUID = '00000000-0000-4000-8000-000000000000'
const NAMES_WITH_CONTROLS = [
  '\u0000',
  'a\u0000b',
  '\u0001\u0002\u0003',
  '\r\n',
  'x\ty',
  '\u001b[31mred\u001b[0m',
  '\u007f',
  '\u2028\u2029',
  '\u202eRTL',
  'zero\u200bwidth',
  '\ufeffBOM',
  '\ud800',
  '\udfff\ud800',
  'é'.normalize('NFD'),
  '../../etc/passwd',
  '%00',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, sent as it is
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  "'; DROP TABLE ai_secrets; --",
]
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/jsonx',
  'text/json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '*/*',
  'application/',
  '/',
  ';',
  'application/json;;;;',
  'application/json; charset="',
  'x'.repeat(300),
  '',
  // As real clients send JSON (issue 11): parameters, case, white space, quoted values, +json.
  'application/json ; charset=utf-8',
  'application/json;charset="utf-8"',
  'Application/Json; Charset=UTF-8',
  'application/json; charset=utf-8; foo="a;b"',
  'application/vnd.api+json; charset=utf-8',
  'application/merge-patch+json',
  'application/problem+JSON;charset="UTF-8"',
  'application/json;',
  'application/json; =',
  'application/json; charset',
  'application/+json',
  '+json',
  'application/json\t; charset=utf-8',
  'application/json, text/plain',
]
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']
const ODD_METHODS = [
  'TRACE',
  'PROPFIND',
  'SEARCH',
  'MKCOL',
  'COPY',
  'LOCK',
  'PURGE',
  'REPORT',
  'QUERY',
  'get',
  'Delete',
]
const PATHS = [
  '/v1/ai_secret',
  '/v1/ai_secret/',
  '/v1/ai_secret//',
  '/v1/ai_secret/?limit=1',
  '/v1/ai_secret///',
  '/_mock/state/',
  '/openapi.json/',
  '/v1/ai_secrets',
  '/v1/ai_secret/x/y',
  '/v1//ai_secret',
  '//v1/ai_secret',
  '/v1/../v1/ai_secret',
  '/v1/./ai_secret',
  '/V1/AI_SECRET',
  '/v1/ai_secret%2F',
  '/v1/ai_secret/%2e%2e',
  '/v1',
  '/v1/',
  '/',
  '/docs',
  '/docs/../../../etc/passwd',
  '/openapi.json',
  '/openapi.yaml',
  '/_mock',
  '/_mock/health',
  '/_mock/state',
  '/_mock/requests',
  '/_mock/faults',
  '/_mock/nope',
  '/%',
  '/%ZZ',
  '/%00',
  '/v1/ai_secret/%E0%A4%A',
  '/v1/ai_secret/%C0%AF',
  '/\u00e9',
  '*',
  '/v1/ai_secret#frag',
  '/v1/ai_secret;x=1',
]
const BAD_IDS = [
  'x',
  '1',
  '-1',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  UUID.slice(1),
  `${UUID}0`,
  `{${UUID}}`,
  `urn:uuid:${UUID}`,
  UUID.replace(/0/g, 'g'),
  UUID.toUpperCase().replace('4', 'G'),
  '٠٠٠٠٠٠٠٠-٠٠٠٠-٤٠٠٠-٨٠٠٠-٠٠٠٠٠٠٠٠٠٠٠٠',
  "' OR 1=1 --",
  '%27',
  'a'.repeat(100),
  'a'.repeat(2047),
  'a'.repeat(5000),
  `${UUID}%00`,
  `${UUID}%20`,
  ' ',
  '%20',
]
const QUERIES = [
  'limit=1e999',
  'limit=99999999999999999999',
  'limit=1e21',
  'limit=Infinity',
  'limit=-0',
  'limit=0x10',
  'limit=1.5',
  'limit=%201',
  'limit=',
  'limit=null',
  'limit=-1',
  'limit[]=1',
  'limit=1&limit=2',
  `ids=${UUID}`,
  'ids=,,,',
  'ids=',
  `ids=${Array(500).fill(UUID).join(',')}`,
  'ids[]=x',
  '__proto__[polluted]=1',
  'constructor[prototype][polluted]=1',
  '__proto__=1',
  'org_name=%ZZ',
  'org_name=',
  'org_name=%00',
  `org_name=${'o'.repeat(5000)}`,
  'ai_secret_name=%E0%A4%A',
  'ai_secret_type=,',
  `starting_after=${UUID}`,
  `ending_before=${UUID}&starting_after=${UUID}`,
  'starting_after=x',
  '&&&==&=',
  '=',
  '%',
  '%%',
  'a=%zz',
  `${'a'.repeat(3000)}=1`,
  `x=${'%FF'.repeat(100)}`,
  // Bracket forms of array parameters (issue 11): what axios and qs send.
  `ids[]=${UUID}`,
  `ids[]=${UUID}&ids[]=${UUID}`,
  `ids[0]=${UUID}&ids[1]=x`,
  `ids%5B%5D=${UUID}`,
  'ids[]=',
  'ids[][]=1',
  'ids[999999999999999999999]=1',
  'ids[-1]=1',
  'ids[x]=1',
  '[]=1',
  '[0]=1',
  'ai_secret_type[]=openai',
  'ai_secret_type[0]=openai&ai_secret_type=anthropic',
  'limit[]=1&limit[]=2',
  '__proto__[]=1',
  'constructor[]=1',
  'hasOwnProperty[]=1',
]
const AUTHS = [
  '',
  'Bearer',
  'Bearer ',
  'Bearer  ',
  'Bearer\t',
  'bearer sk-mock-acme-owner',
  'BEARER sk-mock-acme-owner',
  'Bearer sk-mock-acme-owner extra',
  'Bearer sk-mock-acme-owner,Bearer sk-mock-multi-org',
  'Basic c2stbW9jay1hY21lLW93bmVyOg==',
  'Token sk-mock-acme-owner',
  'sk-mock-acme-owner',
  'Bearer a.b.c',
  'Bearer ..',
  'Bearer ...',
  'Bearer e30.e30.e30',
  'Bearer eyJhbGciOiJub25lIn0.eyJlbWFpbCI6ImFsaWNlQGFjbWUudGVzdCJ9.',
  `Bearer ${'x'.repeat(10_000)}`,
  'Bearer \u00e9\u00e8',
  'Bearer %00',
  'Bearer sk-mock-acme-owner\u0000',
]

/** Percent-encodes what may not stand in a request target (lone surrogates too, as their UTF-8 replacement). */
function pct(s: string, keep = /[\x21-\x7e]/): string {
  let out = ''
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte)
    out +=
      keep.test(c) && c !== '%' && c !== '#' && c !== '?' ? c : `%${byte.toString(16).padStart(2, '0').toUpperCase()}`
  }
  return out
}

function randomString(r: Rng, max: number): string {
  const n = r.int(max + 1)
  const kind = r.int(5)
  if (kind === 0) return r.pick(NAMES_WITH_CONTROLS)
  let s = ''
  for (let i = 0; i < n; i++) {
    if (kind === 1) s += String.fromCharCode(r.int(0x80))
    else if (kind === 2) s += String.fromCharCode(r.int(0x10000))
    else if (kind === 3) s += r.pick(['"', '\\', '{', '[', ']', '}', ':', ',', 'ü', '🔑', '\u0000', '\n'])
    else s += String.fromCharCode(0x61 + r.int(26))
  }
  return s
}

const KEYS = [
  'name',
  'org_name',
  'secret',
  'type',
  'metadata',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  'name ',
  'NAME',
  'id',
  'org_id',
  'created',
  'preview_secret',
  'organizations',
  'users',
  'api_keys',
  'ai_secrets',
]

/**
 * Random JSON of about that depth. The hostile secret value goes only where secrets go, the
 * top-level `secret` of a body (`top`): what a caller puts elsewhere (metadata.secret) is
 * data, which the API shows back.
 */
export function randomJson(r: Rng, depth: number, top = false): unknown {
  const kind = depth <= 0 ? r.int(6) : r.int(9)
  switch (kind) {
    case 0:
      return null
    case 1:
      return r.chance(0.5)
    case 2:
      return r.pick([
        0,
        -0,
        1,
        -1,
        1.5,
        1e308,
        -1e308,
        5e-324,
        2 ** 53,
        2 ** 53 + 1,
        -(2 ** 63),
        // biome-ignore lint/correctness/noPrecisionLoss: a number past what a double holds exactly, on purpose
        123456789012345678901234567890,
      ])
    case 3:
    case 4:
      return randomString(r, 40)
    case 5:
      return r.pick(KEYS)
    case 6:
    case 7: {
      const o: Record<string, unknown> = {}
      const n = r.int(6)
      for (let i = 0; i < n; i++) {
        const k = r.chance(0.7) ? r.pick(KEYS) : randomString(r, 10)
        o[k] = top && k === 'secret' && r.chance(0.7) ? HOSTILE_SECRET : randomJson(r, depth - 1)
      }
      return o
    }
    default:
      return Array.from({ length: r.int(5) }, () => randomJson(r, depth - 1))
  }
}

/** Text of a JSON value whose "__proto__" keys stay keys (JSON.stringify would drop a real prototype). */
function jsonText(v: unknown): string {
  return JSON.stringify(v)
}

/** JSON nested `depth` levels deep (or deeper: some units open two levels); closed or not. */
function nested(r: Rng, depth: number): { text: string; levels: number } {
  const [open, close, per] = r.pick([
    ['[', ']', 1],
    ['{"a":', '}', 1],
    ['[{"a":', '}]', 2],
    ['{"name":"x","metadata":', '}', 1],
  ] as const)
  const text = open.repeat(depth) + (r.chance(0.8) ? '1' : '') + (r.chance(0.7) ? close.repeat(depth) : '')
  return { text, levels: depth * per }
}

function authHeader(r: Rng): string | undefined {
  return r.weighted<string | undefined>([
    [6, `Bearer ${r.pick(DEMO_KEYS)}`],
    [1, undefined],
    [2, r.pick(AUTHS)],
  ])
}

function withAuth(r: Rng, headers: Record<string, string>): Record<string, string> {
  const a = authHeader(r)
  if (a !== undefined) headers.authorization = a
  return headers
}

const bodyRoute = (r: Rng, ctx: Ctx) =>
  r.weighted<[string, string]>([
    [3, ['DELETE', '/v1/ai_secret']],
    [2, ['POST', '/v1/ai_secret']],
    [2, ['PUT', '/v1/ai_secret']],
    [2, ['PATCH', `/v1/ai_secret/${r.chance(0.8) && ctx.ids.length > 0 ? r.pick(ctx.ids) : UUID}`]],
    [1, ['POST', '/_mock/seed']],
  ])

const isAuthed = (h: Record<string, string>) =>
  h.authorization !== undefined && /^Bearer +sk-mock-[a-z-]+ *$/i.test(h.authorization)

/**
 * A path Fastify's router refuses before any hook runs: bad percent-encoding, or a segment over maxParamLength (2048).
 */
function badPath(url: string): boolean {
  const path = url.split('?', 1)[0]!
  try {
    decodeURIComponent(path)
  } catch {
    return true
  }
  return path.split('/').some((seg) => seg.length > 2048)
}

type Coding = 'gzip' | 'deflate' | 'br'
const ENCODE: Record<Coding | 'deflate-raw', (b: Buffer) => Buffer> = {
  gzip: (b) => gzipSync(b),
  deflate: (b) => deflateSync(b),
  'deflate-raw': (b) => deflateRawSync(b),
  br: (b) => brotliCompressSync(b, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } }),
}
const bombs = new Map<number, Buffer>()
/** `mib` MiB of spaces, gzipped (made once per size). */
function bomb(mib: number): Buffer {
  let b = bombs.get(mib)
  if (b === undefined) bombs.set(mib, (b = gzipSync(Buffer.alloc(mib * 1024 * 1024, 0x20))))
  return b
}
const UNKNOWN_CODINGS = [
  'compress',
  'x-compress',
  'zstd',
  'exi',
  'pack200-gzip',
  'aes128gcm',
  'chunked',
  'gzip;q=1',
  '*',
  'gzip gzip',
  '\u00e9',
  'x'.repeat(200),
]

/**
 * Content-Encoding (issue 11): bodies encoded as declared (stacked too), declared but not
 * encoded, encoded otherwise than declared, truncated or with garbage after, unknown
 * codings, empty bodies, and small bombs that decode past the limit. Whatever comes: a 2xx
 * only from a body read as declared, 400, 413 or 415 otherwise; never a 5xx.
 */
function encodedRequest(r: Rng, [method, url]: [string, string]): HostileRequest {
  const family = 'content-encoding'
  const headers = withAuth(r, {
    'content-type': r.pick(['application/json', 'application/json; charset=utf-8', 'text/plain']),
  })
  const json = Buffer.from(
    JSON.stringify(r.chance(0.7) ? { name: randomString(r, 12) || 'x', secret: HOSTILE_SECRET } : randomJson(r, 3)),
  )
  const stack = Array.from(
    {
      length: r.weighted([
        [6, 1],
        [3, 2],
        [1, 3],
      ] as const),
    },
    () => r.pick<Coding>(['gzip', 'deflate', 'br']),
  )
  const v1 = url.startsWith('/v1/') && isAuthed(headers)
  const kind = r.weighted<string>([
    [5, 'as-declared'],
    [2, 'raw-deflate'],
    [3, 'not-encoded'],
    [2, 'other-coding'],
    [2, 'truncated'],
    [1, 'trailing-garbage'],
    [3, 'unknown'],
    [1, 'empty'],
    [2, 'bomb'],
    [1, 'identity'],
  ])
  const encode = (b: Buffer, codings: Coding[]) => codings.reduce((x, c) => ENCODE[c](x), b)
  let payload: Buffer
  let coding = stack.join(r.pick([', ', ',', ' , ']))
  let expect: HostileRequest['expect']
  const must = (ok: (s: number) => boolean, what: string) => (status: number) =>
    v1 && !ok(status) ? `want ${what}, got ${status}` : null
  switch (kind) {
    case 'as-declared':
      payload = encode(json, stack)
      if (r.chance(0.3)) coding = coding.toUpperCase()
      break
    case 'raw-deflate':
      coding = 'deflate'
      payload = ENCODE['deflate-raw'](json)
      break
    case 'not-encoded':
      payload = json
      expect = must((s) => s === 400, 'the 400 for a body that does not decode')
      break
    case 'other-coding': {
      const actual = r.pick<Coding>(['gzip', 'br'])
      payload = encode(json, [actual])
      coding = actual === 'gzip' ? 'br' : 'gzip'
      expect = must((s) => s === 400, 'the 400 for a body in another coding')
      break
    }
    case 'truncated': {
      const whole = encode(json, stack)
      payload = whole.subarray(0, r.int(Math.max(1, whole.length - 1)))
      expect = must((s) => s === 400, 'the 400 for a truncated body')
      break
    }
    case 'trailing-garbage':
      payload = Buffer.concat([encode(json, stack), r.bytes(r.range(1, 64))])
      expect = must((s) => s === 400, 'the 400 for garbage after the encoded body')
      break
    case 'unknown':
      coding = r.chance(0.5) ? r.pick(UNKNOWN_CODINGS) : `${coding}, ${r.pick(UNKNOWN_CODINGS)}`
      payload = r.chance(0.5) ? json : encode(json, stack)
      expect = must((s) => s === 415, 'the 415 for an unknown coding')
      break
    case 'empty':
      payload = Buffer.alloc(0)
      break
    case 'bomb': {
      // Decodes to several MiB (at most 64) from a few KiB: refused at the limit, never inflated whole.
      payload = bomb(r.pick([2, 8, 64]))
      coding = 'gzip'
      if (r.chance(0.5)) {
        payload = ENCODE.gzip(payload)
        coding = 'gzip, gzip'
      }
      expect = must((s) => s === 413, 'the 413 for a body that decodes past the limit')
      break
    }
    default:
      coding = r.pick(['identity', 'IDENTITY', 'identity, identity', ' identity '])
      payload = json
  }
  headers['content-encoding'] = coding
  return { family, method, url, headers, payload, expect }
}

/** One generated hostile request (well-formed HTTP, hostile content). */
export function hostileRequest(r: Rng, ctx: Ctx): HostileRequest {
  const family = r.weighted<string>([
    [10, 'random-json'],
    [4, 'deep-nesting'],
    [2, 'huge-string'],
    [4, 'invalid-utf8'],
    [5, 'content-type'],
    [6, 'headers'],
    [6, 'method-path'],
    [5, 'ids'],
    [5, 'control-chars'],
    [6, 'query'],
    [6, 'content-encoding'],
  ])
  const json = { 'content-type': 'application/json' }
  switch (family) {
    case 'random-json': {
      const [method, url] = bodyRoute(r, ctx)
      let v = randomJson(r, r.range(0, 6), true)
      if (r.chance(0.5) && v !== null && typeof v === 'object' && !Array.isArray(v))
        v = { name: randomString(r, 20), ...v }
      return { family, method, url, headers: withAuth(r, { ...json }), payload: jsonText(v) }
    }
    case 'deep-nesting': {
      const [method, url] = bodyRoute(r, ctx)
      const depth = r.pick([63, 64, 65, 66, 100, 1000, 10_000, 100_000, 300_000])
      const headers = withAuth(r, { ...json })
      const { text: payload, levels } = nested(r, depth)
      const tooDeep = levels > 64 && url.startsWith('/v1/')
      return {
        family,
        method,
        url,
        headers,
        payload,
        // Deeper than 64 is refused before parsing (when the key is good): a 400 that says so.
        expect: (status, body) =>
          tooDeep &&
          isAuthed(headers) &&
          payload.length <= BODY_LIMIT &&
          !(status === 400 && body.includes('nested deeper than 64 levels'))
            ? `want the 400 for nesting, got ${status}`
            : null,
      }
    }
    case 'huge-string': {
      const [method, url] = bodyRoute(r, ctx)
      const size = r.pick([64 * 1024, 512 * 1024, BODY_LIMIT - 64, BODY_LIMIT + 1, BODY_LIMIT * 2])
      const payload = JSON.stringify({ name: 'x'.repeat(size), secret: HOSTILE_SECRET })
      const headers = withAuth(r, { ...json })
      const over = Buffer.byteLength(payload) > BODY_LIMIT
      return {
        family,
        method,
        url,
        headers,
        payload,
        expect: (status) =>
          over && isAuthed(headers) && url.startsWith('/v1/') && status !== 413
            ? `want 413 for a body of ${payload.length} bytes, got ${status}`
            : null,
      }
    }
    case 'invalid-utf8': {
      const [method, url] = bodyRoute(r, ctx)
      const bad = r.pick([
        Buffer.from([0xff]),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from([0xf4, 0x90, 0x80, 0x80]),
        Buffer.from([0xe2, 0x82]),
        Buffer.from([0x80]),
        r.bytes(r.range(1, 64)),
      ])
      const payload = r.chance(0.7)
        ? Buffer.concat([Buffer.from('{"name":"'), bad, Buffer.from(`","secret":"${HOSTILE_SECRET}"}`)])
        : Buffer.concat([bad, Buffer.from('{"name":"x"}')])
      return { family, method, url, headers: withAuth(r, { ...json }), payload }
    }
    case 'content-encoding':
      return encodedRequest(r, bodyRoute(r, ctx))
    case 'content-type': {
      const [method, url] = bodyRoute(r, ctx)
      const headers = withAuth(r, {})
      const ct = r.pick(CONTENT_TYPES)
      if (r.chance(0.9)) headers['content-type'] = ct
      const payload = r.pick([
        '{"name":"OPENAI_API_KEY"}',
        'name=OPENAI_API_KEY',
        '',
        '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--x--',
        'null',
        '[]',
        '"x"',
        '\u0000',
      ])
      return { family, method, url, headers, payload }
    }
    case 'headers': {
      const [method, url] = bodyRoute(r, ctx)
      const headers: Record<string, string> = { ...json }
      headers.authorization = r.chance(0.3) ? `Bearer ${r.pick(DEMO_KEYS)}` : r.pick(AUTHS)
      const extra: [string, () => string][] = [
        [
          'x-request-id',
          () => r.pick(['', ' ', 'a b', 'x'.repeat(200), '\u00e9', '../..', 'id\u0001', 'mock::1', '1'.repeat(128)]),
        ],
        [
          'prefer',
          () =>
            r.pick([
              '',
              'code=',
              'code=abc',
              'code=200',
              'code=404',
              'code=429',
              'code=99999',
              'code=-1',
              'delay=',
              'delay=-5',
              'delay=abc',
              'delay=1',
              'delay=1e309',
              'code=429, delay=1',
              'respond-async',
              ';;;',
              `code=4${'0'.repeat(400)}`,
            ]),
        ],
        ['origin', () => r.pick(['null', '', 'http://x', 'x'.repeat(2000), '\u00e9', '*'])],
        ['accept', () => r.pick(['', '*/*', 'text/html', 'application/xml', '\u0001'])],
        ['access-control-request-headers', () => r.pick(['', 'x'.repeat(5000), 'a,b,,,'])],
        ['x-bt-org-name', () => r.pick(['acme', 'globex', '', 'x'])],
        ['cookie', () => `session=${HOSTILE_SECRET}`],
        ['content-encoding', () => r.pick(['gzip', 'br', 'identity', 'x'])],
        ['transfer-encoding', () => r.pick(['identity', 'gzip'])],
        ['expect', () => r.pick(['100-continue', 'x'])],
        ['x-forwarded-for', () => r.pick(['1.2.3.4', 'garbage', ''])],
        ['host', () => r.pick(['', 'x'.repeat(300), 'a:b:c', '[::1]'])],
      ]
      for (let i = r.int(4) + 1; i > 0; i--) {
        const [k, v] = r.pick(extra)
        headers[k] = v()
      }
      return {
        family,
        method,
        url,
        headers,
        payload: JSON.stringify({ name: 'OPENAI_API_KEY', secret: HOSTILE_SECRET }),
      }
    }
    case 'method-path': {
      const method = r.chance(0.7) ? r.pick(METHODS) : r.pick(ODD_METHODS)
      const url = r.chance(0.85) ? r.pick(PATHS) : `/${pct(randomString(r, 60))}`
      const payload = r.chance(0.5) ? JSON.stringify(randomJson(r, 2)) : undefined
      return {
        family,
        method,
        url: url.startsWith('/') || url === '*' ? url : `/${url}`,
        headers: withAuth(r, payload === undefined ? {} : { ...json }),
        payload,
      }
    }
    case 'ids': {
      const method = r.pick(['GET', 'PATCH', 'DELETE', 'OPTIONS'])
      const id = r.pick(BAD_IDS)
      const url = `/v1/ai_secret/${pct(id)}`
      const headers = withAuth(r, method === 'PATCH' || r.chance(0.3) ? { ...json } : {})
      return { family, method, url, headers, payload: method === 'PATCH' ? '{"name":"x"}' : undefined }
    }
    case 'control-chars': {
      const [method, url] = bodyRoute(r, ctx)
      const body: Record<string, unknown> = {
        name: r.pick(NAMES_WITH_CONTROLS) + (r.chance(0.5) ? randomString(r, 8) : ''),
      }
      if (r.chance(0.5)) body.org_name = r.pick([...NAMES_WITH_CONTROLS, 'acme', 'globex'])
      if (r.chance(0.3)) body.type = r.pick(NAMES_WITH_CONTROLS)
      if (r.chance(0.3)) body.metadata = { [r.pick(NAMES_WITH_CONTROLS)]: r.pick(NAMES_WITH_CONTROLS) }
      if (r.chance(0.3)) body.secret = HOSTILE_SECRET
      return { family, method, url, headers: withAuth(r, { ...json }), payload: JSON.stringify(body) }
    }
    default: {
      // query strings with garbage
      const n = r.range(1, 3)
      const q = Array.from({ length: n }, () =>
        r.chance(0.8) ? r.pick(QUERIES) : `${pct(randomString(r, 20), /[a-z0-9]/i)}=${pct(randomString(r, 10))}`,
      ).join('&')
      const base = r.weighted<string>([
        [6, '/v1/ai_secret'],
        [2, `/v1/ai_secret/${ctx.ids.length > 0 ? r.pick(ctx.ids) : UUID}`],
        [1, '/_mock/requests'],
        [1, '/_mock/state'],
      ])
      return {
        family: 'query',
        method: r.chance(0.85) ? 'GET' : r.pick(['DELETE', 'OPTIONS']),
        url: `${base}?${q}`,
        headers: withAuth(r, {}),
      }
    }
  }
}

// --- broken HTTP, for raw sockets -------------------------------------------------------

export interface RawCase {
  family: string
  /** Written in order; a number is a pause (ms) between chunks. */
  chunks: (Buffer | number)[]
  /** How many answers a correct server gives at most (pipelining); 0 when none need come. */
  answers: number
  /** Closes the writing side after the last chunk (or leaves the connection open until the timeout). */
  end: boolean
  /** How long to wait for answers (default: the run's). */
  timeoutMs?: number
}

const crlf = '\r\n'
const b = (s: string) => Buffer.from(s, 'latin1')

function serialize(req: HostileRequest, extraHeaders: string[] = [], close = true): Buffer {
  const body =
    req.payload === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(req.payload)
        ? req.payload
        : Buffer.from(req.payload, 'utf8')
  const lines = [`${req.method} ${req.url} HTTP/1.1`, 'host: 127.0.0.1']
  for (const [k, v] of Object.entries(req.headers))
    if (k !== 'host') lines.push(`${k}: ${Buffer.from(v, 'utf8').toString('latin1')}`)
  if (req.headers.host !== undefined) lines.splice(1, 1, `host: ${req.headers.host}`)
  if (body.length > 0 || ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method))
    lines.push(`content-length: ${body.length}`)
  if (close) lines.push('connection: close')
  lines.push(...extraHeaders)
  return Buffer.concat([b(lines.join(crlf) + crlf + crlf), body])
}

/** A hostile request as bytes: well-formed HTTP (what the inject run sends, over a real socket). */
export function rawOfRequest(req: HostileRequest): RawCase {
  return { family: req.family, chunks: [serialize(req)], answers: 1, end: false }
}

/** Broken HTTP: framing, header syntax, smuggling, pipelining, slow writers, binary garbage, oversized heads. */
export function brokenHttp(r: Rng, ctx: Ctx): RawCase & { expect?: HostileRequest['expect'] } {
  const auth = `authorization: Bearer ${r.pick(DEMO_KEYS)}`
  const del = (body: string, more = '') =>
    b(
      `DELETE /v1/ai_secret HTTP/1.1${crlf}host: localhost${crlf}${auth}${crlf}content-type: application/json${crlf}${more}`,
    ) + body
  const family = r.pick([
    'garbage-line',
    'bad-version',
    'no-host',
    'bad-header-syntax',
    'duplicate-headers',
    'cl-te',
    'bad-chunked',
    'truncated-body',
    'extra-bytes',
    'header-overflow',
    'many-headers',
    'pipelined',
    'target-forms',
    'connect-upgrade',
    'slow',
    'binary',
    'invalid-utf8-head',
    'http10',
    'obs-fold',
    'chunked-over-limit',
    'request-line-overflow',
  ])
  const one = (s: string | Buffer, answers = 1, end = true): RawCase => ({
    family,
    chunks: [typeof s === 'string' ? b(s) : s],
    answers,
    end,
  })
  switch (family) {
    case 'garbage-line':
      return one(
        r.pick([
          'GARBAGE',
          'GET',
          'GET /',
          ' / HTTP/1.1',
          'GET  /v1/ai_secret  HTTP/1.1',
          'GET /v1/ai_secret HTTP/1.1 extra',
          '\r\n\r\nGET / HTTP/1.1',
          'G\u00c9T / HTTP/1.1',
          `${'A'.repeat(10_000)} / HTTP/1.1`,
        ]) +
          crlf +
          'host: localhost' +
          crlf +
          crlf,
      )
    case 'bad-version':
      return one(
        `GET /v1/ai_secret ${r.pick(['HTTP/9.9', 'HTTP/1', 'HTTP/1.1.1', 'HTTPS/1.1', 'http/1.1', 'HTTP/0.9', 'HTTP/2.0', 'HTTP/1.x'])}${crlf}host: localhost${crlf}${auth}${crlf}${crlf}`,
      )
    case 'no-host':
      return one(`GET /v1/ai_secret HTTP/1.1${crlf}${auth}${crlf}${crlf}`)
    case 'bad-header-syntax':
      return one(
        `GET /v1/ai_secret HTTP/1.1${crlf}host: localhost${crlf}${auth}${crlf}${r.pick(['bad header: x', 'x : y', ':x', 'x', 'x\u0000: y', 'x: a\u0000b', 'x: a\rb', 'x:\u007f', '(x): y', 'x\ty: z', `${'a'.repeat(100)} `])}${crlf}${crlf}`,
      )
    case 'duplicate-headers':
      return one(
        r.pick([
          `GET /v1/ai_secret HTTP/1.1${crlf}host: localhost${crlf}authorization: Bearer sk-mock-acme-owner${crlf}authorization: Bearer sk-mock-globex-only${crlf}${crlf}`,
          `GET /v1/ai_secret HTTP/1.1${crlf}host: localhost${crlf}host: y${crlf}${auth}${crlf}${crlf}`,
          del('{"name":"x"}', `content-length: 12${crlf}content-length: 13${crlf}${crlf}`),
          del('{"name":"x"}', `content-length: 12${crlf}content-length: 12${crlf}${crlf}`),
          del('{"name":"x"}', `content-type: text/plain${crlf}content-length: 12${crlf}${crlf}`),
          `GET /v1/ai_secret HTTP/1.1${crlf}host: localhost${crlf}${auth}${crlf}x-request-id: a${crlf}x-request-id: b${crlf}prefer: code=429${crlf}prefer: code=400${crlf}${crlf}`,
        ]),
      )
    case 'cl-te':
      return one(
        r.pick([
          del(
            `5${crlf}{"nam${crlf}0${crlf}${crlf}`,
            `content-length: 4${crlf}transfer-encoding: chunked${crlf}${crlf}`,
          ),
          del(
            '0\r\n\r\nGET /v1/ai_secret HTTP/1.1\r\nhost: localhost\r\n\r\n',
            `transfer-encoding: chunked${crlf}content-length: 40${crlf}${crlf}`,
          ),
          del(`c${crlf}{"name":"x"}${crlf}0${crlf}${crlf}`, `transfer-encoding: chunked, identity${crlf}${crlf}`),
          del(`c${crlf}{"name":"x"}${crlf}0${crlf}${crlf}`, `transfer-encoding: xchunked${crlf}${crlf}`),
          del(
            `c${crlf}{"name":"x"}${crlf}0${crlf}${crlf}`,
            `transfer-encoding: chunked${crlf}transfer-encoding: chunked${crlf}${crlf}`,
          ),
          del(`c${crlf}{"name":"x"}${crlf}0${crlf}${crlf}`, `transfer-encoding:\tchunked${crlf}${crlf}`),
        ]),
        2,
      )
    case 'bad-chunked':
      return one(
        del(
          r.pick([
            `zz${crlf}{"name":"x"}${crlf}0${crlf}${crlf}`,
            `ffffffffffffffffff${crlf}x${crlf}`,
            `c;ext=${'x'.repeat(5000)}${crlf}{"name":"x"}${crlf}0${crlf}${crlf}`,
            `c${crlf}{"name":"x"}0${crlf}${crlf}`,
            `-1${crlf}x${crlf}0${crlf}${crlf}`,
            `c${crlf}{"name":"x"}${crlf}0${crlf}trailer: ${HOSTILE_SECRET}${crlf}${crlf}`,
            `0x0c${crlf}{"name":"x"}${crlf}0${crlf}${crlf}`,
            `c\n{"name":"x"}\n0\n\n`,
          ]),
          `transfer-encoding: chunked${crlf}${crlf}`,
        ),
      )
    case 'truncated-body':
      return {
        family,
        chunks: [b(del('{"name":"OPENAI', `content-length: ${r.pick([100, 10_000, BODY_LIMIT])}${crlf}${crlf}`))],
        answers: 0,
        end: r.chance(0.5),
        timeoutMs: 300,
      }
    case 'extra-bytes':
      return one(
        del(
          `{"name":"zzz"}${r.pick(['GARBAGE', '\r\n\r\n', 'GET / HTTP/1.1\r\n\r\n', '\u0000\u0000'])}`,
          `content-length: 14${crlf}${crlf}`,
        ),
        2,
      )
    case 'header-overflow':
      // Node's limit (16 KiB for the request line and headers together): 431 in the documented shape (issue 11).
      return {
        ...one(
          `GET /v1/ai_secret HTTP/1.1${crlf}host: localhost${crlf}${auth}${crlf}x-big: ${'a'.repeat(r.pick([17_000, 40_000, 100_000]))}${crlf}${crlf}`,
        ),
        expect: (status, body) =>
          status === 431 && body.startsWith('Request header fields too large') ? null : `want the 431, got ${status}`,
      }
    case 'request-line-overflow': {
      const target = r.pick([
        `/v1/ai_secret?ids=${Array(500).fill('00000000-0000-4000-8000-000000000000').join(',')}`,
        `/v1/ai_secret/${'a'.repeat(17_000)}`,
        `/${'%41'.repeat(6000)}`,
      ])
      return {
        ...one(
          `${r.pick(['GET', 'DELETE', 'PATCH'])} ${target} HTTP/1.1${crlf}host: localhost${crlf}${auth}${crlf}${crlf}`,
        ),
        expect: (status, body) =>
          status === 414 && body.startsWith('URI too long') ? null : `want the 414, got ${status}`,
      }
    }
    case 'many-headers': {
      const n = r.pick([200, 2100, 5000])
      return one(
        `GET /v1/ai_secret HTTP/1.1${crlf}host: localhost${crlf}${auth}${crlf}${Array.from({ length: n }, (_, i) => `x-h${i}: ${i}`).join(crlf)}${crlf}${crlf}`,
      )
    }
    case 'pipelined': {
      const n = r.range(2, 12)
      const reqs = Array.from({ length: n }, (_, i) => serialize(hostileRequest(r, ctx), [], i === n - 1))
      return { family, chunks: [Buffer.concat(reqs)], answers: n, end: true }
    }
    case 'target-forms':
      return one(
        `${r.pick(['GET http://127.0.0.1/v1/ai_secret', 'GET https://evil.example/v1/ai_secret', 'OPTIONS *', 'GET *', 'GET 127.0.0.1:80', 'GET v1/ai_secret', 'GET //evil.example/v1/ai_secret', `GET /v1/ai_secret?${'%'.repeat(10)}`])} HTTP/1.1${crlf}host: localhost${crlf}${auth}${crlf}${crlf}`,
      )
    case 'connect-upgrade':
      return one(
        r.pick([
          `CONNECT 127.0.0.1:22 HTTP/1.1${crlf}host: 127.0.0.1:22${crlf}${crlf}`,
          `GET /v1/ai_secret HTTP/1.1${crlf}host: localhost${crlf}${auth}${crlf}connection: upgrade${crlf}upgrade: websocket${crlf}sec-websocket-key: x${crlf}sec-websocket-version: 13${crlf}${crlf}`,
          `GET /v1/ai_secret HTTP/1.1${crlf}host: localhost${crlf}${auth}${crlf}connection: upgrade, http2-settings${crlf}upgrade: h2c${crlf}http2-settings: AAMAAABkAAQAAP__${crlf}${crlf}`,
          `PRI * HTTP/2.0${crlf}${crlf}SM${crlf}${crlf}`,
        ]),
        1,
      )
    case 'slow': {
      const whole = serialize(hostileRequest(r, ctx))
      const chunks: (Buffer | number)[] = []
      for (let i = 0; i < whole.length; ) {
        const n = r.range(1, 64)
        chunks.push(whole.subarray(i, i + n))
        if (r.chance(0.2)) chunks.push(r.range(1, 15))
        i += n
      }
      return { family, chunks, answers: 1, end: false }
    }
    case 'binary':
      return one(r.bytes(r.range(1, 4096)), 1, r.chance(0.5))
    case 'invalid-utf8-head':
      return one(
        Buffer.concat([
          b('GET /v1/ai_secret/'),
          Buffer.from([0xff, 0xfe, 0xc0, 0xaf]),
          b(` HTTP/1.1${crlf}host: localhost${crlf}${auth}${crlf}x-h: `),
          Buffer.from([0xed, 0xa0, 0x80, 0xff]),
          b(`${crlf}authorization: Bearer `),
          Buffer.from([0xc3, 0x28]),
          b(crlf + crlf),
        ]),
      )
    case 'http10':
      return one(`GET /v1/ai_secret HTTP/1.0${crlf}${auth}${crlf}${crlf}`)
    case 'obs-fold':
      return one(
        `GET /v1/ai_secret HTTP/1.1${crlf}host: localhost${crlf}authorization: Bearer${crlf} sk-mock-acme-owner${crlf}${crlf}`,
      )
    default: {
      // chunked-over-limit: a body of 2 MiB in chunks by a good key: a complete 413, no broken pipe
      const chunk = Buffer.alloc(64 * 1024, 0x61)
      const chunks: Buffer[] = [
        b(
          `POST /v1/ai_secret HTTP/1.1${crlf}host: localhost${crlf}authorization: Bearer sk-mock-acme-owner${crlf}content-type: application/json${crlf}transfer-encoding: chunked${crlf}connection: close${crlf}${crlf}`,
        ),
      ]
      chunks.push(b(`${(5).toString(16)}${crlf}["aaa${crlf}`))
      for (let i = 0; i < 32; i++)
        chunks.push(Buffer.concat([b(`${chunk.length.toString(16)}${crlf}`), chunk, b(crlf)]))
      chunks.push(b(`3${crlf}"]}${crlf}0${crlf}${crlf}`))
      return { family, chunks, answers: 1, end: false }
    }
  }
}

// --- running them -------------------------------------------------------------------------

export interface HostileStats {
  sent: number
  byStatus: Record<string, number>
  byFamily: Record<string, number>
  /** Raw sockets closed without an answer (allowed for broken framing: there is nobody to answer). */
  unanswered: number
  /**
   * Requests inject() itself refuses to build (a lower-case method, a URL it cannot parse): the raw run sends those.
   */
  unsendable: number
  /** Everything that breaks a rule: 5xx (but the one documented), a failed expectation, a client error, a leak. */
  problems: string[]
}

export function newHostileStats(): HostileStats {
  return { sent: 0, byStatus: {}, byFamily: {}, unanswered: 0, unsendable: 0, problems: [] }
}

function record(stats: HostileStats, family: string, status: number | null) {
  stats.sent++
  stats.byFamily[family] = (stats.byFamily[family] ?? 0) + 1
  const k = status === null ? 'none' : String(status)
  stats.byStatus[k] = (stats.byStatus[k] ?? 0) + 1
}

const show = (req: HostileRequest) =>
  `${req.family}: ${req.method} ${req.url.slice(0, 120)} ${JSON.stringify(req.headers).slice(0, 200)} ${(req.payload ?? '').toString().slice(0, 120)}`

export interface Sink {
  /** Searches an answer for secrets; returns descriptions of what leaked. */
  check(text: string, where: string): string[]
}

/** n generated requests through app.inject. */
export async function injectRun(
  app: FastifyInstance,
  n: number,
  seed: number,
  ctx: Ctx,
  sink: Sink,
  stats = newHostileStats(),
): Promise<HostileStats> {
  const r = new Rng(seed)
  for (let i = 0; i < n; i++) {
    const req = hostileRequest(r, ctx)
    let res
    try {
      res = await app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, payload: req.payload })
    } catch (err) {
      const message = (err as Error).message
      if (/^Invalid URL|must be equal to one of the allowed values/.test(message)) stats.unsendable++
      else {
        record(stats, req.family, null)
        stats.problems.push(`inject threw ${message} on ${show(req)}`)
      }
      continue
    }
    record(stats, req.family, res.statusCode)
    if (res.statusCode >= 500 && !documented5xx(res.statusCode, res.body))
      stats.problems.push(`${res.statusCode} on ${show(req)}: ${res.body.slice(0, 200)}`)
    // docs/api.md: every answer carries its request id; errors come in the documented shapes.
    const type = String(res.headers['content-type'] ?? '')
    if (typeof res.headers['x-request-id'] !== 'string')
      stats.problems.push(
        `no x-request-id${badPath(req.url) ? ' (a path Fastify cannot decode, or over maxParamLength)' : ''}: ${res.statusCode} ${type} on ${show(req)}: ${res.body.slice(0, 200)}`,
      )
    else if (
      res.statusCode >= 400 &&
      req.method !== 'HEAD' &&
      !(
        type === 'text/plain; charset=utf-8' ||
        (type.startsWith('application/json') && res.body.startsWith('{"Code":"'))
      )
    ) {
      stats.problems.push(
        `undocumented error shape: ${res.statusCode} ${type} on ${show(req)}: ${res.body.slice(0, 200)}`,
      )
    }
    const wrong = req.expect?.(res.statusCode, res.body)
    if (wrong) stats.problems.push(`${wrong} on ${show(req)}: ${res.body.slice(0, 200)}`)
    for (const leak of sink.check(`${JSON.stringify(res.headers)}\n${publicDocs(res.body)}`, `answer to ${req.family}`))
      stats.problems.push(`LEAK ${leak} on ${show(req)}`)
  }
  return stats
}

/** Runs raw cases against a listening server, `concurrency` sockets at a time. */
export async function rawRun(
  port: number,
  cases: Iterable<RawCase & { expect?: HostileRequest['expect']; what?: string }>,
  concurrency: number,
  sink: Sink,
  stats = newHostileStats(),
  timeoutMs = 3000,
): Promise<HostileStats> {
  const it = cases[Symbol.iterator]()
  const worker = async () => {
    for (;;) {
      const next = it.next()
      if (next.done) return
      const c = next.value
      let answers: RawResponse[]
      let how = ''
      try {
        // Big bodies take their time on a busy machine: a second more per MiB.
        const bytes = c.chunks.reduce<number>((n, x) => n + (typeof x === 'number' ? 0 : x.length), 0)
        const wait = (c.timeoutMs ?? timeoutMs) + Math.ceil(bytes / (1024 * 1024)) * 1000
        const ex = await rawExchange(port, c.chunks, { end: c.end, timeoutMs: wait, expect: c.answers })
        answers = ex.responses
        how = ex.timedOut ? `timed out after ${wait} ms` : ex.reset ? 'reset' : 'closed'
      } catch (err) {
        record(stats, c.family, null)
        stats.problems.push(`socket error ${(err as Error).message} on ${c.family} ${c.what ?? ''}`)
        continue
      }
      if (answers.length === 0) {
        record(stats, c.family, null)
        stats.unanswered++
        if (c.answers > 0 && c.expect !== undefined)
          stats.problems.push(`no answer (${how}) to ${c.family} ${c.what ?? ''}`)
      }
      for (const a of answers) {
        record(stats, c.family, a.status)
        if (a.status >= 500 && !documented5xx(a.status, a.body))
          stats.problems.push(`${a.status} on raw ${c.family} ${c.what ?? ''}: ${a.body.slice(0, 200)}`)
        for (const leak of sink.check(a.head + publicDocs(a.body), `raw answer to ${c.family}`))
          stats.problems.push(`LEAK ${leak} on raw ${c.family}`)
      }
      if (c.expect !== undefined && answers[0] !== undefined) {
        const wrong = c.expect(answers[0].status, answers[0].body)
        if (wrong) stats.problems.push(`${wrong} on raw ${c.what ?? c.family}`)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return stats
}

/** Generated requests as raw bytes (each one's checks kept). */
export function* requestCases(
  n: number,
  seed: number,
  ctx: Ctx,
): Generator<RawCase & { expect?: HostileRequest['expect']; what: string }> {
  const r = new Rng(seed)
  for (let i = 0; i < n; i++) {
    const req = hostileRequest(r, ctx)
    yield { ...rawOfRequest(req), expect: req.expect, what: show(req) }
  }
}

export function* brokenCases(
  n: number,
  seed: number,
  ctx: Ctx,
): Generator<RawCase & { expect?: HostileRequest['expect'] }> {
  const r = new Rng(seed)
  for (let i = 0; i < n; i++) yield brokenHttp(r, ctx)
}

// --- afterwards: does it still answer correctly? ---------------------------------------------

export type Send = (o: {
  method: string
  url: string
  headers: Record<string, string>
  payload?: string
}) => Promise<{ status: number; body: string }>

/** A correct conversation with the mock, after whatever came before; returns what went wrong. */
export async function canary(send: Send, tag: string): Promise<string[]> {
  const problems: string[] = []
  const owner = { authorization: 'Bearer sk-mock-acme-owner', 'content-type': 'application/json' }
  const name = `canary-${tag}`
  const want = (
    what: string,
    got: { status: number; body: string },
    status: number,
    test: (body: string) => boolean = () => true,
  ) => {
    if (got.status !== status || !test(got.body))
      problems.push(`canary ${what}: ${got.status} ${got.body.slice(0, 200)}`)
  }
  const created = await send({
    method: 'POST',
    url: '/v1/ai_secret',
    headers: owner,
    payload: JSON.stringify({ name, type: 'openai', secret: 'sk-canary-value-Pq4Rw9' }),
  })
  want('create', created, 200, (b) => b.includes(`"name":"${name}"`) && b.includes('"preview_secret":"sk-...Rw9"'))
  const id =
    created.status === 200 ? (JSON.parse(created.body) as { id: string }).id : '00000000-0000-4000-8000-000000000000'
  want(
    'get',
    await send({ method: 'GET', url: `/v1/ai_secret/${id}`, headers: { authorization: owner.authorization } }),
    200,
    (b) => b.includes(id),
  )
  want(
    'list',
    await send({
      method: 'GET',
      url: `/v1/ai_secret?ai_secret_name=${name}`,
      headers: { authorization: owner.authorization },
    }),
    200,
    (b) => (JSON.parse(b) as { objects: unknown[] }).objects.length === 1,
  )
  want(
    'member delete',
    await send({
      method: 'DELETE',
      url: '/v1/ai_secret',
      headers: { ...owner, authorization: 'Bearer sk-mock-acme-member' },
      payload: JSON.stringify({ name }),
    }),
    400,
    (b) => b.startsWith(`Missing delete access to ai_secret ${name}, or the ai_secret does not exist [`),
  )
  want(
    'foreign org',
    await send({
      method: 'DELETE',
      url: '/v1/ai_secret',
      headers: { ...owner, authorization: 'Bearer sk-mock-globex-only' },
      payload: JSON.stringify({ name, org_name: 'acme' }),
    }),
    403,
    (b) => b.includes('ForbiddenError'),
  )
  want(
    'delete',
    await send({ method: 'DELETE', url: '/v1/ai_secret', headers: owner, payload: JSON.stringify({ name }) }),
    200,
    (b) => b.includes(id),
  )
  want(
    'delete again',
    await send({ method: 'DELETE', url: '/v1/ai_secret', headers: owner, payload: JSON.stringify({ name }) }),
    400,
    (b) => b.startsWith(`Missing delete access to ai_secret ${name}, or the ai_secret does not exist [`),
  )
  want(
    'unknown key',
    await send({ method: 'GET', url: '/v1/ai_secret', headers: { authorization: 'Bearer sk-nope' } }),
    401,
  )
  return problems
}

export const injectSend =
  (app: FastifyInstance): Send =>
  async (o) => {
    const res = await app.inject({ method: o.method as 'GET', url: o.url, headers: o.headers, payload: o.payload })
    return { status: res.statusCode, body: res.body }
  }

/**
 * The one 5xx the mock documents for a malformed request: 501 for a transfer coding other than chunked (RFC 9112
 * section 6.1).
 */
function documented5xx(status: number, body: string): boolean {
  return status === 501 && body.startsWith('Unsupported Transfer-Encoding ')
}
