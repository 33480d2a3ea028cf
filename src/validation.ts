import type { TSchema } from '@sinclair/typebox'
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv'
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
      // See checker(): the schemas are the code's own, checked by the tests, not input.
      validateSchema: false,
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

// --- Ajv errors as JSON-path problems: the control plane's and the seed's own answers --------

/**
 * A problem with a value, at a JSON path from `$` (`$.api_keys[0].key`): what the seed, fault-rule and clock checks
 * answer.
 */
export interface SchemaProblem {
  path: string
  problem: string
}

let strict: InstanceType<typeof Ajv> | undefined

/**
 * A check of values against `schema` (a TypeBox schema: the one description of the shape), compiled
 * on first use: it answers the first problem as a JSON path and a problem in words
 * (schemaProblem), or null when the value fits. No coercion, no defaults. Schemas may word a
 * pattern's problem themselves with `x-problem`.
 */
export function checker(schema: TSchema): (value: unknown) => SchemaProblem | null {
  let validate: ValidateFunction | undefined
  return (value) => {
    if (validate === undefined) {
      strict ??= (() => {
        const ajv = new Ajv({
          allErrors: false,
          verbose: true,
          strict: false,
          coerceTypes: false,
          useDefaults: false,
          // Checking each schema against the JSON Schema meta-schema compiled that meta-schema first:
          // some 80 ms of every start-up (the demo seed is checked), for schemas that are the code's
          // own. test/validation.test.ts checks them against the meta-schema instead.
          validateSchema: false,
        })
        addFormats(ajv)
        return ajv
      })()
      validate = strict.compile(openApiToAjv(schema))
    }
    return validate(value) ? null : schemaProblem(validate.errors![0]!)
  }
}

/** A property name as a JSON path writes it: `.name`, or `["a name"]` when it is not an identifier. */
export function pathStep(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

function jsonPath(instancePath: string, extra?: string): string {
  const steps = pointerToPath(instancePath)
  if (extra !== undefined) steps.push(extra)
  return `$${steps.map(pathStep).join('')}`
}

/** How a value is named in a problem: its kind, or, for a number or boolean, the value itself. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

const KINDS: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
}

const FORMATS: Record<string, string> = {
  uuid: 'a uuid',
  'date-time': 'an RFC 3339 date-time of a day that exists, such as 2026-01-31T12:00:00Z',
}

type Bounds = { type?: string; minimum?: number; maximum?: number; nullable?: boolean; [k: string]: unknown }

function range(s: Bounds): string {
  const kind = s.type === 'integer' ? 'a whole number' : 'a number'
  if (s.minimum !== undefined && s.maximum !== undefined) return `must be ${kind} from ${s.minimum} to ${s.maximum}`
  return s.minimum !== undefined ? `must be ${kind}, at least ${s.minimum}` : `must be ${kind}, at most ${s.maximum}`
}

/** `must be "a" or "b", not "c"`; `must be one of "a", "b", "c", not …` for more. */
function oneOf(allowed: unknown[], data: unknown): string {
  const words = allowed.map((v) => JSON.stringify(v))
  const list = words.length === 2 ? `${words[0]} or ${words[1]}` : `one of ${words.join(', ')}`
  const given = typeof data === 'string' ? JSON.stringify(data).slice(0, 40) : describe(data)
  return `must be ${list}, not ${given}`
}

/** The one formatter of Ajv's errors as JSON-path problems. */
export function schemaProblem(e: ErrorObject): SchemaProblem {
  const parent = (e.parentSchema ?? {}) as Bounds
  const params = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required':
      return { path: jsonPath(e.instancePath, String(params.missingProperty)), problem: 'is required' }
    case 'additionalProperties': {
      const allowed = Object.keys((parent.properties ?? {}) as object).join(', ')
      return {
        path: jsonPath(e.instancePath, String(params.additionalProperty)),
        problem: `unknown field (allowed: ${allowed})`,
      }
    }
    case 'type': {
      if (Array.isArray(parent.enum)) return { path: jsonPath(e.instancePath), problem: oneOf(parent.enum, e.data) }
      const kind = KINDS[String(params.type)] ?? String(params.type)
      if (parent.minimum !== undefined || parent.maximum !== undefined) {
        return { path: jsonPath(e.instancePath), problem: `${range(parent)}, not ${describe(e.data)}` }
      }
      return {
        path: jsonPath(e.instancePath),
        problem: `must be ${kind}${parent.nullable === true ? ' or null' : ''}, not ${describe(e.data)}`,
      }
    }
    case 'minLength':
      return { path: jsonPath(e.instancePath), problem: 'must not be empty' }
    case 'maxLength':
      return { path: jsonPath(e.instancePath), problem: `must be at most ${String(params.limit)} characters` }
    case 'format':
      return {
        path: jsonPath(e.instancePath),
        problem: `must be ${FORMATS[String(params.format)] ?? `a ${String(params.format)}`}`,
      }
    case 'enum':
      return { path: jsonPath(e.instancePath), problem: oneOf(params.allowedValues as unknown[], e.data) }
    case 'minimum':
    case 'maximum':
      return { path: jsonPath(e.instancePath), problem: `${range(parent)}, not ${describe(e.data)}` }
    default: {
      const own = parent['x-problem']
      return { path: jsonPath(e.instancePath), problem: typeof own === 'string' ? own : (e.message ?? 'is not valid') }
    }
  }
}
