import { expect, test } from "@playwright/test";
import { DEMO, hydrated, signInAs, unique } from "./pages";

test("an owner makes an API key, sees it once, uses it, and revokes it", async ({ page, request }) => {
  await signInAs(page, DEMO.owner);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API keys" }).click();
  await expect(page).toHaveURL(/\/settings\/api-keys$/);
  await hydrated(page);
  const form = page.getByRole("region", { name: "New key" });

  // No scope chosen: refused next to the scopes, nothing made.
  const name = unique("Door system");
  await form.getByLabel("Name").fill(name);
  await form.getByRole("button", { name: "Make the key" }).click();
  await expect(form.getByRole("group", { name: "What the key may do" })).toContainText("choose at least one thing the key may do");
  await expect(page.getByTestId("api-keys").getByRole("row").filter({ hasText: name })).toHaveCount(0);

  await form.getByLabel(/^Read the catalog/).check();
  await form.getByLabel(/^Read members and memberships/).check();
  await form.getByRole("button", { name: "Make the key" }).click();
  const shown = page.getByTestId("new-key");
  await expect(shown).toContainText("shown only this once");
  const secret = await shown.getByLabel("Key").inputValue();
  expect(secret).toMatch(/^tsk_[0-9a-f]{64}$/);
  const row = page.getByTestId("api-keys").getByRole("row").filter({ hasText: name });
  await expect(row).toContainText("read_catalog, read_members");
  await expect(row).toContainText("never");
  await expect(row).not.toContainText(secret);

  // The key works for its scopes and nothing else.
  const auth = { Authorization: `Bearer ${secret}` };
  const types = await request.get("/api/v1/membership-types", { headers: auth });
  expect(types.status()).toBe(200);
  expect((await types.json()).results.map((t: { name: string }) => t.name)).toContain("Adult Monthly");
  const write = await request.post("/api/v1/members", { headers: auth, data: { first_name: "No", last_name: "Scope" } });
  expect(write.status()).toBe(403);
  expect((await write.json()).error.code).toBe("forbidden");

  await page.reload();
  await hydrated(page);
  const used = page.getByTestId("api-keys").getByRole("row").filter({ hasText: name });
  await expect(used).not.toContainText("never");
  await expect(page.getByTestId("new-key")).toHaveCount(0);

  await used.getByText("Revoke", { exact: true }).click();
  await used.getByRole("button", { name: `Revoke “${name}”` }).click();
  await expect(page.getByTestId("api-keys").getByRole("row").filter({ hasText: name })).toContainText("Revoked");
  const after = await request.get("/api/v1/membership-types", { headers: auth });
  expect(after.status()).toBe(401);
});

test("staff read the API reference made from the OpenAPI document; only owners manage keys", async ({ page }) => {
  await signInAs(page, DEMO.desk);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "API keys" })).toHaveCount(0);
  await nav.getByRole("link", { name: "API", exact: true }).click();
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1, name: "API reference" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 3, name: "POST /api/v1/memberships/{id}/actions/{action}" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 2, name: "Billing" })).toBeVisible();
  await page.goto("/settings/api-keys");
  await expect(page.getByTestId("keys-owner-only")).toBeVisible();
});
