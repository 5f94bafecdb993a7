import { Page, expect } from '@playwright/test';

export const PASSWORD = 'correct horse battery';

/** Waits until the WebAssembly has hydrated the page (set by the frontend's entry point). */
export async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto('/sign-in');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#current-user')).toContainText(email);
}

export async function signOut(page: Page) {
  await page.locator('#sign-out').click();
  await expect(page).toHaveURL(/\/sign-in$/);
}
