// Writes src/public-types.ts: the package's data types (what its functions take and answer),
// printed from the TypeBox schemas that describe them once (src/schemas/, src/control/schemas.ts),
// with each schema's descriptions as doc comments. The shipped declaration file is bundled from
// it (scripts/bundle.mjs), so it needs no TypeBox. Inside the package the same types come from
// `Static<>` of the schemas; test/package/public-types.test.ts holds both equal.
//
//   node --import tsx scripts/write-public-types.ts           (npm run types) writes the file
//   node --import tsx scripts/write-public-types.ts --check   exits 1 when the file differs

import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TSchema } from '@sinclair/typebox'
import {
  ClockChange,
  FaultActed,
  FaultRule,
  FaultRuleInput,
  JournalEntry,
  JournalFilter,
  StoreState,
} from '../src/control/schemas.js'
import { PACKAGE_ROOT } from '../src/paths.js'
import { AISecret } from '../src/schemas/ai-secret.js'
import { Role, SeedData, SeededKey, SeedResult } from '../src/schemas/seed.js'

/** The public data types, in the order they are printed, with the doc comment of each. */
const TYPES: [string, TSchema, string][] = [
  [
    'AISecret',
    AISecret,
    'An AI secret as the API answers it (upstream `components.schemas.AISecret`): never the value, only ' +
      '`preview_secret`.',
  ],
  [
    'Role',
    Role,
    'A role in an organization: an owner can write, a member only read (the mock\u2019s model of ' +
      'Braintrust\u2019s ACLs).',
  ],
  [
    'SeedData',
    SeedData,
    'Data in the seed-file format, as `startMockServer({ seed })`, `seed()` and `POST /_mock/seed` take it. Names ' +
      'may refer to what the mock already holds; ids and dates are made when absent.',
  ],
  ['SeededKey', SeededKey, 'An API key a seed created, as the seed\u2019s answer shows it: a preview, never the key.'],
  [
    'SeedResult',
    SeedResult,
    'What a seed created (its answer, and what `reset()` and `seed()` resolve to): ids and key previews, never ' +
      'the keys.',
  ],
  [
    'FaultRuleInput',
    FaultRuleInput,
    'A fault rule as `fault()` and `POST /_mock/faults` take it. It needs `status`, `delay_ms` or `drop: true`.',
  ],
  ['FaultRule', FaultRule, 'A fault rule as stored: the input (its key as a preview) with its id and counters.'],
  ['FaultActed', FaultActed, 'What one fault rule did to a request, as the journal\u2019s `faults` lists it.'],
  ['JournalEntry', JournalEntry, 'A /v1 request as the journal keeps it (`requests()`, `GET /_mock/requests`).'],
  ['JournalFilter', JournalFilter, 'Which journal entries `requests()` answers.'],
  [
    'ClockChange',
    ClockChange,
    'A change of the mock\u2019s clock (`POST /_mock/clock`): one of `set` or `advance_ms`.',
  ],
  ['StoreState', StoreState, 'What `GET /_mock/state` shows: everything stored, secret values and keys left out.'],
]

type Schema = TSchema & {
  type?: string
  properties?: Record<string, Schema>
  required?: string[]
  patternProperties?: Record<string, Schema>
  additionalProperties?: boolean | Schema
  items?: Schema
  anyOf?: Schema[]
  enum?: unknown[]
  const?: unknown
  nullable?: boolean
  description?: string
  $ref?: string
}

const names = new Map<TSchema, string>(TYPES.map(([name, schema]) => [schema, name]))

function doc(text: string | undefined, indent: string): string {
  if (text === undefined) return ''
  return `${indent}/** ${text.replace(/\*\//g, '*\\/')} */\n`
}

/** The TypeScript for a schema; a named public schema (not the one being printed) by its name. */
function print(s: Schema, indent: string, top = false): string {
  const named = names.get(s)
  if (named !== undefined && !top) return named
  const body = printBody(s, indent)
  return s.nullable === true && s.type !== undefined ? `${body} | null` : body
}

function printBody(s: Schema, indent: string): string {
  if (s.$ref !== undefined) return s.$ref
  if (s.enum !== undefined) return s.enum.map((v) => JSON.stringify(v)).join(' | ')
  if (s.const !== undefined) return JSON.stringify(s.const)
  if (s.anyOf !== undefined) return s.anyOf.map((x) => print(x, indent)).join(' | ')
  switch (s.type) {
    case 'string':
      return 'string'
    case 'integer':
    case 'number':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'null':
      return 'null'
    case 'array': {
      const item = print(s.items!, indent)
      return /[|&]/.test(item) ? `(${item})[]` : `${item}[]`
    }
    case 'object': {
      if (s.properties !== undefined) {
        const inner = `${indent}  `
        const fields = Object.entries(s.properties).map(([key, p]) => {
          const optional = s.required?.includes(key) === true ? '' : '?'
          return `${doc(p.description, inner)}${inner}${key}${optional}: ${print(p, inner)}`
        })
        return `{\n${fields.join('\n')}\n${indent}}`
      }
      const values =
        s.patternProperties === undefined
          ? typeof s.additionalProperties === 'object'
            ? s.additionalProperties
            : undefined
          : Object.values(s.patternProperties)[0]
      if (values !== undefined) return `Record<string, ${print(values, indent)}>`
      return 'Record<string, unknown>'
    }
    default:
      // A value of any kind (OpenAPI's `{ nullable: true }`).
      return 'unknown'
  }
}

/** The whole file. */
export function publicTypes(): string {
  const head =
    '// Generated by scripts/write-public-types.ts from the TypeBox schemas (src/schemas/, src/control/schemas.ts):\n' +
    '// do not edit. `npm run types` writes it again; test/package/public-types.test.ts fails when it drifts.\n'
  const types = TYPES.map(([name, schema, comment]) => {
    const s = schema as Schema
    const body = print(s, '', true)
    return s.type === 'object' && s.properties !== undefined
      ? `${doc(comment, '')}export interface ${name} ${body}\n`
      : `${doc(comment, '')}export type ${name} = ${body}\n`
  })
  // As the project's formatter writes it, so that `npm run lint` and the drift check agree.
  const biome = join(PACKAGE_ROOT, 'node_modules', '.bin', 'biome')
  return execFileSync(biome, ['format', '--stdin-file-path=src/public-types.ts'], {
    input: `${head}\n${types.join('\n')}`,
    encoding: 'utf8',
  })
}

const FILE = join(PACKAGE_ROOT, 'src', 'public-types.ts')
if (process.argv[1]?.endsWith('write-public-types.ts')) {
  const text = publicTypes()
  if (process.argv.includes('--check')) {
    if (readFileSync(FILE, 'utf8') !== text) {
      process.stderr.write('src/public-types.ts differs from the schemas: run npm run types\n')
      process.exit(1)
    }
  } else writeFileSync(FILE, text)
}
