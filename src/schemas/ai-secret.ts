import { Type, type Static } from '@sinclair/typebox'
import { AnyValue, Nullable } from './nullable.js'

const { Optional } = Type

// Schema consts are named, described and shaped as in the upstream spec
// (openapi/upstream/ai_secret_spec.json, components.schemas), so the generated
// document matches it. test/openapi.test.ts fails when they drift.

const ORG_NAME_DESCRIPTION =
  'For nearly all users, this parameter should be unnecessary. But in the rare case that your API key belongs to multiple organizations, you may specify the name of the organization the AI Secret belongs in.'

const Metadata = Type.Unsafe<Record<string, unknown> | null>({
  type: 'object',
  nullable: true,
  additionalProperties: AnyValue,
})

export const AISecret = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'Unique identifier for the AI secret' }),
    created: Optional(Nullable(Type.String({ format: 'date-time', description: 'Date of AI secret creation' }))),
    updated_at: Optional(Nullable(Type.String({ format: 'date-time', description: 'Date of last AI secret update' }))),
    secret_updated_at: Optional(
      Nullable(Type.String({ format: 'date-time', description: 'Date of last update to the encrypted secret value itself' })),
    ),
    org_id: Type.String({ format: 'uuid', description: 'Unique identifier for the organization' }),
    name: Type.String({ description: 'Name of the AI secret' }),
    type: Optional(Nullable(Type.String())),
    metadata: Optional(Metadata),
    secret_updated_by_user_id: Optional(
      Nullable(Type.String({ format: 'uuid', description: 'User id of the last update to the encrypted secret value' })),
    ),
    preview_secret: Optional(Nullable(Type.String())),
  },
  { $id: 'AISecret' },
)
export type AISecret = Static<typeof AISecret>

export const DeleteAISecret = Type.Object(
  {
    name: Type.String({ description: 'Name of the AI secret' }),
    org_name: Optional(Nullable(Type.String({ description: ORG_NAME_DESCRIPTION }))),
  },
  { $id: 'DeleteAISecret' },
)
export type DeleteAISecret = Static<typeof DeleteAISecret>

/** Every schema the routes refer to by `$ref`, registered once with `addSchema`. */
export const sharedSchemas = [AISecret, DeleteAISecret]
