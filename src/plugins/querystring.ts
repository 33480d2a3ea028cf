import { parse } from 'node:querystring'

/** `ids[]` and `ids[0]`: the bracket forms `qs` (axios, Rails, PHP) gives an array's name. */
const BRACKETED = /^(.+?)\[\d*\]$/

/**
 * Parses a query string as Fastify's default parser does (repeated names become arrays;
 * the object has no prototype, so `__proto__` is just a name), then reads the bracket forms
 * of a name (`ids[]=a&ids[]=b`, `ids[0]=a&ids[1]=b`: what axios and `qs` send by default)
 * as that name repeated, for every parameter (docs/api.md). Values of the plain form
 * come first (no filter depends on the order). Any other key with brackets (`a[b]=c`,
 * object notation) is left as it is: an unknown parameter.
 */
export function parseQueryString(text: string): Record<string, string | string[]> {
  // The router calls this for every request, most with no query string: what parse('') gives.
  if (text === '') return Object.create(null) as Record<string, string | string[]>
  // Every parameter (node:querystring keeps the first 1 000 by default and drops the rest without a
  // word: a filter past them would be lost). The request line's limit (16 KiB) bounds how many come.
  const query = parse(text, '&', '=', { maxKeys: 0 }) as Record<string, string | string[]>
  for (const key of Object.keys(query)) {
    const m = key.endsWith(']') ? BRACKETED.exec(key) : null
    if (m === null) continue
    const name = m[1]!
    const value = query[key]!
    const prev = query[name]
    delete query[key]
    query[name] = prev === undefined ? value : [prev, value].flat()
  }
  return query
}
