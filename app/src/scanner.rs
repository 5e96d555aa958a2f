//! The in-page camera scanner: the browser's `BarcodeDetector` where it exists, otherwise
//! camera frames sent to the Rust decoder in a web worker, which is fetched only then.

use crate::i18n::{PhoneText, tr};
use crate::sleep_ms;
use futures::StreamExt;
use futures::channel::mpsc;
use futures::future::Either;
use js_sys::{Array, Function, Object, Promise, Reflect};
use leptos::html::Video;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, ImageData, MediaStream,
    MessageEvent, Worker,
};

/// Time between two attempts to read a frame.
const FRAME_INTERVAL_MS: u32 = 200;
/// The decoder worker's loader, as Trunk names it (`data-type="worker"` assets are not hashed).
pub const DECODER_URL: &str = "/decoder_loader.js";

/// How long the fallback decoder may take to load before the camera is given up: on a slow
/// network its code (about 100 KB) takes seconds; a load that failed inside the worker (its
/// wasm) raises no error event, so only this ends the wait.
const DECODER_LOAD_MS: u32 = 15_000;

/// The camera cannot be used for scanning; the page asks for the code to be typed.
struct Unavailable;

/// What the decoder's worker says.
enum Answer {
    /// Its code is loaded and its handler set: frames sent from now on are answered.
    Ready,
    /// The text found in a frame, if any.
    Frame(Option<String>),
    /// Its script failed to load or threw.
    Failed,
}

/// The fallback decoder: a web worker that answers each frame with the text it found, if any.
struct Decoder {
    worker: Worker,
    ready: bool,
    answers: mpsc::UnboundedReceiver<Answer>,
    _on_answer: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut()>,
}

impl Decoder {
    fn start() -> Option<Self> {
        let worker = Worker::new(DECODER_URL).ok()?;
        let (sender, answers) = mpsc::unbounded();
        let errors = sender.clone();
        let on_answer = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            let answer = match data.as_bool() {
                Some(true) => Answer::Ready,
                _ => Answer::Frame(data.as_string()),
            };
            let _ = sender.unbounded_send(answer);
        });
        let on_error = Closure::<dyn FnMut()>::new(move || {
            let _ = errors.unbounded_send(Answer::Failed);
        });
        worker.set_onmessage(Some(on_answer.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Some(Self {
            worker,
            ready: false,
            answers,
            _on_answer: on_answer,
            _on_error: on_error,
        })
    }

    /// Waits until the worker can take frames: a frame posted before then would be dropped
    /// unanswered, and the scanner would wait for its answer forever.
    async fn wait_until_ready(&mut self) -> Result<(), Unavailable> {
        let answer = self.answers.next();
        let deadline = Box::pin(sleep_ms(DECODER_LOAD_MS));
        match futures::future::select(answer, deadline).await {
            Either::Left((Some(Answer::Ready), _)) => {
                self.ready = true;
                Ok(())
            }
            _ => Err(Unavailable),
        }
    }

    async fn decode(&mut self, frame: &ImageData) -> Result<Option<String>, Unavailable> {
        if !self.ready {
            self.wait_until_ready().await?;
        }
        self.worker.post_message(frame).map_err(|_| Unavailable)?;
        match self.answers.next().await {
            Some(Answer::Frame(text)) => Ok(text),
            _ => Err(Unavailable),
        }
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
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

/// The video's current frame, drawn on `canvas` and read back.
fn grab_frame(video: &HtmlVideoElement, canvas: &HtmlCanvasElement) -> Option<ImageData> {
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
    context
        .get_image_data(0.0, 0.0, width as f64, height as f64)
        .ok()
}

/// How frames are read: the browser's detector, or the worker fed with frames from a canvas.
enum Reader {
    Native(JsValue),
    Worker(Decoder, HtmlCanvasElement),
}

impl Reader {
    fn start() -> Option<Self> {
        if let Some(detector) = barcode_detector() {
            return Some(Self::Native(detector));
        }
        let canvas = web_sys::window()?
            .document()?
            .create_element("canvas")
            .ok()?
            .dyn_into()
            .ok()?;
        Some(Self::Worker(Decoder::start()?, canvas))
    }

    /// The text of a code in the video's current frame, if one is seen.
    async fn read(&mut self, video: &HtmlVideoElement) -> Result<Option<String>, Unavailable> {
        match self {
            Self::Native(detector) => Ok(detect_with(detector, video).await),
            Self::Worker(decoder, canvas) => match grab_frame(video, canvas) {
                Some(frame) => decoder.decode(&frame).await,
                None => Ok(None),
            },
        }
    }
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
    // While the browser asks for the camera: a second tap then would open a second stream
    // that nothing stops.
    let opening = RwSignal::new(false);
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
        if opening.get_untracked() || running.get_untracked() {
            return;
        }
        opening.set(true);
        spawn_local(async move {
            let camera = open_camera().await;
            opening.set(false);
            let Some(camera) = camera else {
                return on_unavailable.run(());
            };
            let Some(video) = video_ref.get_untracked() else {
                stop_camera(&camera);
                return on_unavailable.run(());
            };
            video.set_src_object(Some(&camera));
            let _ = video.play();
            stream.set_value(Some(camera));
            running.set(true);
            let Some(mut reader) = Reader::start() else {
                stop();
                return on_unavailable.run(());
            };
            // Not once the camera was stopped, nor once the scanner left the page.
            let scanning = move || running.try_get_untracked().unwrap_or(false);
            while scanning() {
                sleep_ms(FRAME_INTERVAL_MS).await;
                let seen = reader.read(&video).await;
                if !scanning() {
                    return;
                }
                match seen {
                    Ok(None) => {}
                    Ok(Some(text)) => {
                        stop();
                        return on_text.run(text);
                    }
                    Err(Unavailable) => {
                        stop();
                        return on_unavailable.run(());
                    }
                }
            }
        });
    };
    view! {
        <div class="scanner">
            <video node_ref=video_ref class:hidden=move || !running.get() playsinline=true muted=true></video>
            {move || if running.get() {
                view! { <button on:click=move |_| stop()>{tr(PhoneText::StopCamera)}</button> }.into_any()
            } else {
                view! { <button class="primary" disabled=move || opening.get() on:click=move |_| start()>{tr(PhoneText::StartCamera)}</button> }.into_any()
            }}
        </div>
    }
}
