import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { AiSecrets } from '../../ai-secrets.js'
import { acted } from '../../auth/hooks.js'
import { preflight } from '../../plugins/cors.js'
import { REQUEST_BODY_DESCRIPTION } from '../../plugins/docs.js'
import { AISecret, AiSecretIdParam, PatchAISecret } from '../../schemas/ai-secret.js'
import { Ref, bearerSecurity, corsOptions, errorResponses, jsonResponse } from '../../schemas/responses.js'

const tags = ['AiSecrets']
const params = Type.Object({ ai_secret_id: Ref(AiSecretIdParam) })
/**
 * `(.+)`: an id is never empty. With the trailing-slash rule (app.ts), `/v1/ai_secret/` is
 * the list and create path; `/v1/ai_secret//` is no route at all (404), never this one
 * with an empty id. GUESS: upstream's answer to either is unrecorded.
 */
const PATH = '/v1/ai_secret/:ai_secret_id(.+)'

/**
 * `/v1/ai_secret/{ai_secret_id}`: the operations addressed by id, in the organizations of the
 * request's scope (src/auth/hooks.ts): the one `x-bt-org-name` names, or every one the key spans.
 */
const aiSecretIdRoutes: FastifyPluginAsyncTypebox<{ secrets: AiSecrets }> = async (app, { secrets }) => {
  app.get(
    PATH,
    {
      schema: {
        operationId: 'getAiSecretId',
        tags,
        summary: 'Get ai_secret',
        description: 'Get an ai_secret object by its id',
        security: bearerSecurity,
        params,
        response: {
          200: jsonResponse('Returns the ai_secret object', Ref(AISecret)),
          ...errorResponses('getAiSecretId'),
        },
      },
    },
    async (request) => acted(request, secrets.get(request.scope!.orgs, request.params.ai_secret_id)),
  )

  app.patch(
    PATH,
    {
      schema: {
        operationId: 'patchAiSecretId',
        tags,
        summary: 'Partially update ai_secret',
        description:
          'Partially update an ai_secret object. Specify the fields to update in the payload. Any object-type ' +
          'fields will be deep-merged with existing content. Currently we do not support removing fields or ' +
          'setting them to null.',
        security: bearerSecurity,
        params,
        body: Ref(PatchAISecret),
        [REQUEST_BODY_DESCRIPTION]: 'Fields to update',
        response: {
          200: jsonResponse('Returns the ai_secret object', Ref(AISecret)),
          ...errorResponses('patchAiSecretId'),
        },
      },
      // The body is optional upstream: none at all is an empty patch.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {}
      },
    },
    async (request) =>
      acted(request, secrets.patch(request.principal!, request.scope!.orgs, request.params.ai_secret_id, request.body)),
  )

  // The official client's delete(id) sends `content-type: application/json` with an empty
  // body: the body parser takes an empty JSON body as no body.
  app.delete(
    PATH,
    {
      schema: {
        operationId: 'deleteAiSecretId',
        tags,
        summary: 'Delete ai_secret',
        description: 'Delete an ai_secret object by its id',
        security: bearerSecurity,
        params,
        response: {
          200: jsonResponse('Returns the deleted ai_secret object', Ref(AISecret)),
          ...errorResponses('deleteAiSecretId'),
        },
      },
    },
    async (request) => acted(request, secrets.deleteById(request.scope!.orgs, request.params.ai_secret_id)),
  )

  app.options(
    PATH,
    { schema: corsOptions('optionsAiSecretId', 'Enable CORS (`/v1/ai_secret/{ai_secret_id}`)', params) },
    async (request, reply) => preflight(request, reply),
  )
}

export default aiSecretIdRoutes
