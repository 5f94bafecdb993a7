import { test, expect, Page, APIRequestContext } from '@playwright/test';
import http from 'node:http';
import { hydrated, signIn } from './helpers';

// Runs after accounts.spec.ts (files run in name order): the owner and shop.acme.test exist.

/** A real HTTP endpoint: `/ok` takes a block (kept), `/unauthorized` answers 401. */
async function startReceiver() {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/unauthorized') {
        // Echoes the key it refused, as many endpoints do.
        const key = req.headers['x-api-key'];
        res.writeHead(401, { 'Content-Type': 'text/plain' }).end(key ? `invalid API key: ${key}` : 'invalid API key');
        return;
      }
      bodies.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, bodies, close: () => server.close() };
}

async function addStream(page: Page, name: string, url: string, test?: (page: Page) => Promise<void>) {
  await page.goto('/streams/new');
  await hydrated(page);
  await page.locator('#stream-name').fill(name);
  await page.locator('#template').selectOption('custom');
  await page.locator('#custom-template').fill('{"id": "$request_id", "host": "$host", "status": "$status"}');
  await page.getByLabel('shop.acme.test').check();
  await page.locator('#endpoint-type').selectOption('http');
  await page.getByLabel('Endpoint URL').fill(url);
  if (test) await test(page);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/$/);
}

async function ingest(request: APIRequestContext, token: string, from: number, count: number) {
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ host: 'shop.acme.test', request_id: `e2e-${from + i}`, status: 200 }));
  const r = await request.post('/ingest/edge_applications', {
    headers: { Authorization: `Bearer ${token}` },
    data: lines.join('\n'),
  });
  expect(r.status()).toBe(200);
}

async function openDashboard(page: Page, name: string) {
  await page.goto('/');
  await hydrated(page);
  await page.locator(`#streams-table tr[data-stream="${name}"]`).getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.locator('#dashboard-title')).toHaveText(name);
  await hydrated(page);
}

const count = async (page: Page, id: string) => Number(await page.locator(id).textContent());

test('test endpoint, preview, dashboard and delivery log', async ({ page }) => {
  test.setTimeout(60_000);
  const receiver = await startReceiver();
  await signIn(page, 'owner@acme.test');

  await addStream(page, 'Watched stream', `${receiver.url}/ok`, async (page) => {
    // Unsaved settings: the endpoint gets the preview's block, byte for byte.
    await page.locator('#test-endpoint').click();
    await expect(page.locator('#test-endpoint-result')).toHaveText(/^Delivered: HTTP 200 OK \(3 records, \d+ ms\)$/);
    const preview = await page.locator('#template-preview').textContent();
    expect(receiver.bodies).toHaveLength(1);
    expect(receiver.bodies[0]).toBe(preview);
    expect(preview!.split('\n')).toHaveLength(3);

    // An endpoint that answers 401: the code and its words on the button's result, without
    // the secret header value it echoed.
    await page.getByLabel('Endpoint URL').fill(`${receiver.url}/unauthorized`);
    await page.locator('#add-header').click();
    await page.getByLabel('Header 1 name').fill('X-Api-Key');
    await page.getByLabel('Header 1 value').fill('e2e-header-secret');
    await page.locator('#test-endpoint').click();
    await expect(page.locator('#test-endpoint-result')).toHaveText(/^Not delivered: HTTP 401 Unauthorized: invalid API key: <redacted> \(3 records, \d+ ms\)$/);
    await page.getByLabel('Endpoint URL').fill(`${receiver.url}/ok`);
  });
  await addStream(page, 'Refused stream', `${receiver.url}/unauthorized`);

  const created = await page.request.post('/api/create_ingest_token', {
    headers: { Origin: new URL(page.url()).origin },
    form: { name: 'e2e traffic' },
  });
  expect(created.status()).toBe(200);
  const token: string = (await created.json()).token;

  // The dashboard of a stream receiving traffic: counts rise while it is open.
  await page.waitForTimeout(1_000); // saved configuration applies within 1 s
  await ingest(page.request, token, 0, 50);
  await openDashboard(page, 'Watched stream');
  await expect.poll(() => count(page, '#total-received'), { timeout: 15_000 }).toBeGreaterThanOrEqual(50);
  const before = await count(page, '#total-received');
  await ingest(page.request, token, 50, 70);
  await expect.poll(() => count(page, '#total-received'), { timeout: 15_000 }).toBeGreaterThan(before);
  await expect.poll(() => count(page, '#total-delivered'), { timeout: 15_000 }).toBe(120);
  await expect(page.locator('#delivery-log tbody tr').first()).toHaveAttribute('data-outcome', 'delivered');
  await expect(page.locator('#delivery-log')).toContainText('HTTP 200 OK');
  await page.locator('#range-day').click();
  await expect(page.locator('#total-received')).toHaveText('120');
  await page.screenshot({ path: '../docs/stream-dashboard.png', fullPage: true });

  // The 401 endpoint: the code in the delivery log, the block set aside.
  await openDashboard(page, 'Refused stream');
  await expect(page.locator('#delivery-log')).toContainText('HTTP 401 Unauthorized: invalid API key', { timeout: 15_000 });
  await expect(page.locator('#delivery-log tbody tr').first()).toHaveAttribute('data-outcome', 'refused');
  await expect(page.locator('#last-error')).toContainText('HTTP 401');
  await page.locator('#log-outcome').selectOption('delivered');
  await expect(page.locator('#delivery-log-empty')).toBeVisible();
  await page.locator('#log-outcome').selectOption('refused');
  await expect(page.locator('#delivery-log tbody tr[data-outcome="refused"]').first()).toBeVisible();
  receiver.close();
});

test('a stream the engine cannot start says why on the list and on its dashboard', async ({ page }) => {
  const receiver = await startReceiver();
  await signIn(page, 'owner@acme.test');
  await addStream(page, 'Cannot start', `${receiver.url}/ok`, async (page) => {
    // A control character passes the form's rules, not the HTTP client's.
    await page.locator('#add-header').click();
    await page.getByLabel('Header 1 name').fill('X-Api-Key');
    await page.getByLabel('Header 1 value').fill('bad\u0001value');
  });
  // The save answered after the engine applied it: the list shows the error at once.
  const status = page.locator('#streams-table tr[data-stream="Cannot start"] td.status');
  await expect(status).toHaveClass(/failing/);
  await expect(status).toContainText('Not running: Header X-Api-Key');
  await openDashboard(page, 'Cannot start');
  await expect(page.locator('#engine-error')).toContainText('Not running: Header X-Api-Key');
  receiver.close();
});
