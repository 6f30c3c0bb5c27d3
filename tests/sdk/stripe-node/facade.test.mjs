// Stripe's own Node SDK (`stripe` on npm, unmodified) against the gateway's
// Stripe facade. stripe-node has no base-path option (its path prefix is a
// fixed `/v1/`; only host, port and protocol are configurable), so it talks
// to the facade's root mount, `<gateway>/v1/checkout/sessions`:
// `new Stripe(key, { host, port, protocol: "http" })`. The target account is
// the `stripeAccount` option (`Stripe-Account: provider:account`) or, without
// it, the demo's routing (config/demo.toml).
//
// The demo's addresses come from GATEWAY_URL, GATEWAY_KEY and SANDBOX_URL
// (.ci/stripe-sdk reads them from `checkout-gateway demo`); the output follows
// tests/sdk/runner.mjs. Seeded records: crates/sandbox/src/<vendor>/seed.rs.

import { randomUUID } from "node:crypto";

import Stripe from "stripe";

import { check, equal, rejects, run } from "../runner.mjs";

function environment(name, example) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set (e.g. ${example}); .ci/stripe-sdk sets it`);
    process.exit(2);
  }
  return value.replace(/\/+$/, "");
}

const GATEWAY = environment("GATEWAY_URL", "http://127.0.0.1:8080");
const KEY = environment("GATEWAY_KEY", "demo-client-key-0000000000000001");
const SANDBOX = environment("SANDBOX_URL", "http://127.0.0.1:9100");

const gateway = new URL(GATEWAY);
const stripe = new Stripe(KEY, {
  host: gateway.hostname,
  port: Number(gateway.port || 80),
  protocol: "http",
  maxNetworkRetries: 2,
});

// The catalog alias every demo account maps to its own plan (config/demo.toml).
const PRO = "pro";
const SUCCESS_URL = "https://shop.example/ok";
const CANCEL_URL = "https://shop.example/no";

// A demo account and what a Stripe create there needs and gets: the vendor's
// customer reference, a second customer for lists that must see only this
// run's sessions, and which steps the vendor supports.
const METEROID = { name: "meteroid:default", customer: "acme", other: "globex", metadata: true, expire: true, list: true, url: true };
// A Flowglad product session does not say whether its price is one-off or
// recurring: its mode reads `payment` (README, "Where this differs").
const FLOWGLAD = { name: "flowglad:default", customer: "acme", other: "globex", metadata: true, list: true, url: true, mode: "payment" };
// Frontier's customer is an organization id.
const FRONTIER_ORG = "e9760ba0-2587-4630-a97e-3f0d634d5d9f";
const FRONTIER = { name: "frontier:default", customer: FRONTIER_ORG, url: true };
const FRONTIER_LEGACY = { name: "frontier:legacy", customer: FRONTIER_ORG, url: true };
// Zenskar's /checkouts family has no idempotency, and the SDK puts an
// Idempotency-Key on every POST: no create there through the SDK (a case
// below). Its /checkout family needs a currency and a start date, which the
// facade takes as `provider_options[…]` (its extension of Stripe's create).
const ZENSKAR_CUSTOMER = "2e2b4910-61c8-407d-b343-d74c3e4271ac";
const ZENSKAR = {
  name: "zenskar:default", customer: ZENSKAR_CUSTOMER, expire: true,
  extra: { provider_options: { currency: "USD", start_date: "2026-12-01" } },
};
const ZENSKAR_CHECKOUTS = { name: "zenskar:checkouts", customer: ZENSKAR_CUSTOMER };
const ACCOUNTS = [METEROID, FLOWGLAD, FRONTIER, FRONTIER_LEGACY, ZENSKAR];

function create(account, { customer, options, ...params } = {}) {
  return stripe.checkout.sessions.create(
    {
      mode: "subscription",
      line_items: [{ price: PRO, quantity: 1 }],
      customer: customer ?? account.customer,
      success_url: SUCCESS_URL,
      cancel_url: CANCEL_URL,
      ...account.extra,
      ...params,
    },
    { stripeAccount: account.name, ...options },
  );
}

// What every new session says, whichever vendor holds it.
function checkFresh(s, account) {
  check(s.id.startsWith("cs_"), `id: ${s.id}`);
  equal(s.object, "checkout.session", "object");
  equal(s.status, "open", "status");
  equal(s.mode, account.mode ?? "subscription", "mode");
  check(["unpaid", "no_payment_required"].includes(s.payment_status), `payment_status: ${s.payment_status}`);
  equal([s.success_url, s.cancel_url], [SUCCESS_URL, CANCEL_URL], "redirect URLs");
  equal(s.livemode, false, "livemode");
  check(Number.isInteger(s.created), `created as unix seconds: ${s.created}`);
  check(s.customer, `customer: ${s.customer}`);
  if (account.url) check(typeof s.url === "string" && s.url.startsWith("http"), `url: ${s.url}`);
  return s;
}

function createAndRetrieve(account) {
  return async () => {
    const created = checkFresh(await create(account, account.metadata ? { metadata: { order: "1234" } } : {}), account);
    const read = await stripe.checkout.sessions.retrieve(created.id);
    equal(read.id, created.id, "retrieved id");
    equal([read.status, read.customer, read.created], [created.status, created.customer, created.created],
      "status, customer, created read back");
    // Flowglad returns what it holds; Meteroid stores metadata but never returns it.
    if (account === FLOWGLAD) equal(read.metadata, { order: "1234" }, "metadata read back");
  };
}

// Five sessions of one customer, read two at a time by auto-pagination.
function paginate(account) {
  return async () => {
    const made = [];
    for (let i = 0; i < 5; i += 1) made.push(await create(account, { customer: account.other }));
    const params = { limit: 2, customer: made[0].customer, created: { gte: made[0].created } };
    const options = { stripeAccount: account.name };
    const first = await stripe.checkout.sessions.list(params, options);
    equal([first.data.length, first.has_more], [2, true], "first page: size and has_more");
    const listed = [];
    for await (const s of stripe.checkout.sessions.list(params, options)) listed.push(s);
    const ids = listed.map((s) => s.id);
    equal(new Set(ids).size, ids.length, "no session twice");
    const madeIds = new Set(made.map((s) => s.id));
    equal(ids.filter((id) => madeIds.has(id)), made.map((s) => s.id).reverse(), "this run's sessions, newest first");
    check(listed.every((s, i) => i === 0 || listed[i - 1].created >= s.created), "created never increases");
    check(listed.every((s) => s.customer === made[0].customer), "only the customer asked for");
    const again = await stripe.checkout.sessions.list(params, options).autoPagingToArray({ limit: 100 });
    equal(again.map((s) => s.id), ids, "autoPagingToArray reads the same");
  };
}

async function listIds(params, account) {
  return (await stripe.checkout.sessions.list(params, { stripeAccount: account.name }).autoPagingToArray({ limit: 1000 }))
    .map((s) => s.id);
}

// A vendor session the gateway's canonical list (not the facade under test)
// sees, past the cache: every one the vendor holds for `customer`.
async function vendorSessions(account, customer) {
  const ids = new Set();
  let cursor = null;
  do {
    const query = new URLSearchParams({ accounts: account, customer, limit: "100", ...(cursor ? { cursor } : {}) });
    const answer = await fetch(`${GATEWAY}/v1/checkout-sessions?${query}`, {
      headers: { Authorization: `Bearer ${KEY}`, "Cache-Control": "no-cache" },
    });
    check(answer.ok, `the canonical list of ${account}: ${answer.status}`);
    const page = await answer.json();
    const failed = (page.sources ?? []).filter((s) => s.state !== "ok");
    check(failed.length === 0, `the canonical list of ${account}: ${JSON.stringify(failed)}`);
    for (const s of page.data) ids.add(s.id);
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
}

// Move a sandbox session on, as its vendor would (the demo's control lines).
async function control(account, canonicalId, body) {
  const vendor = account.name.split(":")[0];
  const vendorId = canonicalId.split(":").slice(2).join(":");
  const answer = await fetch(`${SANDBOX}/_sandbox/${vendor}/sessions/${vendorId}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  check(answer.ok, `sandbox control: ${answer.status} ${await answer.text()}`);
}

