import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import type * as Control from '../../src/control/schemas.js'
import { PACKAGE_ROOT } from '../../src/paths.js'
import type * as Public from '../../src/public-types.js'
import type { AISecret } from '../../src/schemas/ai-secret.js'
import type * as Seed from '../../src/schemas/seed.js'

// src/public-types.ts is printed from the schemas (scripts/write-public-types.ts): the
// declaration file users get is bundled from it, while the package's own code uses Static<>
// of the same schemas. Both must be the same types, and the file what the schemas print now.

type Identical<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
// `tsc --noEmit -p .` (npm test) fails here when a printed type and its schema's differ.
const same: true[] = [
  true satisfies Identical<Public.AISecret, AISecret>,
  true satisfies Identical<Public.Role, Seed.Role>,
  true satisfies Identical<Public.SeedData, Seed.SeedData>,
  true satisfies Identical<Public.SeededKey, Seed.SeededKey>,
  true satisfies Identical<Public.SeedResult, Seed.SeedResult>,
  true satisfies Identical<Public.FaultRuleInput, Control.FaultRuleInput>,
  true satisfies Identical<Public.FaultRule, Control.FaultRule>,
  true satisfies Identical<Public.FaultActed, Control.FaultActed>,
  true satisfies Identical<Public.JournalEntry, Control.JournalEntry>,
  true satisfies Identical<Public.JournalFilter, Control.JournalFilter>,
  true satisfies Identical<Public.ClockChange, Control.ClockChange>,
  true satisfies Identical<Public.StoreState, Control.StoreState>,
]

t.test('the public data types are the schemas\u2019 own (checked by tsc), as the schemas print them now', async (t) => {
  t.equal(same.length, 12)
  const check = () =>
    execFileSync(process.execPath, ['--import', 'tsx', join('scripts', 'write-public-types.ts'), '--check'], {
      cwd: PACKAGE_ROOT,
      stdio: 'pipe',
    })
  t.doesNotThrow(check, 'src/public-types.ts is what `npm run types` writes')
})
