import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { PACKAGE_ROOT } from '../../src/paths.js'
import { build, upstream } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: a walk through an OpenAPI document of any shape
type Json = Record<string, any>
type Doc = {
  paths: Record<string, Record<string, Json>>
  components: Record<string, Record<string, unknown>>
  [k: string]: unknown
}
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
const ERROR_CODES = ['400', '401', '403', '413', '429', '500']
/** The upstream document, read as plain JSON. */
const up = upstream as unknown as Json

/** Replaces every local $ref by what it points to, so that documents can be compared by content. */
function resolve(doc: Doc, value: unknown, depth = 0): unknown {
  if (depth > 20) throw new Error('$ref cycle')
  if (Array.isArray(value)) return value.map((v) => resolve(doc, v, depth + 1))
  if (value === null || typeof value !== 'object') return value
  const ref = (value as { $ref?: string }).$ref
  if (typeof ref === 'string') {
    const target = ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], doc)
    return resolve(doc, target, depth + 1)
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(doc, v, depth + 1)]))
}

/** Every operation under a path prefix, as `METHOD /path`. */
function operations(doc: Doc, prefix: string) {
  const ops = new Map<string, Json>()
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith(prefix)) continue
    for (const [method, op] of Object.entries(item))
      if (METHODS.includes(method)) ops.set(`${method.toUpperCase()} ${path}`, op)
  }
  return ops
}

/** Sorts object keys recursively: key order is not meaning. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical)
  if (v === null || typeof v !== 'object') return v
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
  )
}

/**
 * An operation with its $refs resolved and its parameters in a fixed order: @fastify/swagger
 * writes parameters inline where upstream refers to components.parameters, and in its own order.
 * Neither changes what a client generator reads.
 */
function comparable(doc: Doc, op: Json) {
  const r = resolve(doc, op) as Json
  if (r.parameters)
    r.parameters = [...r.parameters].sort((a: Json, b: Json) => `${a.in}/${a.name}`.localeCompare(`${b.in}/${b.name}`))
  return canonical(r)
}

const BRACKETED = /^[\s\S]+?( \[[a-z_]+=[^\]]*\])+$/

/**
 * Every way the served document differs from upstream on purpose, and why. Each `undo` first
 * checks that the difference is exactly the one listed, then turns the mock's document back
 * into upstream's form for it; whatever is left must equal upstream, so any other difference
 * fails the test.
 */
