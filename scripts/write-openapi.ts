// npm run openapi: writes the OpenAPI document generated from the route schemas to
// openapi/openapi.json and openapi/openapi.yaml. test/openapi.test.ts fails when the
// committed copies differ from what the code generates.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildApp } from '../src/app.js'
import { PACKAGE_ROOT } from '../src/paths.js'

const app = await buildApp({ seed: false })
writeFileSync(join(PACKAGE_ROOT, 'openapi', 'openapi.json'), `${JSON.stringify(app.swagger(), null, 2)}\n`)
writeFileSync(join(PACKAGE_ROOT, 'openapi', 'openapi.yaml'), app.swagger({ yaml: true }))
await app.close()
console.log('wrote openapi/openapi.json and openapi/openapi.yaml')
