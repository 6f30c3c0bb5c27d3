// The SDK suites' shared convention (the Python suites follow it too, through runner.py): the
// sandbox's base URL from SANDBOX_URL, named cases run one after another,
// one line per case, then exactly `N passed, M failed`; exit 1 if M > 0.

import { isDeepStrictEqual } from "node:util";

export function sandboxUrl(vendor) {
  const base = process.env.SANDBOX_URL;
  if (!base) {
    console.error("SANDBOX_URL is not set (e.g. http://127.0.0.1:9100)");
    process.exit(2);
  }
  return `${base.replace(/\/+$/, "")}/${vendor}`;
}

export class AssertionFailed extends Error {}

export function check(condition, message) {
  if (!condition) throw new AssertionFailed(message);
}

// Deep equality, key order aside.
export function equal(actual, expected, what) {
  const show = (v) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `${x}n` : x));
  check(isDeepStrictEqual(actual, expected), `${what}: expected ${show(expected)}, got ${show(actual)}`);
}

// Runs `body` expecting it to throw; returns what it threw.
export async function rejects(body, what) {
  try {
    await body();
  } catch (error) {
    if (error instanceof AssertionFailed) throw error;
    return error;
  }
  throw new AssertionFailed(`${what}: expected an error, the call succeeded`);
}

export async function run(cases) {
  let passed = 0;
  let failed = 0;
  for (const [name, body] of cases) {
    try {
      await body();
      passed += 1;
      console.log(`ok    ${name}`);
    } catch (error) {
      failed += 1;
      const why = error instanceof AssertionFailed ? error.message : `${error?.constructor?.name}: ${error?.message}`;
      console.log(`FAIL  ${name}: ${why}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}