const DELIBERATE: { what: string; why: string; undo: (t: Test, doc: Doc) => void }[] = [
  {
    what: '`info` names the mock, its demo keys and its control routes',
    why: 'a visitor of /docs must see that this is a mock, which keys work, and where the control plane is',
    undo: (t, doc) => {
      const info = doc.info as Json
      t.match(info.title, /^ai-secret-mock/)
      for (const key of [
        'sk-mock-acme-owner',
        'sk-mock-multi-org',
        'sk-mock-globex-only',
        'sk-mock-acme-member',
        '/_mock/reset',
        'ADMIN_TOKEN',
      ])
        t.match(info.description, key)
      t.equal(info.version, up.info.version, 'the version of the API it mirrors')
      doc.info = up.info
    },
  },
  {
    what: 'no `servers`',
    why:
      'upstream names https://api.braintrust.dev; without servers, Swagger UI and generated clients talk to the ' +
      'mock they were fetched from',
    undo: (t, doc) => {
      t.equal(doc.servers, undefined)
      doc.servers = up.servers
    },
  },
  {
    what: 'top-level `tags` with descriptions, and the `/_mock` operations under the tag Mock control',
    why: 'the control plane is documented beside the API, apart from the Braintrust operations',
    undo: (t, doc) => {
      t.same(
        (doc.tags as Json[]).map((tag) => tag.name),
        ['AiSecrets', 'CORS', 'Mock control'],
      )
      delete doc.tags
      for (const [key, op] of operations(doc, '/_mock/')) t.same(op.tags, ['Mock control'], key)
      for (const path of Object.keys(doc.paths)) if (path.startsWith('/_mock/')) delete doc.paths[path]
    },
  },
  {
    what: 'the security scheme `adminToken`, and a `bearerAuth` description about demo keys',
    why:
      'a visitor holds the API key and the admin token at once (both are Bearer tokens); upstream\u2019s ' +
      'description sends the reader off to create a real Braintrust key',
    undo: (t, doc) => {
      const schemes = doc.components.securitySchemes as Json
      t.same(schemes.adminToken, { type: 'http', scheme: 'bearer', description: schemes.adminToken.description })
      t.match(schemes.bearerAuth.description, /sk-mock-acme-owner/)
      delete schemes.adminToken
      schemes.bearerAuth.description = up.components.securitySchemes.bearerAuth.description
    },
  },
  {
    what: 'the component schema `ForbiddenError`',
    why:
      'the body of a 403 as the mock (and the real server, RECORDED-BEHAVIOUR.md) answers it; upstream leaves its ' +
      'shape open',
    undo: (t, doc) => {
      t.same(Object.keys((doc.components.schemas as Json).ForbiddenError.properties), [
        'Code',
        'Message',
        'InternalTraceId',
        'Path',
        'Service',
      ])
      delete (doc.components.schemas as Json).ForbiddenError
    },
  },
  {
    what: 'examples on request bodies (`examples`) and parameters (`example`)',
    why:
      'Swagger UI fills them in: executed as they are on the demo data, they work (test/openapi-examples.test.ts); ' +
      'upstream has none, and its component schemas stay as they are',
    undo: (t, doc) => {
      for (const [key, op] of operations(doc, '/v1/')) {
        const media = op.requestBody?.content?.['application/json']
        if (media !== undefined) {
          t.ok(media.examples, `${key}: request body examples`)
          delete media.examples
        }
        for (const p of op.parameters ?? []) delete p.example
      }
    },
  },
  {
    what: 'the `Prefer` header parameter on every /v1 operation',
    why: 'the mock answers `Prefer: code=` / `delay=` (as Prism does); declared, it can be used from Try it out',
    undo: (t, doc) => {
      for (const [key, op] of operations(doc, '/v1/')) {
        const prefer = (op.parameters as Json[]).filter((p) => p.name === 'Prefer')
        t.same(
          prefer.map((p) => [p.in, p.required, p.schema]),
          [['header', false, { type: 'string' }]],
          key,
        )
        op.parameters = (op.parameters as Json[]).filter((p) => p.name !== 'Prefer')
        if (op.parameters.length === 0) delete op.parameters
      }
    },
  },
  {
    what:
      'error content as the mock answers it: `text/plain` with bracketed context (an example each), ' +
      '`ForbiddenError` JSON for 403',
    why:
      'upstream documents every error as `text/plain` string or `application/json` of any shape; the mock answers ' +
      'one of them, and a visitor sees what',
    undo: (t, doc) => {
      for (const [key, op] of operations(doc, '/v1/')) {
        const [method, path] = key.split(' ') as [string, string]
        const theirs = up.paths[path]![method.toLowerCase()]!.responses as Json
        for (const code of ERROR_CODES) {
          const response = op.responses[code]
          if (response === undefined) continue
          if (code === '403') {
            t.same(Object.keys(response.content), ['application/json'], `${key} 403`)
            t.same(
              response.content['application/json'].schema,
              { $ref: '#/components/schemas/ForbiddenError' },
              `${key} 403`,
            )
            for (const e of Object.values(response.content['application/json'].examples) as Json[]) {
              t.match(
                e.value,
                { Code: 'ForbiddenError', Message: BRACKETED, InternalTraceId: String, Path: String, Service: 'api' },
                `${key} 403 example`,
              )
            }
          } else {
            t.same(Object.keys(response.content), ['text/plain'], `${key} ${code}`)
            t.same(response.content['text/plain'].schema, { type: 'string' })
            const examples = Object.values(response.content['text/plain'].examples) as Json[]
            t.ok(examples.length > 0, `${key} ${code}: an example`)
            for (const e of examples) t.match(e.value, BRACKETED, `${key} ${code} example`)
          }
          if (theirs[code] !== undefined) response.content = theirs[code].content
        }
      }
    },
  },
  {
    what: 'a 413 response on every /v1 operation that reads a body (not GET, not OPTIONS)',
    why: 'the mock answers 413 for a body over its 1 MiB limit; upstream documents none',
    undo: (t, doc) => {
      for (const [key, op] of operations(doc, '/v1/')) {
        t.equal(op.responses['413'] !== undefined, !/^(GET|OPTIONS) /.test(key), `${key} 413`)
        delete op.responses['413']
      }
    },
  },
  {
    what: 'the 400 description goes on where an absent secret is a 400 too (DELETE and PATCH)',
    why:
      'the mock answers one 400 for an absent secret and for a key that may not change it, as the real server does; ' +
      'upstream\u2019s description does not say so',
    undo: (t, doc) => {
      for (const [key, op] of operations(doc, '/v1/')) {
        const [method, path] = key.split(' ') as [string, string]
        const theirs = (up.paths[path]![method.toLowerCase()]!.responses as Json)['400'].description as string
        const ours = op.responses['400'].description as string
        t.ok(ours.startsWith(theirs), `${key}: starts with upstream's 400 description`)
        if (ours !== theirs) t.match(ours, /does not exist/, `${key}: says an absent secret is a 400`)
        op.responses['400'].description = theirs
      }
    },
  },
  {
    what: 'the OPTIONS 200 responses without a `content` map',
    why:
      '@fastify/swagger writes no content for a response without a body; upstream writes an empty map: the same to ' +
      'a client',
    undo: (t, doc) => {
      for (const [key, op] of operations(doc, '/v1/')) {
        if (!key.startsWith('OPTIONS')) continue
        t.equal(op.responses['200'].content, undefined, key)
        op.responses['200'].content = {}
      }
    },
  },
]

