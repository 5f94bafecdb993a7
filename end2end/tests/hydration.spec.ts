import { test, expect } from '@playwright/test';

test('the Check service button works once the WebAssembly has hydrated', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('h1')).toHaveText('Data Streaming');
  // Set by the wasm entry point right after hydrate_body returns.
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.click('#check-service');
  await expect(page.locator('#service-result')).toHaveText(
    /^Service OK · version \d+\.\d+\.\d+ · database SQLite$/,
  );
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });
  test('the page renders but the button does nothing', async ({ page }) => {
    await page.goto('/');
    await expect(page.locator('h1')).toHaveText('Data Streaming');
    await page.click('#check-service');
    await page.waitForTimeout(500);
    await expect(page.locator('#service-result')).toHaveText('');
  });
});
