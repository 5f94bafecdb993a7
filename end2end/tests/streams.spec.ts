import { test, expect, Page } from '@playwright/test';
import { hydrated, signIn } from './helpers';

// Runs after accounts.spec.ts (files run in name order): the owner and shop.acme.test exist.
const S3_SECRET = 'S3-SECRET-abc123xyz';
const HEADER_SECRET = 'header-secret-value-789';

async function newStream(page: Page) {
  await page.goto('/');
  await hydrated(page);
  await page.locator('#add-stream').click();
  await expect(page.locator('h1')).toHaveText('Add data stream');
}

async function save(page: Page) {
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/$/);
}

function row(page: Page, name: string) {
  return page.locator(`#streams-table tr[data-stream="${name}"]`);
}

test('streams: one per endpoint type, listed, edited, toggled, cancelled, deleted; secrets never reach the browser', async ({ page }) => {
  page.on('dialog', (d) => d.accept());
  await signIn(page, 'owner@acme.test');
  await page.goto('/domains');
  await hydrated(page);
  await page.getByLabel('Domain').fill('blog.acme.test');
  await page.getByRole('button', { name: 'Add domain' }).click();
  await expect(page.locator('#domains-list li[data-domain="blog.acme.test"]')).toBeVisible();

  // Standard HTTP/HTTPS POST, Custom Template written with the variable list and previewed.
  await newStream(page);
  await page.locator('#stream-name').fill('SIEM over HTTP');
  await page.locator('#data-source').selectOption('edge_applications');
  await page.locator('#template').selectOption('custom');
  await page.locator('#custom-template').fill('{"host": "$host", "status": "$status", "id": ""}');
  // Put the cursor inside the last string and insert $request_id by clicking it.
  await page.locator('#custom-template').evaluate((el: HTMLTextAreaElement) => {
    const at = el.value.length - 2;
    el.setSelectionRange(at, at);
  });
  await page.locator('.variables button', { hasText: /^\$request_id$/ }).click();
  await expect(page.locator('#custom-template')).toHaveValue('{"host": "$host", "status": "$status", "id": "$request_id"}');
  // The preview is the block the endpoint receives: one record per sample event.
  await expect(page.locator('#template-preview')).toHaveText(/^(\{"host":"www\.example\.com","status":"\d+","id":"[^"]+"\}\n){2}\{"host":"www\.example\.com","status":"\d+","id":"[^"]+"\}$/);
  await page.getByLabel('shop.acme.test').check();
  await page.locator('#endpoint-type').selectOption('http');
  await page.getByLabel('Endpoint URL').fill('https://siem.acme.test/ingest');
  await page.locator('#add-header').click();
  await page.getByLabel('Header 1 name').fill('X-Api-Key');
  await page.getByLabel('Header 1 value').fill(HEADER_SECRET);
  await expect(page.locator('#stream-active')).toBeChecked();
  await save(page);
  await expect(row(page, 'SIEM over HTTP')).toContainText('Standard HTTP/HTTPS POST');
  await expect(row(page, 'SIEM over HTTP')).toContainText('Custom Template');

  // S3, WAF Events preset, All Domains with Sampling.
  await newStream(page);
  await page.locator('#stream-name').fill('Archive to S3');
  await page.locator('#data-source').selectOption('waf_events');
  await expect(page.locator('#template')).toHaveValue('waf-event-collector');
  await page.locator('#all-domains').check();
  await page.getByLabel('Sampling (%)').fill('50');
  await page.locator('#endpoint-type').selectOption('s3');
  await page.getByLabel('Host URL').fill('https://s3.acme.test');
  await page.getByLabel('Bucket Name').fill('acme-waf-logs');
  await page.getByLabel('Region').fill('us-east-1');
  await page.getByLabel('Access Key').fill('AKIAACME');
  await page.getByLabel('Secret Key').fill(S3_SECRET);
  await page.getByLabel('Object Key Prefix').fill('waf_logs');
  await page.locator('#s3-content-type').selectOption('application/gzip');
  await page.screenshot({ path: '../docs/stream-form.png', fullPage: true });
  await save(page);

  // Apache Kafka, the Edge Applications + WAF preset, inactive.
  await newStream(page);
  await page.locator('#stream-name').fill('Kafka pipeline');
  await page.locator('#template').selectOption('edge-applications-waf-event-collector');
  await page.getByLabel('blog.acme.test').check();
  await page.locator('#endpoint-type').selectOption('kafka');
  await page.getByLabel('Bootstrap Servers').fill('k1.acme.test:9092,k2.acme.test:9093');
  await page.getByLabel('Kafka Topic').fill('edge-logs');
  await page.locator('label[for="stream-active"]').click();
  await expect(page.locator('#stream-active')).not.toBeChecked();
  await save(page);

  await expect(page.locator('#streams-table tbody tr')).toHaveCount(3);
  await expect(row(page, 'Archive to S3')).toContainText('Simple Storage Service (S3)');
  await expect(row(page, 'Archive to S3')).toContainText('WAF Events');
  await expect(row(page, 'Kafka pipeline')).toContainText('Apache Kafka');
  await expect(row(page, 'Kafka pipeline').locator('.active-toggle')).not.toBeChecked();
  // Each row's Dashboard and Delete sit inside their row: the actions cell spans the row.
  for (const name of ['Archive to S3', 'Kafka pipeline', 'SIEM over HTTP']) {
    const rowBox = (await row(page, name).boundingBox())!;
    const cellBox = (await row(page, name).locator('td.row-actions').boundingBox())!;
    expect(Math.abs(cellBox.y - rowBox.y), `${name}: actions cell top`).toBeLessThanOrEqual(1);
    expect(Math.abs(cellBox.height - rowBox.height), `${name}: actions cell height`).toBeLessThanOrEqual(1);
  }
  await page.screenshot({ path: '../docs/streams-list.png', fullPage: true });

  // Search filters the list.
  await page.locator('#stream-search').fill('kafka');
  await expect(page.locator('#streams-table tbody tr')).toHaveCount(1);
  await page.locator('#stream-search').fill('');

  // Secrets: not in the list, the edit page's HTML, or any server-function answer.
  await row(page, 'Archive to S3').getByRole('link', { name: 'Archive to S3' }).click();
  await expect(page.locator('h1')).toHaveText('Edit data stream');
  await expect(page.getByLabel('Secret Key')).toHaveValue('');
  await expect(page.getByLabel('Secret Key')).toHaveAttribute('placeholder', /stored/);
  const s3Id = page.url().match(/streams\/(\d+)\/edit/)![1];
  const html = await (await page.request.get(page.url())).text();
  expect(html).toContain('acme-waf-logs');
  expect(html).not.toContain(S3_SECRET);
  for (const [fn, form] of [['get_stream', { id: s3Id }], ['list_streams', {}]] as const) {
    const answer = await (await page.request.post(`/api/${fn}`, { form, headers: { Origin: new URL(page.url()).origin } })).text();
    expect(answer).not.toContain(S3_SECRET);
    expect(answer).not.toContain(HEADER_SECRET);
  }
  expect(await page.content()).not.toContain(S3_SECRET);

  // Edit: change Sampling, leave the secret blank (kept), save, and see it stick.
  await page.getByLabel('Sampling (%)').fill('25');
  await save(page);
  await row(page, 'Archive to S3').getByRole('link', { name: 'Archive to S3' }).click();
  await expect(page.getByLabel('Sampling (%)')).toHaveValue('25');
  await expect(page.getByLabel('Secret Key')).toHaveAttribute('placeholder', /stored/);

  // Cancel discards edits.
  await page.locator('#stream-name').fill('Renamed but cancelled');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(row(page, 'Archive to S3')).toBeVisible();
  await expect(row(page, 'Renamed but cancelled')).toHaveCount(0);

  // Leaving with unsaved changes warns; dismissing keeps the form.
  await row(page, 'SIEM over HTTP').getByRole('link', { name: 'SIEM over HTTP' }).click();
  await hydrated(page);
  await page.locator('#stream-name').fill('SIEM changed');
  page.removeAllListeners('dialog');
  const warned = new Promise<string>((resolve) => page.once('dialog', (d) => { resolve(d.message()); d.dismiss(); }));
  await page.getByRole('link', { name: 'Domains' }).click();
  expect(await warned).toContain('unsaved changes');
  await expect(page.locator('h1')).toHaveText('Edit data stream');
  page.on('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page).toHaveURL(/\/$/);

  // Toggle Active from the list; it persists.
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/set_stream_active') && r.ok()),
    row(page, 'Kafka pipeline').locator('.slider').click(),
  ]);
  await expect(row(page, 'Kafka pipeline').locator('.active-toggle')).toBeChecked();
  await page.reload();
  await expect(row(page, 'Kafka pipeline').locator('.active-toggle')).toBeChecked();

  // A domain used by a stream cannot be removed; the message names the stream.
  await page.goto('/domains');
  await hydrated(page);
  await page.locator('#domains-list li[data-domain="blog.acme.test"]').getByRole('button', { name: 'Remove' }).click();
  await expect(page.locator('main')).toContainText('used by the stream(s) Kafka pipeline');

  // Delete with confirmation.
  await page.goto('/');
  await hydrated(page);
  await row(page, 'Kafka pipeline').getByRole('button', { name: 'Delete' }).click();
  await expect(row(page, 'Kafka pipeline')).toHaveCount(0);
  await expect(page.locator('#streams-table tbody tr')).toHaveCount(2);
});

