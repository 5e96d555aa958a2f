//! The camera's fallback QR decoder, a web worker (`data-type="worker"` in `app/phone.html`):
//! each message is a camera frame (`ImageData`), each answer the text of the QR code found in
//! it, or `null`; its first message, `true`, says it is ready for frames. A phone fetches it
//! only when it opens the camera on a browser without `BarcodeDetector`.

use qrgate_app::decoder::decode_rgba;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, ImageData, MessageEvent};

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let answers = scope.clone();
    let on_frame = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let text = event.data().dyn_into::<ImageData>().ok().and_then(|frame| {
            decode_rgba(
                frame.width() as usize,
                frame.height() as usize,
                &frame.data(),
            )
        });
        let answer = text.map_or(JsValue::NULL, |text| JsValue::from_str(&text));
        // A page that went away takes no answer; nothing is lost.
        let _ = answers.post_message(&answer);
    });
    scope.set_onmessage(Some(on_frame.as_ref().unchecked_ref()));
    // The handler lives as long as the worker does.
    on_frame.forget();
    // Frames posted before the handler was set were dropped: the page sends none before this.
    let _ = scope.post_message(&JsValue::TRUE);
}
