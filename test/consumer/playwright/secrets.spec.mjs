// playwright/secrets.spec.mjs
import { expect, test } from '@playwright/test'

test('the API deletes a secret', async ({ request }) => {
  const res = await request.delete(`${process.env.MOCK_URL}/v1/ai_secret`, {
    headers: { authorization: `Bearer ${process.env.MOCK_OWNER_KEY}` },
    data: { name: 'OPENAI_API_KEY', org_name: 'acme' },
  })
  expect(res.status()).toBe(200)
  expect((await res.json()).name).toBe('OPENAI_API_KEY')
})
