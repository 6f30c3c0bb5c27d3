// Flowglad's own Node SDK (@flowglad/node, unmodified) against the sandbox,
// configured as its README shows: `new Flowglad({ apiKey, baseURL })`.
// Seeded records: crates/sandbox/src/flowglad/seed.rs.

import Flowglad from "@flowglad/node";

import { check, equal, rejects, run, sandboxUrl } from "../runner.mjs";

const baseURL = sandboxUrl("flowglad");
const API_KEY = "sk_test_PS3c_2ckF7rJo5wtSAZKNoejQVg";
const ACME = { externalId: "acme", id: "cust_ROc4auIhBqQglx2sYoBuj", email: "billing@acme.example" };
const PRO_MONTHLY = { id: "price_EY4sthb9KB99ZWUimUu2x", slug: "pro_monthly" };
const LIFETIME = { id: "price_hCKezc2rYCZVknJ2JYbgU", slug: "lifetime" };
const USAGE_PRICE_ID = "price_hh4eTNMVmFKsazPCwz5sz";
const ACME_SUBSCRIPTION = "sub_z7ZzUKZVFZtWW9kcaBHzw";
const ORGANIZATION_ID = "org_wRFHUG1xeJ6PA7IynXsUD";
const DAY_MS = 24 * 60 * 60 * 1000;
const urls = { successUrl: "https://shop.example/ok", cancelUrl: "https://shop.example/no" };

const client = new Flowglad({ apiKey: API_KEY, baseURL });

async function create(checkoutSession) {
  return client.checkoutSessions.create({ checkoutSession: { ...urls, ...checkoutSession } });
}

// What every fresh session says, whatever its type.
function checkFresh(created, type) {
  const s = created.checkoutSession;
  check(/^chckt_session_[A-Za-z0-9]{21}$/.test(s.id), `id in the vendor's format: ${s.id}`);
  equal(s.type, type, "type");
  equal(s.status, "open", "status");
  equal(s.livemode, false, "livemode (a test-mode key)");
  equal(s.organizationId, ORGANIZATION_ID, "organizationId");
  equal([s.successUrl, s.cancelUrl], [urls.successUrl, urls.cancelUrl], "redirect URLs");
  equal(s.expires - s.createdAt, DAY_MS, "expires 24 h after creation");
  return s;
}

function checkAcme(s) {
  equal([s.customerId, s.customerEmail], [ACME.id, ACME.email], "customer");
}

