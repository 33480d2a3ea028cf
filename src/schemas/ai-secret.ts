import { Type, type Static } from '@sinclair/typebox'
import { AnyValue, Nullable } from './nullable.js'
import { ForbiddenError } from './responses.js'

const { Optional } = Type

// Schema consts are named, described and shaped as in the upstream spec
// (openapi/upstream/ai_secret_spec.json, components.schemas), so the generated
// document matches it. test/openapi.test.ts fails when they drift.

const ORG_NAME_DESCRIPTION =
  'For nearly all users, this parameter should be unnecessary. But in the rare case that your API key belongs to ' +
  'multiple organizations, you may specify the name of the organization the AI Secret belongs in.'

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
      Nullable(
        Type.String({ format: 'date-time', description: 'Date of last update to the encrypted secret value itself' }),
      ),
    ),
    org_id: Type.String({ format: 'uuid', description: 'Unique identifier for the organization' }),
    name: Type.String({ description: 'Name of the AI secret' }),
    type: Optional(Nullable(Type.String())),
    metadata: Optional(Metadata),
    secret_updated_by_user_id: Optional(
      Nullable(
        Type.String({ format: 'uuid', description: 'User id of the last update to the encrypted secret value' }),
      ),
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

export const CreateAISecret = Type.Object(
  {
    name: Type.String({ description: 'Name of the AI secret' }),
    type: Optional(Nullable(Type.String())),
    metadata: Optional(Metadata),
    secret: Optional(
      Nullable(
        Type.String({
          description:
            'Secret value. If omitted in a PUT request, the existing secret value will be left intact, not ' +
            'replaced with null.',
        }),
      ),
    ),
    org_name: Optional(Nullable(Type.String({ description: ORG_NAME_DESCRIPTION }))),
  },
  { $id: 'CreateAISecret' },
)
export type CreateAISecret = Static<typeof CreateAISecret>

export const PatchAISecret = Type.Object(
  {
    name: Optional(Nullable(Type.String({ description: 'Name of the AI secret' }))),
    type: Optional(Nullable(Type.String())),
    metadata: Optional(Metadata),
    secret: Optional(Nullable(Type.String())),
  },
  { $id: 'PatchAISecret' },
)
export type PatchAISecret = Static<typeof PatchAISecret>

// --- parameters -------------------------------------------------------------------------

const CURSOR = (which: 'initial' | 'final', name: string, direction: string) =>
  `Pagination cursor id.\n\nFor example, if the ${which} item in the last page you fetched had an id of \`foo\`, pass \`${name}=foo\` to fetch the ${direction} page. Note: you may only pass one of \`starting_after\` and \`ending_before\``

export const AiSecretIdParam = Type.String({ $id: 'AiSecretIdParam', format: 'uuid', description: 'AiSecret id' })
export const AppLimitParam = Nullable(
  Type.Integer({ $id: 'AppLimitParam', minimum: 0, description: 'Limit the number of objects to return' }),
)
export const StartingAfter = Type.String({
  $id: 'StartingAfter',
  format: 'uuid',
  description: CURSOR('final', 'starting_after', 'next'),
})
export const EndingBefore = Type.String({
  $id: 'EndingBefore',
  format: 'uuid',
  description: CURSOR('initial', 'ending_before', 'previous'),
})
export const Ids = Type.Union([Type.String({ format: 'uuid' }), Type.Array(Type.String({ format: 'uuid' }))], {
  $id: 'Ids',
  description:
    'Filter search results to a particular set of object IDs. To specify a list of IDs, include the query param ' +
    'multiple times',
})
export const AiSecretName = Type.String({ $id: 'AiSecretName', description: 'Name of the ai_secret to search for' })
export const OrgName = Type.String({
  $id: 'OrgName',
  description: 'Filter search results to within a particular organization',
})
export const AISecretType = Type.Union([Type.String(), Type.Array(Type.String())], { $id: 'AISecretType' })

/** Every schema the routes refer to by `$ref`, registered once with `addSchema` (ForbiddenError is the mock's own). */
export const sharedSchemas = [
  AISecret,
  DeleteAISecret,
  CreateAISecret,
  PatchAISecret,
  AiSecretIdParam,
  AppLimitParam,
  StartingAfter,
  EndingBefore,
  Ids,
  AiSecretName,
  OrgName,
  AISecretType,
  ForbiddenError,
]
