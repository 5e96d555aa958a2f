// The person's side of one sign-in, for trying a client library by hand or from a script: a
// new account's phone approves the authorization URL given (or, with --deny, denies it) through
// qrgate's API, and the redirect back to the client is printed.
//
//   node tests/oidc/approve.mjs BASE_URL AUTHORIZATION_URL [--deny]
import { approve, signedInPhone } from "./flow.mjs";

const [base, url, deny] = process.argv.slice(2);
if (!base || !url) {
  console.error("usage: node tests/oidc/approve.mjs BASE_URL AUTHORIZATION_URL [--deny]");
  process.exit(2);
}
const phone = await signedInPhone(base);
const { redirectTo } = await approve(base, url, phone, { deny: deny === "--deny" });
console.log(redirectTo.href);
