//! DPoP proofs (`shared/API.md`, "Tokens bound to a key") by the role's key, which the browser
//! keeps in IndexedDB and cannot export (`src/dpop.js`).

use crate::role::Role;
use qrgate_protocol::Secret;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/dpop.js")]
extern "C" {
    #[wasm_bindgen(js_name = proof)]
    fn sign_proof(key_name: &str, htm: &str, htu: &str, token: Option<String>) -> js_sys::Promise;

    #[wasm_bindgen(js_name = followEdgeClock)]
    fn follow_edge_clock_js(date: &str) -> bool;

    #[wasm_bindgen(js_name = edgeNow)]
    fn edge_now_js() -> f64;

    #[wasm_bindgen(js_name = keepKey)]
    fn keep_key_js(key_name: &str) -> js_sys::Promise;
}

/// Keeps `role`'s key in IndexedDB now if it is new and not kept yet (a new key signs at once and
/// is kept a moment later): called before a token that may be bound to it is stored, so that the
/// token outlives the page.
pub async fn keep_key(role: Role) {
    let _ = JsFuture::from(keep_key_js(role.storage_prefix())).await;
}

/// Sets the proofs' clock by the edge's, from an answer's `Date` header: whether it moved far
/// enough that a proof refused for its time would now pass.
pub fn follow_edge_clock(date: &str) -> bool {
    follow_edge_clock_js(date)
}

/// The edge's clock now, in milliseconds, as its last answer's `Date` showed it (this browser's
/// before any answer).
pub fn edge_now_ms() -> f64 {
    edge_now_js()
}

/// A proof by `role`'s key for `method` to this page's `path`, naming `token` if one goes with
/// it; `None` where the browser cannot keep a key (no WebCrypto or IndexedDB, as in an insecure
/// context): the request then goes without one.
pub async fn proof(role: Role, method: &str, path: &str, token: Option<&Secret>) -> Option<String> {
    let origin = web_sys::window()?.location().origin().ok()?;
    let signing = sign_proof(
        role.storage_prefix(),
        method,
        &format!("{origin}{path}"),
        token.map(|token| token.expose().to_owned()),
    );
    JsFuture::from(signing).await.ok()?.as_string()
}
