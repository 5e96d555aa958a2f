// A transparent recording proxy in front of `wrangler dev`, so that the secret audit sees every
// request and answer of the whole test run, whoever sends it: the Rust integration tests, the
// load runs, Chromium in the end-to-end tests and schemathesis all speak to this port.
//
//   node tests/audit/record-proxy.mjs LISTEN_PORT BACKEND_PORT RECORD_FILE
//
// Requests and answers pass unchanged (the Host header too, so the worker builds its QR URLs
// for this port). Each exchange is appended to RECORD_FILE as one JSON line: {method, url,
// request_body, status, location, response_body}; bodies only for /api/ (the static app's
// files are not worth keeping). scripts/test.sh runs `secret-audit` over these lines
// afterwards. The file holds the run's secrets: it lives under target/ and is deleted once the
// audit passes.
import http from "node:http";
import { openSync, writeSync } from "node:fs";

const [listenPort, backendPort, recordFile] = process.argv.slice(2);
if (!listenPort || !backendPort || !recordFile) {
  console.error("usage: record-proxy.mjs LISTEN_PORT BACKEND_PORT RECORD_FILE");
  process.exit(2);
}
// Written synchronously, line by line: nothing is lost when the test script stops the proxy.
const records = openSync(recordFile, "a");
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
// Headers that belong to one connection, not to the message (RFC 9110, 7.6.1).
const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
]);

function readAll(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on("data", (chunk) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

/** rawHeaders ([name, value, name, value, ...]) without hop-by-hop headers, lengths fixed up. */
function endToEndHeaders(rawHeaders, body) {
  const kept = [];
  let hasLength = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    hasLength ||= name === "content-length";
    kept.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  // A chunked body arrives whole here, so it leaves with its length.
  if (!hasLength && body.length > 0) kept.push("Content-Length", String(body.length));
  return kept;
}

function forward(req, body) {
  return new Promise((resolve, reject) => {
    const upstream = http.request({
      host: "127.0.0.1",
      port: backendPort,
      method: req.method,
      path: req.url,
      headers: endToEndHeaders(req.rawHeaders, body),
      agent,
    });
    upstream.on("response", async (answer) => {
      try {
        resolve({ answer, body: await readAll(answer) });
      } catch (error) {
        reject(error);
      }
    });
    upstream.on("error", reject);
    upstream.end(body);
  });
}

function record(req, requestBody, status, location, responseBody) {
  const api = req.url.startsWith("/api/");
  const line = JSON.stringify({
    method: req.method,
    url: req.url,
    request_body: api ? requestBody.toString("utf8") : "",
    status,
    location: location ?? null,
    response_body: api ? responseBody.toString("utf8") : "",
  });
  writeSync(records, line + "\n");
}

const server = http.createServer(async (req, res) => {
  let requestBody;
  try {
    requestBody = await readAll(req);
  } catch {
    return; // The client went away mid-request: there is nothing to forward or record.
  }
  try {
    const { answer, body } = await forward(req, requestBody);
    record(req, requestBody, answer.statusCode, answer.headers.location, body);
    res.writeHead(answer.statusCode, answer.statusMessage, endToEndHeaders(answer.rawHeaders, body));
    res.end(body);
  } catch (error) {
    // A 502 fails every test that sees it; the reason goes to the proxy's own log.
    console.error(`record-proxy: ${req.method} ${req.url.split("?")[0]}: ${error.code ?? error}`);
    record(req, requestBody, 502, null, Buffer.alloc(0));
    if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
    res.end("the recording proxy could not reach wrangler dev\n");
  }
});
server.keepAliveTimeout = 30_000;
server.listen(Number(listenPort), "127.0.0.1");