test('every invalid input shows an error next to its field naming the problem', async ({ page }) => {
  await signIn(page, 'owner@acme.test');
  await newStream(page);
  const error = (id: string) => page.locator(`#${id}-error`);

  await page.getByRole('button', { name: 'Save' }).click();
  await expect(error('stream-name')).toHaveText('Name is required');
  await expect(error('domains')).toHaveText('Choose at least one domain, or All Domains');
  await expect(error('endpoint-url')).toHaveText('Endpoint URL is required');

  await page.locator('#stream-name').fill('SIEM over HTTP');
  await page.getByLabel('shop.acme.test').check();
  await page.getByLabel('Endpoint URL').fill('ftp://siem.acme.test/x');
  await expect(error('endpoint-url')).toContainText('must start with http:// or https://');
  await page.getByLabel('Endpoint URL').fill('https://siem.acme.test/x');

  await page.locator('#add-header').click();
  await page.getByLabel('Header 1 name').fill('Bad Name');
  await page.getByLabel('Header 1 value').fill('v');
  await expect(page.locator('#custom-headers')).toContainText('Header name "Bad Name" contains');
  await page.getByLabel('Header 1 name').fill('Host');
  await expect(page.locator('#custom-headers')).toContainText('Host is set by the service');
  await page.getByLabel('Header 1 name').fill('Content-Length');
  await expect(page.locator('#custom-headers')).toContainText('Content-Length is set by the service');
  await page.getByLabel('Header 1 name').fill('X-Ok');

  await page.locator('#template').selectOption('custom');
  await page.locator('#custom-template').fill('{"host": "$host",');
  await expect(error('custom-template')).toContainText('invalid JSON');
  await page.locator('#custom-template').fill('{"host": "$host", "x": "$nope"}');
  await expect(error('custom-template')).toContainText('unknown variable $nope for Edge Applications');
  await page.locator('#data-source').selectOption('waf_events');
  await page.locator('#custom-template').fill('{"status": "$status"}');
  await expect(error('custom-template')).toContainText('unknown variable $status for WAF Events');
  await page.locator('#data-source').selectOption('edge_applications');
  await page.locator('#custom-template').fill('{"host": "$host"}');
  await expect(error('custom-template')).toHaveText('');

  await page.locator('#all-domains').check();
  for (const bad of ['0', '101', '']) {
    await page.getByLabel('Sampling (%)').fill(bad);
    await expect(error('sampling')).toHaveText('Sampling must be a whole number from 1 to 100');
  }
  await page.getByLabel('Sampling (%)').fill('10');
  await expect(error('sampling')).toHaveText('');

  await page.locator('#endpoint-type').selectOption('s3');
  await expect(error('s3-host-url')).toHaveText('Host URL is required');
  await expect(error('s3-access-key')).toHaveText('Access Key is required');
  await expect(error('s3-secret-key')).toHaveText('Secret Key is required');
  await page.getByLabel('Bucket Name').fill('Bad_Bucket');
  await expect(error('s3-bucket')).toContainText('Bucket Name may contain only lowercase letters');
  await page.getByLabel('Bucket Name').fill('ab');
  await expect(error('s3-bucket')).toContainText('3 to 63 characters');
  await page.getByLabel('Region').fill('US East');
  await expect(error('s3-region')).toContainText('is not a region code like us-east-1');

  await page.locator('#endpoint-type').selectOption('kafka');
  await expect(error('kafka-servers')).toContainText('Bootstrap Servers is required');
  await page.getByLabel('Bootstrap Servers').fill('k1.acme.test:70000');
  await expect(error('kafka-servers')).toContainText('the port must be a number from 1 to 65535');
  await page.getByLabel('Bootstrap Servers').fill('k1.acme.test');
  await expect(error('kafka-servers')).toContainText('has no port');
  await page.getByLabel('Bootstrap Servers').fill('k1.acme.test:9092');
  await page.getByLabel('Kafka Topic').fill('bad/topic');
  await expect(error('kafka-topic')).toContainText("contains '/'");
  await page.getByLabel('Kafka Topic').fill('edge-logs');

  // The name must be unique in the account: the server says so, next to the field.
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(error('stream-name')).toHaveText('Another stream already has this name');
  await expect(page).toHaveURL(/streams\/new$/);
});

test('a private destination is refused on save with the setting that allows it', async ({ page }) => {
  await signIn(page, 'owner@acme.test');
  await newStream(page);
  await page.locator('#stream-name').fill('Internal SIEM');
  await page.getByLabel('shop.acme.test').check();
  await page.locator('#endpoint-type').selectOption('http');
  await page.getByLabel('Endpoint URL').fill('http://10.0.0.5/in');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#endpoint-url-error')).toHaveText(
    'Endpoint URL: 10.0.0.5 is a private address; the operator can allow it with --allow-destinations');
  // Nothing typed is lost, nothing was saved.
  await expect(page.getByLabel('Endpoint URL')).toHaveValue('http://10.0.0.5/in');
  await page.goto('/');
  await hydrated(page);
  await expect(row(page, 'Internal SIEM')).toHaveCount(0);
});
