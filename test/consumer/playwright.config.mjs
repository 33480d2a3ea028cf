// playwright.config.mjs: npx playwright test (the request fixture needs no browser)
import { defineConfig } from '@playwright/test'

export default defineConfig({
  testDir: 'playwright',
  globalSetup: './playwright/global-setup.mjs',
})
