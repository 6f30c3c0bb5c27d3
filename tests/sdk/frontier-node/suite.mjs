// Frontier's own TypeScript client (@raystack/proton, the version
// @raystack/frontier 0.72 pins, unmodified) over @connectrpc/connect-node,
// against the sandbox. The transport is built as proton's README shows for
// Node (`createConnectTransport({ baseUrl, httpVersion: "2" })`): nothing
// else, so binary protobuf, connect-node's default. Every case also runs with
// the JSON codec (`useBinaryFormat: false`, what Frontier's own web SDK
// speaks), and one create sends a gzip body.
// Proton ships TypeScript sources only: `node --import tsx` loads them.
// Seeded records: crates/sandbox/src/frontier/seed.rs.

import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport } from "@connectrpc/connect-node";
import { FrontierServiceQueries } from "@raystack/proton/frontier";

import { check, equal, rejects, run, sandboxUrl } from "../runner.mjs";

const baseUrl = sandboxUrl("frontier");
// A service user administering every seeded org (Basic client credentials),
// and a personal access token of a user administering Acme only.
const CLIENT_ID = "275ef377-9d47-485a-8e02-f68bb06289f9";
const CLIENT_SECRET = "C3J27XDCG2LmlZGEONYlgCtjfIZ4SOcMz9CPVNPk";
const ACME_ONLY_TOKEN = "fpt_Na1Hedcm4pMbXDuCL1mHoOsFaQfDPrAJ71fTquWo";
const ORG_ACME = "e9760ba0-2587-4630-a97e-3f0d634d5d9f";
const ORG_GLOBEX = "df0133c7-2ca6-41fc-a899-38c9b7645d92";
const STARTER = { id: "74d6592b-c0ce-4a49-b30e-418eddb39ec7", name: "starter_monthly" };
const PRO = { id: "3235c01d-1dcc-4478-9f08-7c7d0031679c", name: "pro_annual" };
const RETIRED_PLAN = "legacy_2023";
const CREDITS = { id: "6fcb3b97-4c53-4b5b-8954-8995fc69fe08", name: "credits_1000" };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DAY_S = 24 * 60 * 60;
const urls = { successUrl: "https://shop.example/ok", cancelUrl: "https://shop.example/no" };

// The generated service descriptor, as proton's query module exports it.
const FrontierService = FrontierServiceQueries.createCheckout.parent;

const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
const SERVICE_USER = { headers: { Authorization: basic(CLIENT_ID, CLIENT_SECRET) } };

function clientWith(extra) {
  return createClient(FrontierService, createConnectTransport({ baseUrl, httpVersion: "2", ...extra }));
}

function checkFresh(s) {
  check(UUID.test(s.id), `id is a UUID: ${s.id}`);
  equal(s.state, "open", "state");
  check(s.checkoutUrl.startsWith("https://checkout.stripe.com/c/pay/cs_test_"), `checkoutUrl: ${s.checkoutUrl}`);
  const lifetime = Number(s.expireAt.seconds - s.createdAt.seconds);
  check(Math.abs(lifetime - DAY_S) <= 2, `expires 24 h after creation, not ${lifetime} s`);
  return s;
}

async function expectCode(call, code, what) {
  const error = await rejects(call, what);
  check(error instanceof ConnectError, `error class: ${error?.constructor?.name}`);
  check(error.code === code, `code: expected ${Code[code]}, got ${Code[error.code]} (${error.rawMessage})`);
  return error;
}

