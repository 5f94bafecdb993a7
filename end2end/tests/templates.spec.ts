import { test, expect } from '@playwright/test';
import { hydrated, signIn } from './helpers';

// Runs after accounts.spec.ts and streams.spec.ts: the owner and shop.acme.test exist.

test('templates: a shared custom template, picked on the stream form, not deletable while used', async ({ page }) => {
  page.on('dialog', (d) => d.accept());
  await signIn(page, 'owner@acme.test');
  await page.goto('/templates');
  await hydrated(page);

  // A variable the source lacks is an inline error naming it; nothing is saved.
  await page.getByLabel('Name').fill('Shared hosts');
  await page.locator('#template-source').selectOption('edge_applications');
  await page.locator('#template-data-set').fill('{"host": "$host", "x": "$nope"}');
  await page.locator('#save-template').click();
  await expect(page.locator('#template-form')).toContainText('nope');
  await expect(page.locator('#custom-templates li[data-template="Shared hosts"]')).toHaveCount(0);

  await page.locator('#template-data-set').fill('{"host": "$host", "status": "$status"}');
  await page.locator('#save-template').click();
  const listed = page.locator('#custom-templates li[data-template="Shared hosts"]');
  await expect(listed).toContainText('not used');

  // The stream form offers it beside the presets; picking it shows its data set.
  await page.goto('/streams/new');
  await hydrated(page);
  await page.locator('#stream-name').fill('Shared template stream');
  await page.locator('#template').selectOption({ label: 'Custom: Shared hosts' });
  await expect(page.locator('#custom-template')).toHaveValue('{"host": "$host", "status": "$status"}');
  await page.getByLabel('shop.acme.test').check();
  await page.locator('#endpoint-type').selectOption('http');
  await page.getByLabel('Endpoint URL').fill('https://siem.acme.test/shared');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/$/);

  await page.goto('/templates');
  await hydrated(page);
  await expect(listed).toContainText('used by Shared template stream');
  await listed.getByRole('button', { name: 'Delete' }).click();
  await expect(page.locator('#template-delete-error')).toContainText('Shared template stream');
  await expect(listed).toBeVisible();
});

test('API tokens, the API reference and the activity history', async ({ page }) => {
  page.on('dialog', (d) => d.accept());
  await signIn(page, 'owner@acme.test');
  await page.goto('/api-tokens');
  await hydrated(page);
  await page.getByLabel('Name').fill('ci');
  await page.locator('#api-token-role').selectOption('editor');
  await page.getByRole('button', { name: 'Create API token' }).click();
  const shown = page.locator('#new-api-token');
  await expect(shown).toHaveText(/^dsa_/);
  const token = (await shown.textContent())!.trim();
  await expect(page.locator('#api-tokens tr[data-token="ci"]')).toContainText('editor');
  await expect(page.locator('#api-tokens')).not.toContainText(token);

  // The token drives the API: a change through it is in the history beside the console's.
  const headers = { Authorization: `Bearer ${token}` };
  const streams = await page.request.get('/api/v1/streams?name=shared', { headers });
  expect(streams.status()).toBe(200);
  const stream = (await streams.json()).items[0];
  expect(stream.name).toBe('Shared template stream');
  const patched = await page.request.patch(`/api/v1/streams/${stream.id}`, {
    headers: { ...headers, 'Content-Type': 'application/merge-patch+json', 'If-Match': `"${stream.revision}"` },
    data: JSON.stringify({ active: false }),
  });
  expect(patched.status()).toBe(200);

  await page.goto('/activity');
  await hydrated(page);
  const history = page.locator('#activity');
  await expect(history.locator('tr[data-action="stream.update"][data-via="api"]').first()).toContainText(`stream/${stream.id}`);
  await expect(history.locator('tr[data-action="template.create"][data-via="console"]').first()).toContainText('owner@acme.test');

  // The reference page is served by the product itself.
  await page.goto('/api/v1/docs');
  await expect(page.locator('.swagger-ui .title')).toContainText('Data Streaming API');
});
