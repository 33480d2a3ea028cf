import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { resolveOrg } from '../../auth.js'
import { ApiError } from '../../errors.js'
import { REQUEST_BODY_DESCRIPTION } from '../../plugins/docs.js'
import { toAISecret } from '../../repository.js'
import { AISecret, DeleteAISecret } from '../../schemas/ai-secret.js'
import { ErrorResponses, Ref, bearerSecurity, jsonResponse } from '../../schemas/responses.js'

/** `/v1/ai_secret`: the operations addressed by name. */
const aiSecretRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { repo } = app.mock

  app.delete(
    '/v1/ai_secret',
    {
      schema: {
        operationId: 'deleteAiSecret',
        tags: ['AiSecrets'],
        summary: 'Delete single ai_secret',
        description: 'Delete a single ai_secret',
        security: bearerSecurity,
        body: Ref(DeleteAISecret),
        [REQUEST_BODY_DESCRIPTION]: 'Parameters which uniquely specify the ai_secret to delete',
        response: { 200: jsonResponse('Returns the deleted ai_secret object', Ref(AISecret)), ...ErrorResponses },
      },
    },
    async (request) => {
      const { name, org_name } = request.body
      const org = resolveOrg(request.principal!, org_name)
      request.org = org
      // A member may not delete: the same answer as for an absent secret, and nothing changes.
      const row = org.role === 'owner' ? repo.deleteSecretByName(org.id, name) : null
      if (row === null) throw new ApiError('missing_access', { action: 'delete', name })
      return toAISecret(row)
    },
  )
}

export default aiSecretRoutes
