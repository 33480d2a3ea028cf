import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { AiSecrets } from '../../ai-secrets.js'
import { acted } from '../../auth/hooks.js'
import { listedOrgs, onlyOrg } from '../../auth/organization.js'
import { preflight } from '../../plugins/cors.js'
import { ALLOW_RESERVED, REQUEST_BODY_DESCRIPTION } from '../../plugins/docs.js'
import {
  AISecret,
  AISecretType,
  AiSecretName,
  AppLimitParam,
  CreateAISecret,
  DeleteAISecret,
  EndingBefore,
  Ids,
  OrgName,
  StartingAfter,
} from '../../schemas/ai-secret.js'
import { Ref, bearerSecurity, corsOptions, errorResponses, jsonResponse } from '../../schemas/responses.js'

const tags = ['AiSecrets']
const CREATE_BODY = 'Any desired information about the new ai_secret object'

/**
 * `/v1/ai_secret`: the operations addressed by name, and the list. Authentication and the
 * organization scope come first (src/auth/hooks.ts); each handler is one call to AiSecrets.
 */
const aiSecretRoutes: FastifyPluginAsyncTypebox<{ secrets: AiSecrets }> = async (app, { secrets }) => {
  app.post(
    '/v1/ai_secret',
    {
      config: { orgName: 'body' },
      schema: {
        operationId: 'postAiSecret',
        tags,
        summary: 'Create ai_secret',
        description:
          'Create a new ai_secret. If there is an existing ai_secret with the same name as the one specified in ' +
          'the request, will return the existing ai_secret unmodified',
        security: bearerSecurity,
        body: Ref(CreateAISecret),
        [REQUEST_BODY_DESCRIPTION]: CREATE_BODY,
        response: {
          200: jsonResponse('Returns the new ai_secret object', Ref(AISecret)),
          ...errorResponses('postAiSecret'),
        },
      },
    },
    async (request, reply) => {
      const { secret, existing } = acted(
        request,
        secrets.create(request.principal!, onlyOrg(request.scope!), request.body),
      )
      if (existing) reply.header('x-bt-found-existing', 'true')
      return secret
    },
  )

  app.put(
    '/v1/ai_secret',
    {
      config: { orgName: 'body' },
      schema: {
        operationId: 'putAiSecret',
        tags,
        summary: 'Create or replace ai_secret',
        description:
          'Create or replace ai_secret. If there is an existing ai_secret with the same name as the one specified ' +
          'in the request, will replace the existing ai_secret with the provided fields',
        security: bearerSecurity,
        body: Ref(CreateAISecret),
        [REQUEST_BODY_DESCRIPTION]: CREATE_BODY,
        response: {
          200: jsonResponse('Returns the new ai_secret object', Ref(AISecret)),
          ...errorResponses('putAiSecret'),
        },
      },
    },
    async (request) => acted(request, secrets.replace(request.principal!, onlyOrg(request.scope!), request.body)),
  )

  app.delete(
    '/v1/ai_secret',
    {
      config: { orgName: 'body' },
      schema: {
        operationId: 'deleteAiSecret',
        tags,
        summary: 'Delete single ai_secret',
        description: 'Delete a single ai_secret',
        security: bearerSecurity,
        body: Ref(DeleteAISecret),
        [REQUEST_BODY_DESCRIPTION]: 'Parameters which uniquely specify the ai_secret to delete',
        response: {
          200: jsonResponse('Returns the deleted ai_secret object', Ref(AISecret)),
          ...errorResponses('deleteAiSecret'),
        },
      },
    },
    async (request) => acted(request, secrets.deleteByName(onlyOrg(request.scope!), request.body.name)),
  )

  app.get(
    '/v1/ai_secret',
    {
      config: { orgName: 'query' },
      schema: {
        operationId: 'getAiSecret',
        tags,
        summary: 'List ai_secrets',
        description:
          'List out all ai_secrets. The ai_secrets are sorted by creation date, with the most recently-created ' +
          'ai_secrets coming first',
        security: bearerSecurity,
        [ALLOW_RESERVED]: ['ai_secret_name', 'org_name'],
        querystring: Type.Object({
          limit: Type.Optional(Ref(AppLimitParam)),
          starting_after: Type.Optional(Ref(StartingAfter)),
          ending_before: Type.Optional(Ref(EndingBefore)),
          ids: Type.Optional(Ref(Ids)),
          ai_secret_name: Type.Optional(Ref(AiSecretName)),
          org_name: Type.Optional(Ref(OrgName)),
          ai_secret_type: Type.Optional(Ref(AISecretType)),
        }),
        response: {
          200: jsonResponse(
            'Returns a list of ai_secret objects',
            Type.Object(
              { objects: Type.Array(Ref(AISecret), { description: 'A list of ai_secret objects' }) },
              { additionalProperties: false },
            ),
          ),
          ...errorResponses('getAiSecret'),
        },
      },
      // Array parameters arrive repeated (`ids=a&ids=b`, as the spec says) or comma-joined
      // (`ids=a%2Cb`, as the official client sends them): both become arrays before validation.
      preValidation: async (request) => {
        const q = request.query as Record<string, unknown>
        for (const k of ['ids', 'ai_secret_type']) {
          const v = q[k]
          if (v !== undefined)
            q[k] = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).filter((x) => x !== '')
        }
      },
    },
    async (request) => {
      const q = request.query
      // Without org_name (or the x-bt-org-name header), a key lists across every organization it spans.
      const orgs = listedOrgs(request.scope!)
      const asArray = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v])
      return {
        objects: secrets.list(orgs, { ...q, ids: asArray(q.ids), ai_secret_type: asArray(q.ai_secret_type) }),
      }
    },
  )

  app.options(
    '/v1/ai_secret',
    { schema: corsOptions('optionsAiSecret', 'Enable CORS (`/v1/ai_secret`)') },
    async (request, reply) => preflight(request, reply),
  )
}

export default aiSecretRoutes