async function sandboxFault(vendor, fault) {
  const answer = await fetch(`${SANDBOX}/_sandbox/faults`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ vendor, op: "create", times: 1, fault }),
  });
  check(answer.ok, `POST /_sandbox/faults: ${answer.status} ${await answer.text()}`);
}

// A create under a sandbox fault makes exactly one new vendor session.
async function oneNewSession(account, vendor, fault, options) {
  const customer = (await create(account, { customer: account.other })).customer;
  const before = await vendorSessions(account.name, customer);
  await sandboxFault(vendor, fault);
  let session;
  try {
    session = await create(account, { customer: account.other, options });
  } finally {
    // A fault the create never met must not fall on a later case.
    await fetch(`${SANDBOX}/_sandbox/faults`, { method: "DELETE" });
  }
  equal(session.status, "open", "the retried create's session");
  const after = await vendorSessions(account.name, customer);
  const made = [...after].filter((id) => !before.has(id));
  equal(made.length, 1, `new sessions at the vendor (${made.join(", ")})`);
}

// Whether the gateway has the facade at all: without it every case fails the
// same way, so say it once.
async function facadeMissing() {
  try {
    const answer = await fetch(`${GATEWAY}/v1/checkout/sessions?limit=1`, { headers: { Authorization: `Bearer ${KEY}` } });
    if (answer.status === 404) {
      return `GET ${GATEWAY}/v1/checkout/sessions answered 404: this gateway has no Stripe facade`;
    }
    return null;
  } catch (error) {
    return `the gateway at ${GATEWAY} does not answer: ${error.message}`;
  }
}

