// The provider's settings for a test run (scripts/test.sh): a fresh key set and the test
// clients, written to DIR as keys.json and clients.json (each passed to every `wrangler dev`
// with --var), and secrets.json (each confidential client's secret, for the tests only).
//
//   node tests/oidc/config.mjs DIR
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newClient, signingKeys } from "../../scripts/oidc.mjs";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node tests/oidc/config.mjs DIR");
  process.exit(2);
}
const WEB = ["https://client.example/cb", "http://127.0.0.1/callback"];
const clients = [
  // Confidential, every grant of the code flow: basic and post authentication.
  newClient({ id: "test-confidential", name: "Test app", redirectUris: WEB }),
  // Public (a single-page or native app): PKCE and, with DPoP, key-bound refresh tokens.
  newClient({ id: "test-public", name: "Test single-page app", isPublic: true, redirectUris: ["http://localhost/spa", "http://127.0.0.1/callback"] }),
  newClient({ id: "test-rs256", name: "Test RS256 app", redirectUris: WEB, rs256: true }),
  newClient({ id: "test-no-refresh", name: "Test app without refresh", redirectUris: WEB, grantTypes: ["authorization_code"] }),
  newClient({ id: "qrgate-cli", name: "qrgate CLI", isPublic: true, device: true }),
  // A confidential device (a TV app with a secret): it authenticates its device authorizations.
  newClient({ id: "test-tv", name: "Test TV app", device: true }),
  // A redirect URI, but not the code grant: its authorization requests are unauthorized_client.
  newClient({ id: "test-no-code", name: "Test device app", isPublic: true, redirectUris: WEB, device: true }),
  // The example web client (examples/web-client/), as the end-to-end tests run it.
  newClient({ id: "example-web", name: "Example web app", redirectUris: ["http://127.0.0.1/callback"] }),
];
mkdirSync(dir, { recursive: true });
const write = (name, value) => writeFileSync(join(dir, name), JSON.stringify(value), { mode: 0o600 });
write("keys.json", signingKeys("test"));
write("clients.json", clients.map((c) => c.entry));
write("secrets.json", Object.fromEntries(clients.filter((c) => c.secret).map((c) => [c.entry.client_id, c.secret])));