function cases(codec, client) {
  const create = (request) => client.createCheckout({ orgId: ORG_ACME, ...urls, ...request }, SERVICE_USER);
  const named = (name, body) => [`${codec}: ${name}`, body];
  return [
    named("create: subscription by plan name", async () => {
      const s = checkFresh((await create({ subscriptionBody: { plan: STARTER.name } })).checkoutSession);
      equal([s.plan, s.product], [STARTER.id, ""], "plan by id, no product");
      equal([s.successUrl, s.cancelUrl], [urls.successUrl, urls.cancelUrl], "redirect URLs");
    }),
    named("create: subscription by plan id, success URL templated with the checkout id", async () => {
      const successUrl = "https://shop.example/ok?checkout={{.CheckoutID}}";
      const s = checkFresh((await create({ successUrl, subscriptionBody: { plan: PRO.id } })).checkoutSession);
      equal(s.plan, PRO.id, "plan");
      equal(s.successUrl, `https://shop.example/ok?checkout=${s.id}`, "successUrl");
    }),
    named("create: product by name, quantity 2", async () => {
      const s = checkFresh(
        (await create({ productBody: { product: CREDITS.name, quantity: 2n } })).checkoutSession,
      );
      equal([s.plan, s.product], ["", CREDITS.id], "product by id, no plan");
    }),
    named("retrieve: the created checkout, field for field", async () => {
      const created = (await create({ subscriptionBody: { plan: STARTER.id } })).checkoutSession;
      const got = await client.getCheckout({ orgId: ORG_ACME, id: created.id }, SERVICE_USER);
      equal(got.checkoutSession, created, "retrieved checkout");
    }),
    named("list: the org's checkouts, the new ones included, each once (no pagination in the API)", async () => {
      const mine = [];
      for (let i = 0; i < 3; i += 1) {
        mine.push((await create({ productBody: { product: CREDITS.id, quantity: 1n } })).checkoutSession.id);
      }
      const listed = (await client.listCheckouts({ orgId: ORG_ACME }, SERVICE_USER)).checkoutSessions;
      const ids = listed.map((s) => s.id);
      equal(new Set(ids).size, ids.length, "no checkout listed twice");
      for (const id of mine) check(ids.includes(id), `created ${id} not listed`);
      const globex = (await client.listCheckouts({ orgId: ORG_GLOBEX }, SERVICE_USER)).checkoutSessions;
      for (const id of mine) check(!globex.some((s) => s.id === id), `Acme's ${id} listed under Globex`);
    }),
    named("error: unknown id is NotFound", async () => {
      await expectCode(
        () => client.getCheckout({ orgId: ORG_ACME, id: "00000000-0000-4000-8000-000000000000" }, SERVICE_USER),
        Code.NotFound,
        "getCheckout",
      );
    }),
    named("error: bad credentials are Unauthenticated", async () => {
      const wrong = { headers: { Authorization: basic(CLIENT_ID, "not-the-secret") } };
      await expectCode(() => client.listCheckouts({ orgId: ORG_ACME }, wrong), Code.Unauthenticated, "list");
    }),
    named("error: another org's checkouts are PermissionDenied", async () => {
      const acmeOnly = { headers: { Authorization: `Bearer ${ACME_ONLY_TOKEN}` } };
      await expectCode(() => client.listCheckouts({ orgId: ORG_GLOBEX }, acmeOnly), Code.PermissionDenied, "list");
    }),
    named("error: a retired plan is FailedPrecondition", async () => {
      await expectCode(
        () => create({ subscriptionBody: { plan: RETIRED_PLAN } }),
        Code.FailedPrecondition,
        "createCheckout",
      );
    }),
  ];
}

const gzipped = clientWith({ sendCompression: compressionGzip, compressMinBytes: 0 });

await run([
  ["no cancel: the service has no checkout cancel RPC", async () => {
    const rpcs = FrontierService.methods.map((m) => m.name).filter((n) => /checkout/i.test(n));
    equal(rpcs.sort(), ["CreateCheckout", "GetCheckout", "ListCheckouts"], "checkout RPCs");
  }],
  ...cases("json", clientWith({ useBinaryFormat: false })),
  ...cases("binary (transport defaults)", clientWith({})),
  ["binary, gzip request: create", async () => {
    const s = checkFresh(
      (await gzipped.createCheckout({ orgId: ORG_ACME, ...urls, subscriptionBody: { plan: STARTER.name } }, SERVICE_USER))
        .checkoutSession,
    );
    equal(s.plan, STARTER.id, "plan");
  }],
]);
