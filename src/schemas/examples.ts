// The examples of the served OpenAPI document, by operationId: request bodies and parameters
// that work as they are on the demo data (seed/demo.json), with the demo key they are meant
// for. src/plugins/docs.ts puts them into the document (request bodies' `examples`,
// parameters' `example`), so that the upstream component schemas stay as upstream wrote them;
// test/openapi-examples.test.ts sends every one of them to a fresh demo instance.

/** Ids the demo seed gives its two secrets, so that examples can name them. */
export const DEMO_IDS = {
  acmeSecret: '5e3b0c1a-8d2f-4a6e-9b7c-0d1e2f3a4b5c',
  globexSecret: '7c9e2d4f-1a3b-4c5d-8e6f-9a0b1c2d3e4f',
} as const

/** The demo keys (seed/demo.json) and what each can do, as the served document lists them. */
export const DEMO_KEYS = [
  { key: 'sk-mock-acme-owner', user: 'alice@acme.test', can: 'owner of `acme`: everything in it' },
  { key: 'sk-mock-multi-org', user: 'bob@multi.test', can: 'owner of `acme` and `globex`: names `org_name` to write' },
  {
    key: 'sk-mock-globex-only',
    user: 'bob@multi.test',
    can: 'owner of `globex` only: scoped to it (its user is in `acme` too)',
  },
  { key: 'sk-mock-acme-member', user: 'val@acme.test', can: 'member of `acme`: read-only (list and get)' },
] as const

/** One request-body example: shown in Swagger UI by its summary, which names the key it is for. */
export interface BodyExample {
  summary: string
  value: unknown
  /** The demo key it works with, when not the operation's. */
  key?: string
}

/** The examples of one operation. */
export interface OperationExamples {
  /** The demo key the examples work with (/v1 operations); the /_mock ones need none. */
  key?: string
  /** Request-body examples; Swagger UI fills in the first. */
  body?: Record<string, BodyExample>
  /** One example value per parameter, by name; Swagger UI fills them in. */
  parameters?: Record<string, unknown>
  /**
   * Parameters left without an example, and why: Swagger UI fills in every example it has,
   * and these would turn the request that works into one that does not.
   */
  withoutExample?: Record<string, string>
}

const OWNER = 'sk-mock-acme-owner'
const acme = DEMO_IDS.acmeSecret
const NEEDS_ONE_CURSOR =
  'Swagger UI fills in every example, and one cursor at a time is allowed: the list example reads the first page ' +
  '(a cursor comes from a page already read)'

export const OPERATION_EXAMPLES: Record<string, OperationExamples> = {
  postAiSecret: {
    key: OWNER,
    body: {
      anthropic: {
        summary: 'Create ANTHROPIC_API_KEY in acme (sk-mock-acme-owner or sk-mock-multi-org)',
        value: {
          name: 'ANTHROPIC_API_KEY',
          type: 'anthropic',
          secret: 'sk-ant-api03-0123456789abcdef',
          metadata: { team: 'ml' },
          org_name: 'acme',
        },
      },
    },
  },
  putAiSecret: {
    key: OWNER,
    body: {
      rotate: {
        summary: 'Replace acme\u2019s OPENAI_API_KEY with a new value (sk-mock-acme-owner or sk-mock-multi-org)',
        value: {
          name: 'OPENAI_API_KEY',
          type: 'openai',
          secret: 'sk-proj-rotated-0123456789',
          metadata: { team: 'ml', rotated_by: 'docs' },
          org_name: 'acme',
        },
      },
    },
  },
  deleteAiSecret: {
    key: OWNER,
    body: {
      acme: {
        summary: 'Delete acme\u2019s OPENAI_API_KEY (sk-mock-acme-owner or sk-mock-multi-org); again: the 400',
        value: { name: 'OPENAI_API_KEY', org_name: 'acme' },
      },
      globex: {
        summary: 'Delete globex\u2019s OPENAI_API_KEY (sk-mock-globex-only or sk-mock-multi-org)',
        value: { name: 'OPENAI_API_KEY', org_name: 'globex' },
        key: 'sk-mock-globex-only',
      },
    },
  },
  getAiSecret: {
    key: OWNER,
    parameters: { limit: 10, ids: acme, ai_secret_name: 'OPENAI_API_KEY', org_name: 'acme', ai_secret_type: 'openai' },
    withoutExample: { starting_after: NEEDS_ONE_CURSOR, ending_before: NEEDS_ONE_CURSOR },
  },
  getAiSecretId: { key: OWNER, parameters: { ai_secret_id: acme } },
  patchAiSecretId: {
    key: OWNER,
    parameters: { ai_secret_id: acme },
    body: {
      metadata: {
        summary: 'Add to acme\u2019s OPENAI_API_KEY\u2019s metadata (deep-merged)',
        value: { metadata: { rotated_by: 'docs' } },
      },
    },
  },
  deleteAiSecretId: { key: OWNER, parameters: { ai_secret_id: acme } },
  optionsAiSecretId: { parameters: { ai_secret_id: acme } },

  postMockSeed: {
    body: {
      initech: {
        summary: 'Add an organization, its owner, a key and a secret',
        value: {
          organizations: [{ name: 'initech' }],
          users: [{ email: 'peter@initech.test', memberships: { initech: 'owner' } }],
          api_keys: [{ key: 'sk-mock-initech-owner', user: 'peter@initech.test' }],
          ai_secrets: [
            { org: 'initech', name: 'ANTHROPIC_API_KEY', type: 'anthropic', secret: 'sk-ant-api03-initech' },
          ],
        },
      },
    },
  },
  getMockRequests: { parameters: { method: 'DELETE', path: '/v1/ai_secret*', org: 'acme' } },
  postMockFaults: {
    body: {
      rate_limited: {
        summary: 'The next DELETE /v1/ai_secret answers 429 with Retry-After: 2',
        value: { method: 'DELETE', path: '/v1/ai_secret', status: 429, retry_after: 2, times: 1 },
      },
    },
  },
  deleteMockFaultsId: { parameters: { id: 'fault_1' } },
  postMockClock: {
    body: {
      advance: { summary: 'Move the clock on by one minute', value: { advance_ms: 60000 } },
      set: { summary: 'Set the clock', value: { set: '2026-01-31T12:00:00Z' } },
    },
  },
}
