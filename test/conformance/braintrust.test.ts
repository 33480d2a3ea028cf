import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { compareTranscripts, formatComparison, type Comparison } from '../../src/conformance/compare.js'
import type { Exchange, Transcript } from '../../src/conformance/transcript.js'
import { PACKAGE_ROOT } from '../../src/paths.js'
import { MOCK_TRANSCRIPT, mockRunFor, recordMock } from '../../scripts/conformance-record.js'

// When a user contributes a transcript recorded from the real API
// (openapi/conformance/braintrust.json, written by `ai-secret-mock conformance`), the mock is
// held to it: each exchange that still differs must be listed, with its reason, in the
// README's section "Differences from Braintrust's transcript", and nothing listed there may
// agree by now (the list stays true).

const BRAINTRUST = join(PACKAGE_ROOT, 'openapi', 'conformance', 'braintrust.json')
const README = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8')
const HEADING = "### Differences from Braintrust's transcript"

/**
 * The README's list of differences left: bullets `` - `exchange-name`: reason `` under {@link HEADING}, up to the next
 * heading.
 */
function documentedDifferences(readme: string): Map<string, string> {
  const start = readme.indexOf(HEADING)
  if (start === -1) throw new Error(`README.md has no section "${HEADING}"`)
  const section = readme.slice(start + HEADING.length).split(/\n#{1,3} /, 1)[0]!
  const listed = new Map<string, string>()
  for (const m of section.matchAll(/^- `([^`]+)`: (.+)$/gm)) listed.set(m[1]!, m[2]!)
  return listed
}

/** Exchanges that differ without a reason in the list, and listed ones that no longer differ. */
function check(comparison: Comparison, listed: Map<string, string>): { unexplained: string[]; stale: string[] } {
  const differing = comparison.differences.map((d) => d.name)
  return {
    unexplained: differing.filter((n) => !listed.has(n)),
    stale: [...listed.keys()].filter((n) => !differing.includes(n)),
  }
}

t.test('the check itself, on a changed copy of the mock transcript standing in for a recorded one', async (t) => {
  const mock = JSON.parse(readFileSync(MOCK_TRANSCRIPT, 'utf8')) as Transcript
  const recorded = JSON.parse(JSON.stringify(mock)) as Transcript
  const ex = recorded.exchanges.find((e) => e.name === 'wrong-key') as Exchange
  ex.body = 'Unauthorized [timestamp=<timestamp>] [request_id=<request-id>]'
  const comparison = compareTranscripts(recorded, mock)
  t.same(check(comparison, new Map()), { unexplained: ['wrong-key'], stale: [] }, 'an unlisted difference fails')
  const readme = `## X\n\n${HEADING}\n\n- \`wrong-key\`: the 401 wording is a guess.\n- \`no-key\`: an old reason.\n\n## Next\n\n- \`get\`: not in the section.\n`
  t.same(
    [...documentedDifferences(readme)],
    [
      ['wrong-key', 'the 401 wording is a guess.'],
      ['no-key', 'an old reason.'],
    ],
  )
  t.same(
    check(comparison, documentedDifferences(readme)),
    { unexplained: [], stale: ['no-key'] },
    'a listed exchange that agrees is stale',
  )
  t.throws(() => documentedDifferences('# nothing'), /README\.md has no section/)
})

t.test(
  "the mock against the transcript recorded from Braintrust's API (openapi/conformance/braintrust.json)",
  async (t) => {
    const listed = documentedDifferences(README)
    if (!existsSync(BRAINTRUST)) {
      // Nobody has contributed one yet (see the README): there is nothing to hold the mock to,
      // and so no difference may be listed either.
      t.same([...listed.keys()], [], 'no transcript of the real API yet, so the README lists no difference from it')
      return
    }
    const recorded = JSON.parse(readFileSync(BRAINTRUST, 'utf8')) as Transcript
    t.notOk('aborted' in recorded, 'the contributed run is complete')
    // The mock is run the way the contributor's key was: in one organization or several, with or without --org-name.
    const { transcript } = await recordMock(mockRunFor(recorded.run))
    const comparison = compareTranscripts(recorded, transcript)
    const { unexplained, stale } = check(comparison, listed)
    t.same(
      unexplained,
      [],
      `differences from braintrust.json without a reason in the README:\n${formatComparison(comparison, 'braintrust.json', 'the mock')}`,
    )
    t.same(stale, [], 'listed in the README, but the mock now answers as recorded: remove them from the list')
  },
)
