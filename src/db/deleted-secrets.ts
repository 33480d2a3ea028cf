/** Where a secret stands in lists: its organization and its sort key (created, seq). */
export interface ListPosition {
  org_id: string
  created: string
  seq: number
}

/** How many deleted positions are kept by default. */
export const DELETED_POSITIONS_LIMIT = 10_000

/**
 * The list positions of deleted secrets, so that a `starting_after` / `ending_before` cursor
 * naming a secret deleted since keeps its place (docs/api.md): the official clients'
 * auto-pagination with a delete inside the loop names the secret it has just deleted.
 *
 * GUESS: upstream's behaviour for such a cursor is unrecorded; the mock keeps it working,
 * since the clean-up jobs the mock exists to test depend on it.
 *
 * Kept in memory, from the row each DELETE ... RETURNING already gives, so a delete costs one
 * map insertion and no SQL. Bounded: past `limit`, the oldest deletion is forgotten first
 * (its cursor becomes a 400 again); at the default limit they hold about 2 MiB of heap.
 * Emptied by a reset. Limitations: a restarted mock with
 * a file database has forgotten them, and two processes on one file each know only their
 * own deletes.
 */
export class DeletedSecrets {
  private readonly byId = new Map<string, ListPosition>()
  /** One string per organization id: each row read from SQLite brings its own copy. */
  private readonly orgIds = new Map<string, string>()
  /**
   * The ids in byId, oldest first, as a ring: the oldest is found at once, where the Map's
   * first key is found by walking past the slots its deletions left (thousands, between two
   * of its rehashes, once it is full).
   */
  private ring: (string | undefined)[] = []
  private oldest = 0

  /** @param limit how many are kept, at least 1 */
  constructor(readonly limit: number = DELETED_POSITIONS_LIMIT) {}

  get size(): number {
    return this.byId.size
  }

  /**
   * Remembers a deleted row (ids are lowercase uuids, as stored). When full, the oldest is
   * forgotten first, even for an id remembered again (a seed may give a deleted secret's id
   * to a new one, deleted in turn): that one keeps its place in the order, unless it was the
   * oldest.
   */
  remember(row: ListPosition & { id: string }): void {
    let org = this.orgIds.get(row.org_id)
    if (org === undefined) this.orgIds.set(row.org_id, (org = row.org_id))
    // Its own seq: ai_secrets.seq is never given twice (AUTOINCREMENT, migration 004), so a
    // secret made later, in the same millisecond or under a clock that stands still, sorts after it.
    const position = { org_id: org, created: row.created, seq: row.seq }
    if (this.byId.has(row.id)) {
      // Rare: the Map's own order decides, and the ring is made again from it.
      if (this.byId.size >= this.limit) this.byId.delete(this.byId.keys().next().value!)
      this.byId.set(row.id, position)
      this.ring = [...this.byId.keys()]
      this.oldest = 0
      return
    }
    if (this.byId.size >= this.limit) {
      this.byId.delete(this.ring[this.oldest]!)
      this.ring[this.oldest] = row.id
      this.oldest = (this.oldest + 1) % this.limit
    } else this.ring.push(row.id)
    this.byId.set(row.id, position)
  }

  /** Where the deleted secret with this id stood, or null when it is not remembered. */
  position(id: string): ListPosition | null {
    return this.byId.get(id) ?? null
  }

  clear(): void {
    this.byId.clear()
    this.orgIds.clear()
    this.ring = []
    this.oldest = 0
  }
}
