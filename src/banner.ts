import type { SeedResult } from './seed.js'

/** What each key can do, in words: "owner of acme", "member of acme (read-only)". */
function abilities(orgs: { name: string; role: string }[]): string {
  if (orgs.length === 0) return 'no organization'
  return orgs.map((o) => (o.role === 'owner' ? `owner of ${o.name}` : `member of ${o.name} (read-only)`)).join(', ')
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => '  ' + r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd())
}

/**
 * The start-up text: where the mock listens, its docs, and the API keys the seed created,
 * in plain text (they are the user's own test fixtures, read from the seed file).
 */
export function banner(url: string, db: string, seedData: unknown, seeded: SeedResult | null): string {
  const lines = [`ai-secret-mock listening on ${url}`, `  docs:     ${url}/docs  (OpenAPI: ${url}/openapi.json)`, `  database: ${db}`]
  if (seeded === null) {
    lines.push('  seed:     not applied (no seed, or the database already held data)')
    return lines.join('\n') + '\n'
  }
  const plain = ((seedData as { api_keys?: { key: string }[] }).api_keys ?? []).map((k) => k.key)
  lines.push(
    `  seeded:   ${seeded.organizations.length} organizations, ${seeded.users.length} users, ${seeded.api_keys.length} API keys, ${seeded.ai_secrets.length} AI secrets`,
  )
  if (seeded.api_keys.length > 0) {
    lines.push('', '  API keys (Authorization: Bearer <key>):')
    const rows = [['key', 'user', 'scope', 'can'], ...seeded.api_keys.map((k, i) => [plain[i]!, k.user, k.org ?? 'all its orgs', abilities(k.orgs)])]
    lines.push(...table(rows))
  }
  return lines.join('\n') + '\n'
}
