import { test, expect } from '@playwright/test';
import { hydrated, signIn } from './helpers';

// Runs after accounts.spec.ts has set up the first owner (files run in name order).
test('the Check service button works once the WebAssembly has hydrated', async ({ page }) => {
  await signIn(page, 'owner@acme.test');
  await page.goto('/account');
  await hydrated(page);
  await page.click('#check-service');
  await expect(page.locator('#service-result')).toHaveText(
    /^Service OK · version \d+\.\d+\.\d+ · database SQLite$/,
  );
});

test('without JavaScript the page renders but the button does nothing', async ({ page, browser }) => {
  await signIn(page, 'owner@acme.test');
  const noJs = await browser.newContext({
    javaScriptEnabled: false,
    storageState: await page.context().storageState(),
  });
  const plain = await noJs.newPage();
  await plain.goto('/account');
  await expect(plain.locator('h1')).toHaveText('Your password');
  await plain.click('#check-service');
  await plain.waitForTimeout(500);
  await expect(plain.locator('#service-result')).toHaveText('');
  await noJs.close();
});
