import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import AjvModule from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { type AppOptions, type BuiltMock, buildMockApp } from '../../src/app.js'
import { PACKAGE_ROOT } from '../../src/paths.js'
import { openApiToAjv } from '../../src/schemas/nullable.js'

const Ajv = AjvModule.default
const addFormats = addFormatsModule.default

export const KEYS = {
  owner: 'sk-mock-acme-owner',
  multi: 'sk-mock-multi-org',
  globexOnly: 'sk-mock-globex-only',
  member: 'sk-mock-acme-member',
} as const

export const DEMO_SECRETS = ['sk-proj-0123456789abcdef', 'sk-proj-fedcba9876543210']

/** Builds the app exactly as production does (same options), in memory and silent, closed after the test. */
export async function build(t: Test, options: AppOptions = {}): Promise<FastifyInstance> {
  return (await buildMock(t, options)).app
}

/** build(), with the mock's context too (its store, clock, control plane), for tests that look inside. */
export async function buildMock(t: Test, options: AppOptions = {}): Promise<BuiltMock> {
  const built = await buildMockApp({ db: ':memory:', logger: false, ...options })
  t.teardown(() => built.app.close())
  return built
}

export function headers(key?: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    ...extra,
  }
}

// --- the upstream spec, kept in the project ------------------------------------------

export const UPSTREAM_FILE = join(PACKAGE_ROOT, 'openapi', 'upstream', 'ai_secret_spec.json')
export const upstream = JSON.parse(readFileSync(UPSTREAM_FILE, 'utf8')) as {
  paths: Record<string, Record<string, UpstreamOperation>>
  components: { schemas: Record<string, object>; parameters: Record<string, object> }
}

interface UpstreamOperation {
  operationId: string
  responses: Record<string, { content?: Record<string, { schema: object }>; headers?: Record<string, object> }>
  [k: string]: unknown
}

const ajv = new Ajv({ strict: false, allErrors: true })
addFormats(ajv)
// Upstream is OpenAPI 3.0: a bare `nullable: true` (no type) is turned into the empty schema first.
ajv.addSchema(openApiToAjv(upstream), 'upstream')

/** Validates a value against an upstream component schema; returns Ajv's errors or null. */
export function upstreamErrors(schemaName: string, value: unknown): unknown[] | null {
  const validate = ajv.getSchema(`upstream#/components/schemas/${schemaName}`)!
  return validate(value) ? null : (validate.errors ?? [])
}

function templateFor(path: string): string | null {
  const bare = path.split('?', 1)[0]!
  if (bare === '/v1/ai_secret') return '/v1/ai_secret'
  if (/^\/v1\/ai_secret\/[^/]+$/.test(bare)) return '/v1/ai_secret/{ai_secret_id}'
  return null
}

/**
 * Checks an answer of a /v1 route against the upstream operation: its status is one the
 * operation documents, and its body matches the schema upstream gives for its content type.
 */
export function checkUpstream(t: Test, method: string, url: string, res: LightMyRequestResponse): void {
  const template = templateFor(url)
  if (template === null) return
  const op = upstream.paths[template]?.[method.toLowerCase()]
  if (op === undefined) return
  const documented = op.responses[String(res.statusCode)]
  // 404 for an unknown route and 413 for a huge body are not per-operation answers upstream
  // documents; nor is a status a test forces with a fault rule or `Prefer: code=` (any from
  // 400 to 599), which must still come in the text shape and say so.
  if (documented === undefined) {
    const forced =
      String(res.headers['content-type']) === 'text/plain; charset=utf-8' && res.body.includes('(fault injected by ')
    if (res.statusCode !== 413 && !forced)
      t.fail(`${method} ${template}: status ${res.statusCode} is not documented upstream`)
    return
  }
  const type = String(res.headers['content-type'] ?? '').split(';', 1)[0]!
  const content = documented.content ?? {}
  if (Object.keys(content).length === 0) return
  const media = content[type]
  if (media === undefined) {
    t.fail(`${method} ${template} ${res.statusCode}: content type ${type} is not documented upstream`)
    return
  }
  const value = type === 'application/json' ? res.json() : res.body
  const validate = compiled(media.schema)
  if (!validate(value))
    t.fail(`${method} ${template} ${res.statusCode}: body does not match upstream`, { errors: validate.errors, value })
}

const cache = new Map<string, ReturnType<typeof ajv.compile>>()

/** Compiles an upstream media schema once; its $refs point into the registered spec. */
function compiled(schema: object) {
  const text = JSON.stringify(openApiToAjv(schema)).replace(/"#\/components\//g, '"upstream#/components/')
  let v = cache.get(text)
  if (v === undefined) {
    v = ajv.compile(JSON.parse(text) as object)
    cache.set(text, v)
  }
  return v
}

/** app.inject, and every /v1 answer checked against upstream. */
export async function call(
  t: Test,
  app: FastifyInstance,
  opts: InjectOptions & { method: string; url: string },
): Promise<LightMyRequestResponse> {
  const res = await app.inject(opts)
  checkUpstream(t, opts.method, opts.url, res)
  return res
}

// --- the CLI ----------------------------------------------------------------------------------

/**
 * The node arguments that run the CLI from its sources: src/bin.ts as test/support/transpile-src.ts
 * (tap's `before`) transpiled it, from any working directory. A spawned CLI then counts for the
 * coverage of src/. The package's bin (dist/cli.mjs, the same code bundled for shipping) is run by
 * the tests of the package and of the CLI's start-up.
 */
export const SOURCE_CLI = [join(PACKAGE_ROOT, '.tap', 'src-js', 'bin.js')]
