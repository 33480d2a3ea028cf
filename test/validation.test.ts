// The mock's Ajv instances do not check schemas against the JSON Schema meta-schema as they
// compile them (src/validation.ts: compiling the meta-schema cost some 80 ms of each start-up):
// here every schema the code exports is checked against it instead, as Ajv would have.
import AjvModule from 'ajv'
import t from 'tap'
import { Kind, type TSchema } from '@sinclair/typebox'
import * as control from '../src/control/schemas.js'
import * as aiSecret from '../src/schemas/ai-secret.js'
import * as responses from '../src/schemas/responses.js'
import * as seed from '../src/schemas/seed.js'
import { openApiToAjv } from '../src/schemas/nullable.js'
import { checker } from '../src/validation.js'

// A CommonJS package seen from ESM: the class is its default export (as in src/validation.ts).
const Ajv = AjvModule.default

const modules = {
  'control/schemas': control,
  'schemas/ai-secret': aiSecret,
  'schemas/responses': responses,
  'schemas/seed': seed,
}

t.test(
  'every schema the code exports is a valid JSON Schema (what validateSchema: false no longer checks)',
  async (t) => {
    const ajv = new Ajv({ strict: false, validateSchema: true })
    let checked = 0
    for (const [file, exports] of Object.entries(modules)) {
      for (const [name, value] of Object.entries(exports)) {
        if (typeof value !== 'object' || value === null || !(Kind in value)) continue
        const valid = ajv.validateSchema(openApiToAjv(value as TSchema) as object)
        t.ok(valid, `src/${file}.ts ${name}: ${ajv.errorsText(ajv.errors)}`)
        checked++
      }
    }
    t.ok(checked >= 25, `${checked} schemas checked`)
  },
)

t.test('a schema that is not one would still be caught here: the check can fail', async (t) => {
  const ajv = new Ajv({ strict: false, validateSchema: true })
  t.notOk(ajv.validateSchema({ type: 'string', minLength: 'one' }))
  t.equal(checker(seed.ApiKey)('sk-ok'), null, 'and a checker still checks values')
})
