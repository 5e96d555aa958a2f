// A transparent recording proxy in front of `wrangler dev`, so that the secret audit sees every
// request and answer of the whole test run, whoever sends it: the Rust integration tests, the
// load runs, Chromium in the end-to-end tests and schemathesis all speak to this port.
//
//   node tests/audit/record-proxy.mjs LISTEN_PORT BACKEND_PORT RECORD_FILE
//
// Requests and answers pass unchanged (the Host header too, so the worker builds its QR URLs
// for this port). Each exchange is appended to RECORD_FILE as one JSON line: {method, url,
// request_body, status, location, response_body}; bodies only for /api/, the provider's
// /oauth/ and /.well-known/, and the PC page at `/`, which holds the first code the edge made
// for it (the static app's files are not worth keeping). A WebSocket upgrade (the live channel) is tunnelled whole: its
// handshake is one record, and each text message the edge sends on it another, with method
// "WS", so the audit sees every push too. scripts/test.sh runs `secret-audit` over these lines
// afterwards. The file holds the run's secrets: it lives under target/ and is deleted once the
// audit passes.
import http from "node:http";
import net from "node:net";
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
  const api = ["/api/", "/oauth/", "/.well-known/"].some((prefix) => req.url.startsWith(prefix));
  const page = new URL(req.url, "http://proxy").pathname === "/";
  const line = JSON.stringify({
    method: req.method,
    url: req.url,
    request_body: api ? requestBody.toString("utf8") : "",
    status,
    location: location ?? null,
    response_body: api || page ? responseBody.toString("utf8") : "",
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
/**
 * Reads what the edge sends on an upgraded connection: the handshake's answer, then frames.
 * Frames from a server are never masked (RFC 6455 §5.1); text messages (opcode 1, with any
 * continuations) are recorded whole.
 */
function edgeFrameRecorder(req) {
  let buffer = Buffer.alloc(0);
  let handshakeDone = false;
  let message = [];
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!handshakeDone) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const status = Number(buffer.subarray(0, end).toString("latin1").split(" ")[1]);
      record(req, Buffer.alloc(0), status, null, Buffer.alloc(0));
      handshakeDone = true;
      buffer = buffer.subarray(end + 4);
    }
    for (;;) {
      if (buffer.length < 2) return;
      const fin = (buffer[0] & 0x80) !== 0;
      const opcode = buffer[0] & 0x0f;
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + length) return;
      const payload = buffer.subarray(offset, offset + length);
      buffer = buffer.subarray(offset + length);
      if (opcode === 1 || (opcode === 0 && message.length > 0)) {
        message.push(payload);
        if (fin) {
          const text = Buffer.concat(message);
          message = [];
          record({ method: "WS", url: req.url }, Buffer.alloc(0), 101, null, text);
        }
      }
    }
  };
}

server.on("upgrade", (req, client, head) => {
  const upstream = net.connect(Number(backendPort), "127.0.0.1", () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    upstream.write(lines.join("\r\n") + "\r\n\r\n");
    upstream.write(head);
    client.pipe(upstream);
  });
  const recordFrames = edgeFrameRecorder(req);
  upstream.on("data", (chunk) => {
    recordFrames(chunk);
    client.write(chunk);
  });
  upstream.on("end", () => client.end());
  client.on("end", () => upstream.end());
  // Either side may go away at any moment (a test closes its socket, a page navigates).
  upstream.on("error", () => client.destroy());
  client.on("error", () => upstream.destroy());
});
server.keepAliveTimeout = 30_000;
server.listen(Number(listenPort), "127.0.0.1");
