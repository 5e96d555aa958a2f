//! The in-page camera scanner: the browser's `BarcodeDetector` where it exists, otherwise
//! camera frames decoded in Rust with `rqrr`.

use crate::i18n::{Text, tr};
use crate::sleep_ms;
use js_sys::{Array, Function, Object, Promise, Reflect};
use leptos::html::Video;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream};

/// Time between two attempts to read a frame.
const FRAME_INTERVAL_MS: u32 = 200;

/// The text of the first QR code found in an RGBA image, e.g. a camera frame.
pub fn decode_rgba(width: usize, height: usize, rgba: &[u8]) -> Option<String> {
    if width == 0 || height == 0 || rgba.len() < width * height * 4 {
        return None;
    }
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        let i = (y * width + x) * 4;
        let (r, g, b) = (rgba[i] as u32, rgba[i + 1] as u32, rgba[i + 2] as u32);
        ((r * 299 + g * 587 + b * 114) / 1000) as u8
    });
    image
        .detect_grids()
        .iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

fn barcode_detector() -> Option<JsValue> {
    let constructor = Reflect::get(&js_sys::global(), &"BarcodeDetector".into()).ok()?;
    let constructor: &Function = constructor.dyn_ref()?;
    let options = Object::new();
    Reflect::set(&options, &"formats".into(), &Array::of1(&"qr_code".into())).ok()?;
    Reflect::construct(constructor, &Array::of1(&options)).ok()
}

async fn detect_with(detector: &JsValue, video: &HtmlVideoElement) -> Option<String> {
    let detect: Function = Reflect::get(detector, &"detect".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: Promise = detect.call1(detector, video).ok()?.dyn_into().ok()?;
    let found: Array = JsFuture::from(promise).await.ok()?.dyn_into().ok()?;
    Reflect::get(&found.get(0), &"rawValue".into())
        .ok()?
        .as_string()
}

fn decode_frame(video: &HtmlVideoElement, canvas: &HtmlCanvasElement) -> Option<String> {
    let (width, height) = (video.video_width(), video.video_height());
    if width == 0 || height == 0 {
        return None;
    }
    canvas.set_width(width);
    canvas.set_height(height);
    let context: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    context
        .draw_image_with_html_video_element(video, 0.0, 0.0)
        .ok()?;
    let frame = context
        .get_image_data(0.0, 0.0, width as f64, height as f64)
        .ok()?;
    decode_rgba(width as usize, height as usize, &frame.data())
}

async fn open_camera() -> Option<MediaStream> {
    let devices = web_sys::window()?.navigator().media_devices().ok()?;
    let constraints = web_sys::MediaStreamConstraints::new();
    let video = Object::new();
    Reflect::set(&video, &"facingMode".into(), &"environment".into()).ok()?;
    constraints.set_video(&video);
    let promise = devices.get_user_media_with_constraints(&constraints).ok()?;
    JsFuture::from(promise).await.ok()?.dyn_into().ok()
}

fn stop_camera(stream: &MediaStream) {
    for track in stream.get_tracks() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}

#[component]
pub fn Scanner(
    #[prop(into)] on_text: Callback<String>,
    #[prop(into)] on_unavailable: Callback<()>,
) -> impl IntoView {
    let video_ref = NodeRef::<Video>::new();
    let running = RwSignal::new(false);
    let stream = StoredValue::new_local(None::<MediaStream>);
    let stop = move || {
        running.set(false);
        if let Some(stream) = stream.get_value() {
            stop_camera(&stream);
        }
        stream.set_value(None);
    };
    on_cleanup(stop);
    let start = move || {
        spawn_local(async move {
            let (Some(camera), Some(video)) = (open_camera().await, video_ref.get_untracked())
            else {
                return on_unavailable.run(());
            };
            video.set_src_object(Some(&camera));
            let _ = video.play();
            stream.set_value(Some(camera));
            running.set(true);
            let detector = barcode_detector();
            let canvas: Option<HtmlCanvasElement> = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.create_element("canvas").ok())
                .and_then(|c| c.dyn_into().ok());
            while running.get_untracked() {
                sleep_ms(FRAME_INTERVAL_MS).await;
                let found = match (&detector, &canvas) {
                    (Some(detector), _) => detect_with(detector, &video).await,
                    (None, Some(canvas)) => decode_frame(&video, canvas),
                    (None, None) => None,
                };
                if let Some(text) = found {
                    stop();
                    return on_text.run(text);
                }
            }
        });
    };
    view! {
        <div class="scanner">
            <video node_ref=video_ref class:hidden=move || !running.get() playsinline=true muted=true></video>
            {move || if running.get() {
                view! { <button on:click=move |_| stop()>{tr(Text::StopCamera)}</button> }.into_any()
            } else {
                view! { <button class="primary" on:click=move |_| start()>{tr(Text::StartCamera)}</button> }.into_any()
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::{Color, QrCode};

    /// Draws `text` as a QR code into an RGBA buffer, `scale` pixels per module, with a quiet zone.
    fn rgba_of(text: &str, scale: usize) -> (usize, Vec<u8>) {
        let code = QrCode::new(text.as_bytes()).unwrap();
        let modules = code.width();
        let colors = code.to_colors();
        let side = (modules + 8) * scale;
        let mut rgba = vec![255u8; side * side * 4];
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = ((x / scale) as isize - 4, (y / scale) as isize - 4);
                let inside =
                    (0..modules as isize).contains(&mx) && (0..modules as isize).contains(&my);
                if inside && colors[my as usize * modules + mx as usize] == Color::Dark {
                    let i = (y * side + x) * 4;
                    rgba[i..i + 3].copy_from_slice(&[0, 0, 0]);
                }
            }
        }
        (side, rgba)
    }

    #[test]
    fn decodes_a_drawn_code() {
        let url = "https://qrgate.example/m/qr/lzQb6JdieDXK-aDVUJuFn42_-XWqlgM2";
        let (side, rgba) = rgba_of(url, 4);
        assert_eq!(decode_rgba(side, side, &rgba).as_deref(), Some(url));
    }

    #[test]
    fn a_blank_frame_holds_nothing() {
        assert_eq!(decode_rgba(64, 64, &vec![255u8; 64 * 64 * 4]), None);
        assert_eq!(decode_rgba(0, 0, &[]), None);
        assert_eq!(decode_rgba(10, 10, &[0; 3]), None);
    }
}