t.test('the committed openapi/openapi.json and .yaml are what the code generates (npm run openapi)', async (t) => {
  const app = await build(t, { seed: false })
  const committed = readFileSync(join(PACKAGE_ROOT, 'openapi', 'openapi.json'), 'utf8')
  t.equal(
    committed,
    `${JSON.stringify(app.swagger(), null, 2)}\n`,
    'run `npm run openapi` after changing a route schema',
  )
  t.equal(readFileSync(join(PACKAGE_ROOT, 'openapi', 'openapi.yaml'), 'utf8'), app.swagger({ yaml: true }))
  const served = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(served.statusCode, 200)
  t.same(served.json(), app.swagger())
  const yaml = await app.inject({ method: 'GET', url: '/openapi.yaml' })
  t.equal(
    yaml.headers['content-type'],
    'text/yaml; charset=utf-8',
    'a text/ type: a browser shows it rather than downloading it',
  )
  t.match(yaml.body, /^openapi: 3\.0\.3/)
  t.notMatch(yaml.body, /[&*]a\d+\b/, 'no YAML anchors or aliases: every part reads where it is')
  const ui = await app.inject({ method: 'GET', url: '/docs' })
  t.equal(ui.statusCode, 200, 'Swagger UI is served (loaded on this first request)')
  t.match(ui.headers['content-type'], /^text\/html/)
  t.match(ui.body, '<title>ai-secret-mock: API docs (Swagger UI)</title>', 'the page title names the mock')
  t.match(ui.headers['x-request-id'], /^mock::/, "with the app's own headers")
  const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
  t.match(
    init.body,
    '"urls":[{"url":"/openapi.json","name":"ai-secret-mock: /openapi.json"}]',
    'the top bar reads and shows /openapi.json',
  )
  t.match(init.body, '"persistAuthorization":true', 'Authorize survives a reload')
  t.match(init.body, `data:image/svg+xml;base64,`, "the top bar's logo is the mock's name, not Fastify's")
  t.same(
    (await app.inject({ method: 'GET', url: '/docs/json' })).json(),
    app.swagger(),
    "the UI shows the app's document",
  )
  const css = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui.css' })
  t.equal(css.statusCode, 200)
  const head = await app.inject({ method: 'HEAD', url: '/docs/static/swagger-ui.css' })
  t.equal(head.statusCode, 200)
  t.equal(head.headers['content-length'], css.headers['content-length'], 'HEAD names the length GET sends')
  t.equal(head.rawPayload.length, 0)
  t.equal(
    (
      await app.inject({
        method: 'GET',
        url: '/docs/static/swagger-ui.css',
        headers: { 'if-none-match': String(css.headers.etag) },
      })
    ).statusCode,
    304,
  )
  const moved = await app.inject({ method: 'GET', url: '/docs/static/index.html' })
  t.equal(moved.statusCode, 302)
  t.equal(moved.headers.location, '/docs/')
  for (const url of ['/docs/nope', '/docs/static/nope.js']) {
    const missing = await app.inject({ method: 'GET', url })
    t.equal(missing.statusCode, 404, url)
    t.match(
      missing.body,
      new RegExp(
        `^No route for GET ${url} \\[timestamp=[\\d.]+\\] \\[request_id=${missing.headers['x-request-id']}\\]$`,
      ),
      "the app's own 404",
    )
  }
})

