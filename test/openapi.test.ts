import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { PACKAGE_ROOT } from '../src/paths.js'
import { build, upstream } from './helper.js'

type Doc = { paths: Record<string, Record<string, Record<string, unknown>>>; components: Record<string, Record<string, unknown>> }
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/** Replaces every local $ref by what it points to, so that documents can be compared by content. */
function resolve(doc: Doc, value: unknown, depth = 0): unknown {
  if (depth > 20) throw new Error('$ref cycle')
  if (Array.isArray(value)) return value.map((v) => resolve(doc, v, depth + 1))
  if (value === null || typeof value !== 'object') return value
  const ref = (value as { $ref?: string }).$ref
  if (typeof ref === 'string') {
    const target = ref.replace(/^#\//, '').split('/').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], doc)
    return resolve(doc, target, depth + 1)
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(doc, v, depth + 1)]))
}

/** The parts of an operation a client generator reads, normalized. */
function shape(doc: Doc, op: Record<string, unknown>) {
  const r = resolve(doc, op) as Record<string, any>
  const params = ((r.parameters ?? []) as any[])
    .map((p) => ({ name: p.name, in: p.in, required: p.required ?? false, schema: p.schema, description: p.description, allowReserved: p.allowReserved ?? false }))
    .sort((a, b) => `${a.in}/${a.name}`.localeCompare(`${b.in}/${b.name}`))
  const responses = Object.fromEntries(
    Object.entries((r.responses ?? {}) as Record<string, any>).map(([code, res]) => [
      code,
      { description: res.description, content: res.content ?? {}, headers: res.headers ?? {} },
    ]),
  )
  return {
    operationId: r.operationId,
    tags: r.tags,
    summary: r.summary,
    description: r.description,
    security: r.security,
    parameters: params,
    requestBody: r.requestBody ?? null,
    responses,
  }
}

function operations(doc: Doc, prefix: string) {
  const ops = new Map<string, Record<string, unknown>>()
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith(prefix)) continue
    for (const [method, op] of Object.entries(item)) if (METHODS.includes(method)) ops.set(`${method.toUpperCase()} ${path}`, op)
  }
  return ops
}

/** Sorts object keys recursively: key order is not meaning. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical)
  if (v === null || typeof v !== 'object') return v
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
}

t.test('the committed openapi/openapi.json and .yaml are what the code generates (npm run openapi)', async (t) => {
  const app = await build(t, { seed: false })
  const committed = readFileSync(join(PACKAGE_ROOT, 'openapi', 'openapi.json'), 'utf8')
  t.equal(committed, JSON.stringify(app.swagger(), null, 2) + '\n', 'run `npm run openapi` after changing a route schema')
  t.equal(readFileSync(join(PACKAGE_ROOT, 'openapi', 'openapi.yaml'), 'utf8'), app.swagger({ yaml: true }))
  const served = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(served.statusCode, 200)
  t.same(served.json(), app.swagger())
  const yaml = await app.inject({ method: 'GET', url: '/openapi.yaml' })
  t.match(yaml.headers['content-type'], /yaml/)
  t.match(yaml.body, /^openapi: 3\.0\.3/)
  const ui = await app.inject({ method: 'GET', url: '/docs' })
  t.equal(ui.statusCode, 200, 'Swagger UI is served (loaded on this first request)')
  t.match(ui.headers['content-type'], /^text\/html/)
  t.match(ui.headers['x-request-id'], /^mock::/, 'with the app\'s own headers')
  t.same((await app.inject({ method: 'GET', url: '/docs/json' })).json(), app.swagger(), 'the UI shows the app\'s document')
  const css = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui.css' })
  t.equal(css.statusCode, 200)
  const head = await app.inject({ method: 'HEAD', url: '/docs/static/swagger-ui.css' })
  t.equal(head.statusCode, 200)
  t.equal(head.headers['content-length'], css.headers['content-length'], 'HEAD names the length GET sends')
  t.equal(head.rawPayload.length, 0)
  t.equal((await app.inject({ method: 'GET', url: '/docs/static/swagger-ui.css', headers: { 'if-none-match': String(css.headers.etag) } })).statusCode, 304)
  const moved = await app.inject({ method: 'GET', url: '/docs/static/index.html' })
  t.equal(moved.statusCode, 302)
  t.equal(moved.headers.location, '/docs/')
  for (const url of ['/docs/nope', '/docs/static/nope.js']) {
    const missing = await app.inject({ method: 'GET', url })
    t.equal(missing.statusCode, 404, url)
    t.match(missing.body, new RegExp(`^No route for GET ${url} \\[timestamp=[\\d.]+\\] \\[request_id=${missing.headers['x-request-id']}\\]$`), 'the app\'s own 404')
  }
})

t.test('every ai_secret operation matches upstream', async (t) => {
  const app = await build(t, { seed: false })
  const mine = app.swagger() as unknown as Doc
  const theirs = upstream as unknown as Doc
  const ours = operations(mine, '/v1/')
  const upstreamOps = operations(theirs, '/v1/')
  t.same([...ours.keys()].sort(), [...upstreamOps.keys()].sort(), 'the same operations, no more, no fewer')
  for (const [key, op] of upstreamOps) {
    const o = ours.get(key)
    if (o === undefined) continue
    t.same(canonical(shape(mine, o)), canonical(shape(theirs, op)), key)
  }
  for (const name of Object.keys(mine.components.schemas ?? {})) {
    if (name in theirs.components.schemas!) {
      t.same(canonical(mine.components.schemas![name]), canonical(theirs.components.schemas![name]), `components.schemas.${name}`)
    }
  }
  t.same(mine.components.securitySchemes, theirs.components.securitySchemes)
})

t.test('the /_mock routes are documented under their own tag', async (t) => {
  const app = await build(t, { seed: false })
  const doc = app.swagger() as unknown as Doc
  const mockOps = [...operations(doc, '/_mock/').values()]
  t.ok(mockOps.length > 0)
  for (const op of mockOps) t.same(op.tags, ['Mock control'])
})
