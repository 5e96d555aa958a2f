//! The qrgate web app, Leptos client-side rendering. It speaks only `shared/API.md`, through
//! the wire types of `qrgate-protocol`.
//!
//! Two pages, each its own bundle, so that each carries only its own code: the PC sign-in page
//! (`src/bin/pc.rs` mounts [`pc::PcApp`], served at `/`) and the phone pages (`src/bin/phone.rs`
//! mounts [`phone::PhoneApp`], served for every path under `/m/`). What they share (the API
//! client, the device, the texts, the header and the password form) is defined once, here.
//! The camera's fallback QR decoder is a third bundle, a web worker (`src/bin/decoder.rs`),
//! fetched only when a phone opens the camera on a browser without `BarcodeDetector`. Every
//! navigation between pages is a full page load, so there is no router.

pub mod account_channel;
pub mod api;
pub mod decoder;
pub mod device;
pub mod dpop;
pub mod i18n;
pub mod json;
pub mod live;
pub mod notices;
pub mod passkey;
pub mod pc;
pub mod phone;
pub mod qr_code;
pub mod role;
pub mod scanner;

use i18n::{Text, tr, use_lang};

/// Every bundle's allocator: a small free list instead of the default dlmalloc, whose code
/// weighs more than these pages' allocations need.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: the pages' and the decoder's wasm each run on one thread, and have no other.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
use leptos::prelude::*;

/// What every page shares around its content: the language in effect, and the header.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    provide_context(RwSignal::new(i18n::initial_language()));
    view! {
        <Header />
        {children()}
    }
}

/// Loads `path` of this app. A full navigation, so it works from any callback or task.
pub fn go(path: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(path);
    }
}

/// Loads `path` in place of this page, which leaves no entry in the history: for a page that
/// only sends the browser on (to sign in first, or back after signing in), so that Back does
/// not land on it again.
pub fn redirect(path: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().replace(path);
    }
}

/// The path of the page, e.g. `/m/qr/abc`.
pub fn current_path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default()
}

/// The app name and the language switch, on every page. Keeps `<html lang>` in step.
#[component]
pub fn Header() -> impl IntoView {
    let lang = use_lang();
    Effect::new(move |_| {
        let code = lang.get().code();
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("lang", code);
        }
    });
    let switch = move |_| {
        let next = lang.get_untracked().other();
        device::store_language(next.code());
        lang.set(next);
    };
    view! {
        <header>
            <a class="brand" href="/">{tr(Text::AppName)}</a>
            // The language button first: the PC page's first view, drawn by the edge, has it
            // hidden until this code runs (`edge/src/page/first_view.rs`), and the links, aligned
            // to the right, stay where they are when it appears.
            <nav>
                <button class="lang" on:click=switch aria-label=tr(Text::SwitchLanguage)
                    lang=move || lang.get().other().code()>
                    {move || lang.get().other().name()}
                </button>
                <a href="/m/scan">{tr(Text::Scan)}</a>
                <a href="/m/devices">{tr(Text::Devices)}</a>
            </nav>
        </header>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main>
            <h1>{tr(Text::NotFoundTitle)}</h1>
            <a class="button" href="/">{tr(Text::Home)}</a>
        </main>
    }
}

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// The edge's clock, in Unix seconds, for what is shown to a person against the edge's times (a
/// code's countdown, a code's age): a computer's own clock can be minutes off.
pub fn now_seconds() -> u64 {
    (dpop::edge_now_ms() / 1000.0) as u64
}

/// Whether the tab is in the background, where polling pauses.
pub fn is_page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden)
}
