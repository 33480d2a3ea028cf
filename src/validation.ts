import AjvModule, { type ErrorObject } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchema } from 'fastify'
import { openApiToAjv } from './schemas/nullable.js'

// CommonJS packages seen from ESM: the classes are their default exports.
const Ajv = AjvModule.default
const addFormats = addFormatsModule.default

/**
 * Two Ajv instances. Bodies are checked as sent: no coercion, no defaults, every problem
 * listed (a name of 123 is a wrong type, not the string "123"). Query strings and path
 * parameters arrive as strings, so they are coerced (`limit=5` is a number).
 */
export function createValidators(sharedSchemas: object[]) {
  const make = (coerce: boolean) => {
    const ajv = new Ajv({
      coerceTypes: coerce ? 'array' : false,
      useDefaults: false,
      removeAdditional: false,
      allErrors: !coerce,
      verbose: true,
      strict: false,
    })
    addFormats(ajv)
    for (const s of sharedSchemas) ajv.addSchema(openApiToAjv(s))
    return ajv
  }
  let body: InstanceType<typeof Ajv> | undefined
  let other: InstanceType<typeof Ajv> | undefined
  return ({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) =>
    lazyValidator(() => {
      const ajv = httpPart === 'body' ? (body ??= make(false)) : (other ??= make(true))
      const id = (schema as { $id?: string }).$id
      const stored = id === undefined ? undefined : ajv.getSchema(id)
      return stored ?? ajv.compile(openApiToAjv(schema))
    })
}

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }

/**
 * Compiling every route's schemas at start-up costs most of the start-up time (Ajv code
 * generation), so each is compiled on the first request that needs it. Fastify reads
 * `errors` off the function it was given after a failed check: it is copied over.
 */
export function lazyValidator(compile: () => Validate): Validate {
  let fn: Validate | undefined
  const validate: Validate = (data) => {
    fn ??= compile()
    const ok = fn(data)
    validate.errors = fn.errors
    return ok
  }
  validate.errors = null
  return validate
}

/** The same for response serializers (fast-json-stringify): built on first use. */
// biome-ignore lint/suspicious/noExplicitAny: Fastify's own types for these are internal
type SerializerFactory = (externalSchemas: any, options: any) => (route: any) => (data: unknown) => string

export function lazySerializerFactory(factory: SerializerFactory): SerializerFactory {
  return (externalSchemas, options) => {
    const compiler = factory(externalSchemas, options)
    return (route) => {
      let fn: ((data: unknown) => string) | undefined
      return (data) => (fn ??= compiler(route))(data)
    }
  }
}

// --- Ajv errors as the zod issues the real server answers with ------------------------

type PathItem = string | number

export interface Issue {
  [k: string]: unknown
}

function parsedType(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isNaN(v) ? 'nan' : 'number'
  return typeof v
}

function expectedType(t: unknown): string {
  const first =
    String(t)
      .split(',')
      .find((x) => x !== 'null') ?? 'null'
  return first === 'integer' ? 'number' : first
}

function pointerToPath(pointer: string): PathItem[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p))
}

function invalidType(expected: string, data: unknown, path: PathItem[]): Issue {
  const received = parsedType(data)
  return {
    code: 'invalid_type',
    expected,
    received,
    path,
    message: received === 'undefined' ? 'Required' : `Expected ${expected}, received ${received}`,
  }
}

function toIssue(e: ErrorObject, prefix: PathItem[]): Issue {
  const path = [...prefix, ...pointerToPath(e.instancePath)]
  switch (e.keyword) {
    case 'required': {
      const prop = (e.params as { missingProperty: string }).missingProperty
      const parent = e.parentSchema as { properties?: Record<string, { type?: string }> } | undefined
      return invalidType(expectedType(parent?.properties?.[prop]?.type ?? 'string'), undefined, [...path, prop])
    }
    case 'type':
      return invalidType(expectedType((e.params as { type: string }).type), e.data, path)
    case 'format':
      return {
        validation: (e.params as { format: string }).format,
        code: 'invalid_string',
        message: `Invalid ${(e.params as { format: string }).format}`,
        path,
      }
    case 'minimum':
      return {
        code: 'too_small',
        minimum: (e.params as { limit: number }).limit,
        type: 'number',
        inclusive: true,
        exact: false,
        message: `Number must be greater than or equal to ${(e.params as { limit: number }).limit}`,
        path,
      }
    default:
      return { code: 'custom', message: e.message ?? 'Invalid input', path }
  }
}

/**
 * Pretty-printed zod-style issues. Path parameters are written `["id", 0]`, as the real
 * server does for `/v1/project/not-a-uuid`. Never contains the offending value itself.
 */
export function formatIssues(errors: ErrorObject[], context: string): string {
  const seen = new Set<string>()
  const issues: Issue[] = []
  for (const e of errors) {
    // anyOf reports each branch and then itself: keep the first branch's issue only
    if (e.keyword === 'anyOf') continue
    const issue = toIssue(e, [])
    if (context === 'params') issue.path = ['id', 0]
    const key = JSON.stringify(issue.path)
    if (seen.has(key)) continue
    seen.add(key)
    issues.push(issue)
  }
  return JSON.stringify(issues, null, 2)
}