const cases = [
  ...ACCOUNTS.map((a) => [`create, retrieve at ${a.name} (stripeAccount)`, createAndRetrieve(a)]),
  ...ACCOUNTS.filter((a) => a.list).map((a) => [`list at ${a.name}: for await and autoPagingToArray, limit=2 over 5, newest first`, paginate(a)]),
  ["list: status=open, then status=expired after expire", async () => {
    const s = await create(METEROID, { customer: METEROID.other });
    check((await listIds({ status: "open", customer: s.customer }, METEROID)).includes(s.id), "the new session is open");
    await stripe.checkout.sessions.expire(s.id);
    check((await listIds({ status: "expired", customer: s.customer }, METEROID)).includes(s.id), "listed as expired");
    check(!(await listIds({ status: "open", customer: s.customer }, METEROID)).includes(s.id), "no longer open");
  }],
  ["expire at meteroid:default: expired, read back", async () => {
    const s = await create(METEROID);
    const expired = await stripe.checkout.sessions.expire(s.id);
    equal([expired.id, expired.status], [s.id, "expired"], "expire answers the expired session");
    equal((await stripe.checkout.sessions.retrieve(s.id)).status, "expired", "read back");
  }],
  // Stripe expires only open sessions: a paid one is a 400.
  ["expire a complete session at meteroid:default: StripeInvalidRequestError 400", async () => {
    const customer = (await create(METEROID, { customer: METEROID.other })).customer;
    const before = await vendorSessions(METEROID.name, customer);
    const s = await create(METEROID, { customer: METEROID.other });
    const [canonicalId, ...more] = [...(await vendorSessions(METEROID.name, customer))].filter((id) => !before.has(id));
    equal(more.length, 0, "one new vendor session");
    await control(METEROID, canonicalId, { status: "COMPLETED" });
    const error = await rejects(() => stripe.checkout.sessions.expire(s.id), "expire");
    check(error instanceof Stripe.errors.StripeInvalidRequestError, `class: ${error.constructor.name}: ${error.message}`);
    equal(error.statusCode, 400, "HTTP status");
    // The gateway caches an open session for a few seconds (config/demo.toml).
    let status;
    for (let i = 0; i < 40 && status !== "complete"; i += 1) {
      status = (await stripe.checkout.sessions.retrieve(s.id)).status;
      if (status !== "complete") await new Promise((resolve) => setTimeout(resolve, 250));
    }
    equal(status, "complete", "read back");
  }],
  ...ACCOUNTS.filter((a) => !a.expire).map((a) => [`expire at ${a.name}: StripeInvalidRequestError 400 (the vendor cannot)`, async () => {
    const s = await create(a);
    const error = await rejects(() => stripe.checkout.sessions.expire(s.id), "expire");
    check(error instanceof Stripe.errors.StripeInvalidRequestError, `class: ${error.constructor.name}: ${error.message}`);
    equal(error.statusCode, 400, "HTTP status");
    equal((await stripe.checkout.sessions.retrieve(s.id)).status, "open", "still open");
  }]),
  // A vendor that cannot honour the SDK's Idempotency-Key refuses the create
  // before any call, rather than risk a second checkout on a retry.
  ["create at zenskar:checkouts: StripeInvalidRequestError, the SDK's Idempotency-Key cannot be honoured", async () => {
    const error = await rejects(() => create(ZENSKAR_CHECKOUTS), "create");
    check(error instanceof Stripe.errors.StripeInvalidRequestError, `class: ${error.constructor.name}: ${error.message}`);
    equal(error.statusCode, 400, "HTTP status");
    check(error.message.includes("Idempotency-Key"), `says why: ${error.message}`);
    equal(error.headers["stripe-should-retry"], "false", "Stripe-Should-Retry");
  }],
  // No Stripe-Account: the demo's routing picks the vendor for `pro` and
  // translates the shop's customer `acme` into that vendor's reference.
  ["create without stripeAccount: routed (alias pro, customer acme)", async () => {
    const s = await stripe.checkout.sessions.create({
      mode: "subscription", line_items: [{ price: PRO, quantity: 1 }], customer: "acme",
      success_url: SUCCESS_URL, cancel_url: CANCEL_URL,
    });
    check(s.id.startsWith("cs_"), `id: ${s.id}`);
    equal(s.status, "open", "status");
    equal((await stripe.checkout.sessions.retrieve(s.id)).id, s.id, "retrieved");
  }],
  ["error: unsupported create parameter is StripeInvalidRequestError naming it", async () => {
    const error = await rejects(() => create(METEROID, { payment_method_types: ["card"] }), "payment_method_types");
    check(error instanceof Stripe.errors.StripeInvalidRequestError, `class: ${error.constructor.name}: ${error.message}`);
    equal(error.statusCode, 400, "HTTP status");
    check(error.param?.startsWith("payment_method_types"), `param: ${error.param}`);
    check(error.requestId, "Request-Id");
  }],
  ["error: unsupported list parameter is StripeInvalidRequestError naming it", async () => {
    const error = await rejects(
      () => stripe.checkout.sessions.list({ payment_intent: "pi_123" }, { stripeAccount: METEROID.name }),
      "payment_intent",
    );
    check(error instanceof Stripe.errors.StripeInvalidRequestError, `class: ${error.constructor.name}: ${error.message}`);
    equal([error.statusCode, error.param], [400, "payment_intent"], "status and param");
  }],
  ["error: unknown session is StripeInvalidRequestError 404 resource_missing", async () => {
    const error = await rejects(() => stripe.checkout.sessions.retrieve("cs_nosuchsession"), "retrieve");
    check(error instanceof Stripe.errors.StripeInvalidRequestError, `class: ${error.constructor.name}: ${error.message}`);
    equal([error.statusCode, error.code], [404, "resource_missing"], "status and code");
  }],
  ["error: bad key is StripeAuthenticationError", async () => {
    const error = await rejects(
      () => stripe.checkout.sessions.list({}, { apiKey: "sk_test_not_a_gateway_key", stripeAccount: METEROID.name }),
      "bad key",
    );
    check(error instanceof Stripe.errors.StripeAuthenticationError, `class: ${error.constructor.name}: ${error.message}`);
    equal(error.statusCode, 401, "HTTP status");
  }],
  ["idempotency: replay; other parameters are StripeIdempotencyError", async () => {
    const idempotencyKey = `stripe-node-${randomUUID()}`;
    const first = await create(METEROID, { options: { idempotencyKey } });
    const replayed = await create(METEROID, { options: { idempotencyKey } });
    equal(replayed.id, first.id, "the same key and parameters replay the first session");
    const error = await rejects(
      () => create(METEROID, { success_url: "https://shop.example/other", options: { idempotencyKey } }),
      "the same key with other parameters",
    );
    check(error instanceof Stripe.errors.StripeIdempotencyError, `class: ${error.constructor.name}: ${error.message}`);
    equal(error.statusCode, 400, "HTTP status");
  }],
  // The gateway answers later than the SDK waits (the vendor is slow): the
  // SDK retries with the Idempotency-Key it added itself, and the gateway
  // answers the retry with the session the first attempt made.
  ["retry: SDK timeout, retried with its own key, one vendor session", () =>
    oneNewSession(METEROID, "meteroid", { latency_ms: 4000 }, { timeout: 2500 })],
  // The vendor's first answer is a 500: the gateway finds nothing was made,
  // so the SDK's retry (same key) makes the one session.
  ["retry: vendor 500 once, retried with its own key, one vendor session", () =>
    oneNewSession(FLOWGLAD, "flowglad", { status: 500, body: '{"error":"internal"}' })],
];

console.log(`stripe (npm) ${stripe.VERSION} against ${GATEWAY} (root mount)`);
const missing = await facadeMissing();
if (missing) {
  console.log(`FAIL  ${missing}`);
  console.log(`0 passed, ${cases.length} failed`);
  process.exitCode = 1;
} else {
  await run(cases);
}
// The SDK's keep-alive connection to the gateway would hold the process
// open until the gateway closes it (a minute).
process.exit();
