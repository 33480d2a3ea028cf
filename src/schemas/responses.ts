import { Type, type Static, type TSchema } from '@sinclair/typebox'

// The responses every ai_secret operation documents, worded as upstream words them.

const errorContent = {
  'text/plain': { schema: { type: 'string' } },
  'application/json': { schema: { nullable: true } },
}

export const ErrorResponses = {
  400: { description: 'The request was unacceptable, often due to missing a required parameter', content: errorContent },
  401: { description: 'No valid API key provided', content: errorContent },
  403: { description: 'The API key doesn\u2019t have permissions to perform the request', content: errorContent },
  429: {
    description: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests',
    headers: { 'Retry-After': { type: 'string' } },
    content: errorContent,
  },
  500: { description: "Something went wrong on Braintrust's end. (These are rare.)", content: errorContent },
}

export function jsonResponse(description: string, schema: TSchema) {
  return { description, content: { 'application/json': { schema } } }
}

/** A `$ref` to a shared schema, typed as that schema. */
export function Ref<T extends TSchema>(schema: T) {
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id!))
}

export const bearerSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, {}]

/** The schema of an OPTIONS (CORS) operation, as upstream documents both of them. */
export function corsOptions(operationId: string, summary: string, params?: TSchema) {
  const header = { type: 'string' }
  return {
    operationId,
    tags: ['CORS'],
    summary,
    description: 'Enable CORS',
    security: [],
    ...(params === undefined ? {} : { params }),
    response: {
      200: {
        description: 'Response for CORS method',
        headers: {
          'Access-Control-Allow-Credentials': header,
          'Access-Control-Allow-Headers': header,
          'Access-Control-Allow-Methods': header,
          'Access-Control-Allow-Origin': header,
          'Access-Control-Max-Age': header,
        },
        // no body: @fastify/swagger then writes no content (upstream: an empty content map)
        type: 'null',
      },
      400: ErrorResponses[400],
    },
  }
}
