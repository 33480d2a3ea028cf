import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox'

/**
 * OpenAPI 3.0 `nullable: true`, as the upstream spec writes it, instead of TypeBox's
 * `anyOf [T, null]`: the generated document then reads like upstream's.
 */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...schema, nullable: true })
}

/** A JSON value of any kind, written as upstream writes it (`{ nullable: true }`). */
export const AnyValue = Type.Unsafe<unknown>({ nullable: true })

/**
 * Ajv cannot compile OpenAPI's `nullable` without a `type` beside it ("any value, null
 * included"). Such a schema accepts everything, so it is the empty schema. Returns a copy.
 */
export function openApiToAjv<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((s) => openApiToAjv(s)) as T
  if (schema === null || typeof schema !== 'object') return schema
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) out[k] = openApiToAjv(v)
  if (out.nullable === true && out.type === undefined) delete out.nullable
  return out as T
}
