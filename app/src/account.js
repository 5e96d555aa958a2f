// The account's live channel (asyncapi.yaml, "account") as a signed-in page listens on it: the
// socket, its first message, its keep-alive and its end, in a few lines of JS rather than
// web-sys's WebSocket bindings, serde and the closures they need, which would weigh on the PC
// page.

const PING_EVERY_MS = 20000;

// `signed_out` as the edge sends it (`SIGNED_OUT_EVENT`; src/account_channel.rs checks it).
const SIGNED_OUT = '{"type":"signed_out"}';

// Opens `path` on this host (wss: on https:) and sends the first message once open (the token,
// the device's id, and a DPoP proof for a bound token, else ""). Every event but `signed_out`
// goes to `onEvent`, if given. Resolves once listening ends: 2 on `signed_out`, 1 when the
// socket ended after the edge had said `ready`, else 0.
export function listenAccount(path, token, device_id, proof, onEvent) {
  const hello = JSON.stringify(proof ? { token, device_id, proof } : { token, device_id });
  return new Promise((resolve) => {
    let socket;
    try {
      socket = new WebSocket(location.origin.replace(/^http/, "ws") + path);
    } catch {
      return resolve(0);
    }
    let up = false;
    const ping = setInterval(() => socket.readyState === 1 && socket.send("ping"), PING_EVERY_MS);
    const end = (how) => {
      socket.onmessage = socket.onclose = null;
      clearInterval(ping);
      socket.close();
      resolve(how);
    };
    socket.onopen = () => socket.send(hello);
    socket.onmessage = ({ data }) => {
      if (data === SIGNED_OUT) return end(2);
      if (data === "pong") return;
      up = true;
      onEvent?.(data);
    };
    socket.onclose = () => end(up ? 1 : 0);
  });
}