t.test("/ leads to /docs; /favicon.ico to Swagger UI's icon; without the UI, neither is there", async (t) => {
  const app = await build(t, { seed: false })
  for (const method of ['GET', 'HEAD'] as const) {
    const root = await app.inject({ method, url: '/' })
    t.equal(root.statusCode, 302, `${method} /`)
    t.equal(root.headers.location, '/docs')
  }
  const icon = await app.inject({ method: 'GET', url: '/favicon.ico' })
  t.equal(icon.statusCode, 302)
  t.equal(
    (await app.inject({ method: 'GET', url: String(icon.headers.location) })).headers['content-type'],
    'image/png',
  )
  const bare = await build(t, { seed: false, docs: false })
  t.equal((await bare.inject({ method: 'GET', url: '/' })).statusCode, 404)
  t.equal((await bare.inject({ method: 'GET', url: '/docs' })).statusCode, 404)
  t.equal(
    (await bare.inject({ method: 'GET', url: '/openapi.json' })).statusCode,
    200,
    'the document is served either way',
  )
})

t.test('the document differs from upstream only as listed, each difference with its reason', async (t) => {
  const app = await build(t, { seed: false })
  const mine = structuredClone(app.swagger()) as unknown as Doc
  const theirs = upstream as unknown as Doc
  t.same(
    [...operations(mine, '/v1/').keys()].sort(),
    [...operations(theirs, '/v1/').keys()].sort(),
    'the same /v1 operations, no more, no fewer',
  )
  for (const d of DELIBERATE) {
    t.ok(d.why.length > 20, `${d.what}: a reason`)
    await t.test(d.what, async (t) => d.undo(t, mine))
  }
  // What is left is upstream, part by part (so that a failure names its part).
  t.same(Object.keys(mine).sort(), ['components', 'info', 'openapi', 'paths', 'security', 'servers'])
  t.same(mine.info, theirs.info, 'info')
  t.same(mine.servers, theirs.servers, 'servers')
  t.same(mine.security, theirs.security, 'security')
  t.same(mine.components.securitySchemes, theirs.components.securitySchemes, 'components.securitySchemes')
  t.same(canonical(mine.components.schemas), canonical(theirs.components.schemas), 'components.schemas')
  for (const [key, op] of operations(theirs, '/v1/'))
    t.same(comparable(mine, operations(mine, '/v1/').get(key)!), comparable(theirs, op), key)
  t.same(Object.keys(mine.paths).sort(), Object.keys(theirs.paths).sort(), 'paths')
})

t.test('a difference not listed fails the comparison', async (t) => {
  // The comparison itself can fail: one drifted word is found.
  const app = await build(t, { seed: false })
  const mine = structuredClone(app.swagger()) as unknown as Doc
  for (const d of DELIBERATE) d.undo(t, mine)
  mine.paths['/v1/ai_secret']!.delete!.summary = 'Delete one ai_secret'
  const key = 'DELETE /v1/ai_secret'
  const theirs = upstream as unknown as Doc
  t.notSame(
    comparable(mine, operations(mine, '/v1/').get(key)!),
    comparable(theirs, operations(theirs, '/v1/').get(key)!),
  )
})

t.test('every operation has an operationId and a description; /_mock ones use the admin scheme', async (t) => {
  const app = await build(t, { seed: false })
  const doc = app.swagger() as unknown as Doc
  const ids = new Set<string>()
  for (const [key, op] of operations(doc, '/')) {
    t.match(op.operationId, /^[a-z][A-Za-z]+$/, `${key}: operationId`)
    t.notOk(ids.has(op.operationId), `${key}: ${op.operationId} is unique`)
    ids.add(op.operationId)
    t.ok(typeof op.description === 'string' && op.description.length > 10, `${key}: description`)
    if (key.includes(' /_mock/'))
      t.same(op.security, key === 'GET /_mock/health' ? [] : [{ adminToken: [] }, {}], `${key}: security`)
  }
  t.ok(ids.size >= 21, `${ids.size} operations`)
})

t.test('with ADMIN_TOKEN set, the served document makes the admin scheme required on /_mock', async (t) => {
  const app = await build(t, { seed: false, adminToken: 'admin-0123' })
  const doc = app.swagger() as unknown as Doc
  for (const [key, op] of operations(doc, '/_mock/'))
    t.same(op.security, key === 'GET /_mock/health' ? [] : [{ adminToken: [] }], key)
  for (const [key, op] of operations(doc, '/v1/'))
    t.same(op.security, key.startsWith('OPTIONS') ? [] : [{ bearerAuth: [] }, {}], key)
  t.notMatch(JSON.stringify(doc), 'admin-0123', 'the token itself appears nowhere')
})
