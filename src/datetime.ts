import { fullFormats } from 'ajv-formats/dist/formats.js'

/** ajv-formats' own `date-time` check: RFC 3339 section 5.6, with the days of each month and leap years. */
const isDateTime = (fullFormats['date-time'] as { validate: (s: string) => boolean }).validate

/** The parts of a date-time ajv-formats has accepted (it allows `t`, a space, and offsets `+01` and `+0100` too). */
const PARTS = /^(\d{4})-(\d\d)-(\d\d)[T\s](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:Z|([+-])(\d\d)(?::?(\d\d))?)$/i

/**
 * The one date-time check for every date the mock reads (the seed's `created`,
 * `updated_at`, `secret_updated_at`; `POST /_mock/clock`'s `set`): an RFC 3339 date-time
 * (section 5.6) of a day that exists, as ajv-formats' `date-time` format checks it (the
 * format the route schemas use), read as the instant it names. Fractions past
 * milliseconds are cut. A leap second (`23:59:60`, which RFC 3339 allows and JavaScript
 * cannot hold) is read as the second after `23:59:59`, as POSIX time counts it.
 * Returns null for anything else; never rolls `2026-02-30` over to March.
 */
export function parseDateTime(text: string): Date | null {
  if (!isDateTime(text)) return null
  const m = PARTS.exec(text)
  // Defensive: ajv-formats accepted it, so it has these parts.
  if (m === null) return null
  const [, y, mo, d, h, mi, s, frac = '0', sign, oh = '0', om = '0'] = m
  const date = new Date(0)
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0 to 99 as 1900 to 1999.
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d))
  date.setUTCHours(Number(h), Number(mi), Number(s), Number(frac.slice(0, 3).padEnd(3, '0')))
  const offsetMinutes = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om))
  return new Date(date.getTime() - offsetMinutes * 60_000)
}
