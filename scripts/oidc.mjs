#!/usr/bin/env node
// The provider's operator tools (shared/API.md, "Sign in to other apps"):
//
//   node scripts/oidc.mjs keys                 a fresh OIDC_SIGNING_KEYS: an ES256 and an RS256
//                                              key, each with its kid (put it with
//                                              `wrangler secret put OIDC_SIGNING_KEYS`)
//   node scripts/oidc.mjs client --id ID --name NAME --redirect-uri URI [--redirect-uri URI]
//        [--public] [--device] [--rs256]       a new client's OAUTH_CLIENTS entry and, for a
//                                              confidential one, its fresh secret (shown once:
//                                              only its SHA-256 goes in the entry)
//   node scripts/oidc.mjs dev-vars             writes .dev.vars for `wrangler dev` if there is
//                                              none: a local key set and the local clients (the
//                                              example web client, whose secret it also writes
//                                              to examples/web-client/.env, and the qrgate CLI)
//
// Keys and secrets come from Node's CSPRNG; nothing is sent anywhere.
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code";

/** A private JWK of `type` ("ec" or "rsa") with its kid and alg. */
function privateJwk(type, kid) {
  const { privateKey } =
    type === "ec"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid, alg: type === "ec" ? "ES256" : "RS256", use: "sig" };
}

/** A fresh key set: the first ES256 key signs tokens, the RS256 key the ID tokens of clients
 * registered for RS256. */
export function signingKeys(label = new Date().toISOString().slice(0, 10)) {
  return { keys: [privateJwk("ec", `es256-${label}`), privateJwk("rsa", `rs256-${label}`)] };
}

/** A client's entry, and its secret (null for a public client). */
export function newClient({ id, name, redirectUris = [], isPublic = false, device = false, rs256 = false, grantTypes }) {
  const secret = isPublic ? null : randomBytes(32).toString("base64url");
  const entry = { client_id: id, client_name: name, redirect_uris: redirectUris };
  if (secret) entry.client_secret_sha256 = createHash("sha256").update(secret).digest("hex");
  if (device) entry.grant_types = [DEVICE_CODE, "refresh_token"];
  if (grantTypes) entry.grant_types = grantTypes;
  if (rs256) entry.id_token_signed_response_alg = "RS256";
  return { entry, secret };
}

/** The local clients of `./scripts/run.sh`. */
export function localClients() {
  const web = newClient({
    id: "example-web",
    name: "Example web app",
    // Loopback: any port matches (RFC 8252 §7.3), so the example may run on any.
    redirectUris: ["http://127.0.0.1/callback", "http://localhost/callback"],
  });
  const cli = newClient({ id: "qrgate-cli", name: "qrgate CLI", isPublic: true, device: true });
  return { entries: [web.entry, cli.entry], webSecret: web.secret };
}

function devVars() {
  const file = join(ROOT, ".dev.vars");
  if (existsSync(file)) {
    console.log(".dev.vars is there already: left as it is");
    return;
  }
  const { entries, webSecret } = localClients();
  // Single quotes: dotenv keeps the JSON as it is.
  writeFileSync(
    file,
    `# Local settings of wrangler dev, made by scripts/oidc.mjs dev-vars; never committed.\n` +
      `OIDC_SIGNING_KEYS='${JSON.stringify(signingKeys("local"))}'\n` +
      `OAUTH_CLIENTS='${JSON.stringify(entries)}'\n`,
    { mode: 0o600 },
  );
  writeFileSync(
    join(ROOT, "examples/web-client/.env"),
    `# The example web client's registration in .dev.vars (scripts/oidc.mjs dev-vars).\n` +
      `CLIENT_ID=example-web\nCLIENT_SECRET=${webSecret}\n`,
    { mode: 0o600 },
  );
  console.log("wrote .dev.vars (a local key set and the local clients) and examples/web-client/.env");
}

function client(args) {
  const options = { redirectUris: [] };
  for (let i = 0; i < args.length; i++) {
    const value = () => {
      if (i + 1 >= args.length) throw new Error(`${args[i]} needs a value`);
      return args[++i];
    };
    switch (args[i]) {
      case "--id": options.id = value(); break;
      case "--name": options.name = value(); break;
      case "--redirect-uri": options.redirectUris.push(value()); break;
      case "--public": options.isPublic = true; break;
      case "--device": options.device = true; break;
      case "--rs256": options.rs256 = true; break;
      default: throw new Error(`unknown option ${args[i]}`);
    }
  }
  if (!options.id || !options.name) throw new Error("--id and --name are required");
  const { entry, secret } = newClient(options);
  console.log("Add this entry to OAUTH_CLIENTS:");
  console.log(JSON.stringify(entry, null, 2));
  if (secret) {
    console.log("\nThe client's secret, shown once (qrgate keeps only its SHA-256):");
    console.log(secret);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, ...args] = process.argv.slice(2);
  try {
    if (command === "keys") console.log(JSON.stringify(signingKeys()));
    else if (command === "client") client(args);
    else if (command === "dev-vars") devVars();
    else throw new Error("usage: node scripts/oidc.mjs keys | client --id ID --name NAME ... | dev-vars");
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
}
