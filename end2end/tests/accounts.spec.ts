import { test, expect } from '@playwright/test';
import { PASSWORD, hydrated, signIn, signOut } from './helpers';

test('first run: set up the owner, sign out, sign in; add an editor and a viewer; each sees what they may do', async ({ page }) => {
  // With no user, every page leads to the one-time set-up.
  await page.goto('/');
  await expect(page).toHaveURL(/\/setup$/);
  await hydrated(page);
  await page.getByLabel('Account name').fill('Acme');
  await page.getByLabel('Owner email').fill('owner@acme.test');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#setup-form')).toContainText('must be at least 10 characters');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#current-user')).toHaveText('owner@acme.test · owner');

  await signOut(page);
  await signIn(page, 'owner@acme.test');
  await expect(page.locator('#role-summary')).toContainText('you manage users');

  // The owner adds an editor and a viewer on the users page.
  await page.getByRole('link', { name: 'Users' }).click();
  await expect(page.locator('h1')).toHaveText('Users');
  for (const [email, role] of [['ed@acme.test', 'editor'], ['vi@acme.test', 'viewer']]) {
    await page.getByLabel('Email').fill(email);
    await page.locator('#new-role').selectOption(role);
    await page.getByLabel('Initial password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Add user' }).click();
    await expect(page.locator(`#users-table tr[data-email="${email}"]`)).toBeVisible();
  }
  await signOut(page);

  // The editor manages domains but not users.
  await signIn(page, 'ed@acme.test');
  await expect(page.locator('#role-summary')).toContainText('you manage domains, templates and streams');
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await page.getByRole('link', { name: 'Domains' }).click();
  await hydrated(page);
  await page.getByLabel('Domain').fill('not a host');
  await page.getByRole('button', { name: 'Add domain' }).click();
  await expect(page.locator('#add-domain-form')).toContainText('must be a hostname like shop.example.com');
  await page.getByLabel('Domain').fill('shop.acme.test');
  await page.getByRole('button', { name: 'Add domain' }).click();
  await expect(page.locator('#domains-list li[data-domain="shop.acme.test"]')).toBeVisible();
  await signOut(page);

  // The viewer sees the domain but no way to change it; the users page is refused.
  await signIn(page, 'vi@acme.test');
  await expect(page.locator('#role-summary')).toContainText('you can view everything but change nothing');
  await page.goto('/domains');
  await expect(page.locator('#domains-list li[data-domain="shop.acme.test"]')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add domain' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Remove' })).toHaveCount(0);
  await page.goto('/users');
  await expect(page.locator('main')).toContainText('Your role does not allow this.');
  await signOut(page);
});

test('a wrong password shows an error and creates no session', async ({ page }) => {
  await page.goto('/sign-in');
  await hydrated(page);
  await page.getByLabel('Email').fill('owner@acme.test');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#form-error')).toHaveText('Wrong email or password.');
  const cookies = await page.context().cookies();
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in$/);
  expect(cookies.filter((c) => c.name === 'ds_session' && c.value !== '')).toHaveLength(0);
});