await run([
  ["create: product by price id, identified customer, quantity and metadata", async () => {
    const created = await create({
      type: "product", customerExternalId: ACME.externalId, priceId: PRO_MONTHLY.id,
      quantity: 2, outputMetadata: { order: "1234", gift: false },
    });
    const s = checkFresh(created, "product");
    checkAcme(s);
    equal([s.priceId, s.quantity], [PRO_MONTHLY.id, 2], "price and quantity");
    equal(s.outputMetadata, { order: "1234", gift: false }, "outputMetadata");
    check(created.url.endsWith(`/checkout/${s.id}`), `url: ${created.url}`);
  }],
  ["create: product by price slug", async () => {
    const s = checkFresh(
      await create({ type: "product", customerExternalId: ACME.externalId, priceSlug: LIFETIME.slug }),
      "product",
    );
    equal([s.priceId, s.quantity], [LIFETIME.id, 1], "price resolved from the slug, quantity defaults to 1");
  }],
  ["create: anonymous product", async () => {
    const s = checkFresh(await create({ type: "product", anonymous: true, priceSlug: PRO_MONTHLY.slug }), "product");
    equal([s.customerId, s.customerEmail], [null, null], "no customer");
    equal(s.priceId, PRO_MONTHLY.id, "priceId");
  }],
  ["create: add_payment_method", async () => {
    const created = await create({
      type: "add_payment_method", customerExternalId: ACME.externalId, targetSubscriptionId: ACME_SUBSCRIPTION,
    });
    const s = checkFresh(created, "add_payment_method");
    checkAcme(s);
    equal([s.priceId, s.targetSubscriptionId], [null, ACME_SUBSCRIPTION], "price and target subscription");
    check(created.url.endsWith(`/add-payment-method/${s.id}`), `url: ${created.url}`);
  }],
  ["create: activate_subscription", async () => {
    const s = checkFresh(
      await create({
        type: "activate_subscription", customerExternalId: ACME.externalId, targetSubscriptionId: ACME_SUBSCRIPTION,
      }),
      "activate_subscription",
    );
    checkAcme(s);
    equal([s.priceId, s.targetSubscriptionId], [PRO_MONTHLY.id, ACME_SUBSCRIPTION], "subscription's price and id");
  }],
  ["retrieve: the created session, field for field", async () => {
    const created = await create({ type: "product", customerExternalId: ACME.externalId, priceId: LIFETIME.id });
    const got = await client.checkoutSessions.retrieve(created.checkoutSession.id);
    equal(got.checkoutSession, created.checkoutSession, "retrieved session");
    equal(got.url, created.url, "url");
  }],
  ["list: cursor pages of 2 walk every session once, the new ones included", async () => {
    const mine = [];
    for (let i = 0; i < 5; i += 1) {
      mine.push((await create({ type: "product", customerExternalId: ACME.externalId, priceId: LIFETIME.id }))
        .checkoutSession.id);
    }
    const seen = [];
    let cursor;
    let total;
    for (let pages = 0; ; pages += 1) {
      check(pages < 1000, "the pages never end");
      const page = await client.checkoutSessions.list(cursor ? { limit: "2", cursor } : { limit: "2" });
      check(page.data.length <= 2, `a page of ${page.data.length} for limit 2`);
      equal(page.currentCursor, cursor, "currentCursor echoes the cursor sent");
      total ??= page.total;
      seen.push(...page.data.map((s) => s.id));
      if (!page.hasMore) {
        equal(page.nextCursor, undefined, "no nextCursor on the last page");
        break;
      }
      check(page.nextCursor, "hasMore without a nextCursor");
      cursor = page.nextCursor;
    }
    equal(new Set(seen).size, seen.length, "no session on two pages");
    equal(seen.length, total, "sessions walked vs total");
    for (const id of mine) check(seen.includes(id), `created ${id} not listed`);
  }],
  ["no cancel: the SDK has none (nor has the vendor's API)", async () => {
    equal(typeof client.checkoutSessions.cancel, "undefined", "checkoutSessions.cancel");
  }],
  ["error: unknown id is InternalServerError (the vendor answers 500)", async () => {
    const id = "chckt_session_zzzzzzzzzzzzzzzzzzzzz";
    // No retries: a 500 is retried twice by default.
    const error = await rejects(() => client.checkoutSessions.retrieve(id, { maxRetries: 0 }), "retrieve");
    check(error instanceof Flowglad.InternalServerError, `error class: ${error?.constructor?.name}`);
    equal(error.status, 500, "status");
    check(String(error.message).includes(id), `message names the id: ${error.message}`);
  }],
  ["error: bad key is AuthenticationError", async () => {
    const wrong = new Flowglad({ apiKey: "sk_test_PS3c_wrongwrongwrongwrongwr", baseURL });
    const error = await rejects(() => wrong.checkoutSessions.list(), "list");
    check(error instanceof Flowglad.AuthenticationError, `error class: ${error?.constructor?.name}`);
    equal(error.status, 401, "status");
  }],
  ["error: a usage price is BadRequestError naming priceId", async () => {
    const error = await rejects(
      () => create({ type: "product", customerExternalId: ACME.externalId, priceId: USAGE_PRICE_ID }),
      "create",
    );
    check(error instanceof Flowglad.BadRequestError, `error class: ${error?.constructor?.name}`);
    equal(error.status, 400, "status");
    check(String(error.message).includes("priceId"), `message names priceId: ${error.message}`);
  }],
]);
