import { test, expect } from '@playwright/test';
import http from 'node:http';
import { hydrated, signIn } from './helpers';

// Runs after accounts.spec.ts (files run in name order): the owner and shop.acme.test exist.

const HEC_TOKEN = 'e2e-hec-token-4f2a';

/** A Splunk HTTP Event Collector as documented: POST /services/collector/event with
 *  `Authorization: Splunk <token>` and JSON envelopes; 403 code 4 for another token. */
async function startHec() {
  const envelopes: any[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const reply = (status: number, text: string, code: number) =>
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ text, code }));
      if (req.url !== '/services/collector/event') return reply(404, 'Not found', 404);
      if (req.headers['authorization'] !== `Splunk ${HEC_TOKEN}`) return reply(403, 'Invalid token', 4);
      for (const line of body.split('\n').filter((l) => l.length > 0)) envelopes.push(JSON.parse(line));
      reply(200, 'Success', 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, envelopes, close: () => server.close() };
}

test('a Splunk stream: created, tested with Test endpoint, saved and listed', async ({ page }) => {
  const hec = await startHec();
  await signIn(page, 'owner@acme.test');
  await page.goto('/streams/new');
  await hydrated(page);
  await page.locator('#stream-name').fill('Splunk HEC');
  await page.getByLabel('shop.acme.test').check();
  await page.locator('#endpoint-type').selectOption('splunk');
  await page.getByLabel('HEC URL').fill(`${hec.url}?index=web`);

  await page.getByLabel('HEC Token').fill('a-wrong-token');
  await page.locator('#test-endpoint').click();
  await expect(page.locator('#test-endpoint-result')).toHaveText(
    /^Not delivered: HTTP 403 Forbidden: Invalid token \(HEC code 4\) \(3 records, \d+ ms\)$/);

  await page.getByLabel('HEC Token').fill(HEC_TOKEN);
  await page.locator('#test-endpoint').click();
  await expect(page.locator('#test-endpoint-result')).toHaveText(
    /^Delivered: HTTP 200 OK, 1 HEC request \(3 records, \d+ ms\)$/);
  expect(hec.envelopes).toHaveLength(3);
  for (const envelope of hec.envelopes) {
    expect(envelope).toMatchObject({ index: 'web', source: 'data-streaming', sourcetype: '_json', host: 'www.example.com' });
    expect(typeof envelope.time).toBe('number');
    expect(envelope.event.host).toBe('www.example.com');
  }

  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/$/);
  const row = page.locator('#streams-table tr[data-stream="Splunk HEC"]');
  await expect(row).toContainText('Splunk (HTTP Event Collector)');
  await expect(row.locator(`td[title="${hec.url.replace('http://', '')}"]`)).toHaveText('Splunk (HTTP Event Collector)');
  // The token never comes back to the browser.
  expect(await page.content()).not.toContain(HEC_TOKEN);

  // Leave the account as the later specs expect it (they count the streams).
  page.on('dialog', (d) => d.accept());
  await row.getByRole('button', { name: 'Delete' }).click();
  await expect(row).toHaveCount(0);
  hec.close();
});
