//! Browser unit tests: `wasm-pack test --headless --chrome app` (scripts/test.sh runs them in
//! Debian's Chromium). Each mounts a component into the page and reads the DOM.

use leptos::prelude::*;
use qrgate_app::Header;
use qrgate_app::decoder::decode_rgba;
use qrgate_app::device::SignedInAs;
use qrgate_app::i18n::{Lang, Localized, Message, PcText, Text};
use qrgate_app::pc::{PcState, PcView};
use qrgate_app::qr_code::QrCodeView;
use qrgate_protocol::{Account, CreateQrResponse, QrStatus, Secret, Via};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const URL: &str = "https://qrgate.example/m/qr/lzQb6JdieDXK-aDVUJuFn42_-XWqlgM2";

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// A fresh container in the page, with its own language signal, and `view` mounted into it.
fn mount<V: IntoView + 'static>(
    lang: Lang,
    view: impl FnOnce() -> V + 'static,
) -> (web_sys::HtmlElement, RwSignal<Lang>) {
    let container: web_sys::HtmlElement =
        document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&container).unwrap();
    let signal = RwSignal::new(lang);
    let handle = leptos::mount::mount_to(container.clone(), move || {
        provide_context(signal);
        view()
    });
    std::mem::forget(handle);
    (container, signal)
}

fn text(root: &web_sys::HtmlElement, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
        .text_content()
        .unwrap_or_default()
}

async fn next_tick() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

fn qr() -> CreateQrResponse {
    CreateQrResponse {
        qr_id: "lzQb6JdieDXK-aDVUJuFn42_-XWqlgM2".into(),
        poll_secret: Secret::new("never-shown"),
        qr_url: URL.into(),
        expires_at: 2_000_000_000,
        interval: 1,
    }
}

/// Draws the rendered SVG onto a canvas, as a camera would see the screen, and decodes it.
async fn decode_svg(svg: &str) -> Option<String> {
    let image = web_sys::HtmlImageElement::new().unwrap();
    let loaded = js_sys::Promise::new(&mut |resolve, _| {
        image.set_onload(Some(&resolve));
    });
    let data = js_sys::encode_uri_component(svg);
    image.set_src(&format!("data:image/svg+xml;charset=utf-8,{data}"));
    JsFuture::from(loaded).await.unwrap();
    let canvas: web_sys::HtmlCanvasElement = document()
        .create_element("canvas")
        .unwrap()
        .unchecked_into();
    let (width, height) = (image.natural_width(), image.natural_height());
    canvas.set_width(width);
    canvas.set_height(height);
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    context
        .draw_image_with_html_image_element(&image, 0.0, 0.0)
        .unwrap();
    let pixels = context
        .get_image_data(0.0, 0.0, width as f64, height as f64)
        .unwrap()
        .data();
    decode_rgba(width as usize, height as usize, &pixels)
}

#[wasm_bindgen_test]
async fn the_qr_component_draws_a_code_that_decodes_to_its_url() {
    let (root, _) = mount(Lang::En, || view! { <QrCodeView url=URL.to_owned() /> });
    next_tick().await;
    let image = root.query_selector(".qr-image").unwrap().unwrap();
    assert_eq!(image.get_attribute("role").as_deref(), Some("img"));
    let label = image.get_attribute("aria-label").unwrap();
    assert!(
        label.contains(URL),
        "text alternative names the link: {label}"
    );
    assert!(text(&root, "figcaption").contains(URL));
    let svg = image.inner_html();
    assert!(svg.contains("<svg"), "{svg}");
    let side: u32 = image
        .query_selector("svg")
        .unwrap()
        .unwrap()
        .get_attribute("width")
        .unwrap()
        .trim_end_matches("px")
        .parse()
        .unwrap();
    assert!(side >= 288, "large enough to scan at arm's length: {side}");
    assert_eq!(decode_svg(&svg).await.as_deref(), Some(URL));
}

fn pc_view(state: PcState) -> web_sys::HtmlElement {
    let (root, _) = mount(Lang::En, move || {
        let noop = UnsyncCallback::new(|()| {});
        view! {
            <PcView state=RwSignal::new(state) now=RwSignal::new(1_999_999_990)
                on_new_code=noop on_use_password=noop on_use_passkey=noop on_sign_out=noop />
        }
    });
    root
}

fn status(root: &web_sys::HtmlElement) -> String {
    let region = root.query_selector("[role=status]").unwrap().unwrap();
    assert_eq!(region.get_attribute("aria-live").as_deref(), Some("polite"));
    region.text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn each_pc_state_says_what_is_happening() {
    let cases: [(PcState, Message<PcText>); 7] = [
        (PcState::Starting, PcText::Creating.into()),
        (
            PcState::Showing {
                qr: qr(),
                status: QrStatus::Pending,
            },
            PcText::Waiting.into(),
        ),
        (
            PcState::Showing {
                qr: qr(),
                status: QrStatus::Scanned,
            },
            PcText::Scanned.into(),
        ),
        (PcState::Ended(QrStatus::Denied), PcText::Denied.into()),
        (
            PcState::Ended(QrStatus::Cancelled),
            PcText::Cancelled.into(),
        ),
        (PcState::Stale(qr()), PcText::Expired.into()),
        (PcState::Failed, Text::CouldNotReach.into()),
    ];
    for (state, expected) in cases {
        let root = pc_view(state.clone());
        next_tick().await;
        assert_eq!(status(&root), expected.get(Lang::En), "{state:?}");
        assert!(
            !root.inner_html().contains("never-shown"),
            "the poll secret never shows"
        );
    }
}

#[wasm_bindgen_test]
async fn a_pending_code_shows_the_qr_and_a_countdown() {
    let root = pc_view(PcState::Showing {
        qr: qr(),
        status: QrStatus::Pending,
    });
    next_tick().await;
    assert!(root.query_selector(".qr-image svg").unwrap().is_some());
    assert!(
        text(&root, ".countdown").contains("10"),
        "{}",
        text(&root, ".countdown")
    );
}

#[wasm_bindgen_test]
async fn a_stale_code_is_blurred_under_a_new_code_button() {
    let root = pc_view(PcState::Stale(qr()));
    next_tick().await;
    assert!(root.query_selector(".qr.blurred").unwrap().is_some());
    // Expired: nothing of it is read out (its link is not shown either: style.css).
    let hidden = root
        .query_selector("[aria-hidden=true] .qr.blurred")
        .unwrap();
    assert!(
        hidden.is_some(),
        "the expired code is hidden from screen readers"
    );
    assert_eq!(text(&root, ".stale button"), PcText::NewCode.get(Lang::En));
}

#[wasm_bindgen_test]
async fn a_password_and_a_passkey_are_offered_wherever_there_is_no_sign_in() {
    let offered = [
        PcState::Showing {
            qr: qr(),
            status: QrStatus::Pending,
        },
        PcState::Stale(qr()),
        PcState::Ended(QrStatus::Denied),
        PcState::Failed,
    ];
    let password = PcText::UsePassword.get(Lang::En);
    let passkey = Text::SignInWithPasskey.get(Lang::En);
    for state in offered {
        let root = pc_view(state.clone());
        next_tick().await;
        let buttons = root.query_selector_all("button").unwrap();
        let labels: Vec<String> = (0..buttons.length())
            .filter_map(|i| buttons.item(i)?.text_content())
            .collect();
        assert!(
            labels.iter().any(|l| l == password) && labels.iter().any(|l| l == passkey),
            "{state:?}: {labels:?}"
        );
    }
}

#[wasm_bindgen_test]
fn times_shown_against_the_edge_are_counted_by_its_clock() {
    let edge_date = |ahead_ms: f64| {
        let date = js_sys::Date::new(&(js_sys::Date::now() + ahead_ms).into());
        String::from(date.to_utc_string())
    };
    let browser_seconds = || (js_sys::Date::now() / 1000.0) as u64;
    // The edge's answers say it is an hour later than this browser thinks.
    qrgate_app::dpop::follow_edge_clock(&edge_date(3_600_000.0));
    let ahead = qrgate_app::now_seconds().saturating_sub(browser_seconds());
    qrgate_app::dpop::follow_edge_clock(&edge_date(0.0));
    assert!((3598..=3601).contains(&ahead), "{ahead} s ahead");
}

#[wasm_bindgen_test]
async fn signed_in_shows_the_account_and_a_sign_out_button() {
    let who = SignedInAs {
        account: Account {
            account_id: "0123456789abcdef0123456789abcdef".into(),
            username: "ann".into(),
            display_name: "Ann Smith".into(),
        },
        device_name: "Chromium on Linux".into(),
        via: Via::Qr,
    };
    let root = pc_view(PcState::SignedIn(who));
    next_tick().await;
    assert_eq!(status(&root), "Signed in as Ann Smith");
    assert_eq!(text(&root, ".display-name"), "Ann Smith");
    assert_eq!(text(&root, ".username"), "ann");
    assert!(
        root.text_content()
            .unwrap()
            .contains(Text::ViaQr.get(Lang::En))
    );
    assert_eq!(
        text(&root, ".signed-in button"),
        PcText::SignOut.get(Lang::En)
    );
}

#[wasm_bindgen_test]
async fn the_language_switch_changes_every_text_and_the_page_language() {
    let (root, lang) = mount(Lang::En, || {
        view! {
            <Header />
            <PcView state=RwSignal::new(PcState::Ended(QrStatus::Denied)) now=RwSignal::new(0)
                on_new_code=UnsyncCallback::new(|()| {}) on_use_password=UnsyncCallback::new(|()| {})
                on_use_passkey=UnsyncCallback::new(|()| {}) on_sign_out=UnsyncCallback::new(|()| {}) />
        }
    });
    next_tick().await;
    assert_eq!(status(&root), PcText::Denied.get(Lang::En));
    let switch: web_sys::HtmlElement = root
        .query_selector("button.lang")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(switch.text_content().as_deref(), Some("简体中文"));
    switch.click();
    next_tick().await;
    assert_eq!(lang.get_untracked(), Lang::Zh);
    assert_eq!(status(&root), PcText::Denied.get(Lang::Zh));
    assert_eq!(text(&root, "h1"), PcText::PcTitle.get(Lang::Zh));
    assert_eq!(switch.text_content().as_deref(), Some("English"));
    let html_lang = document().document_element().unwrap().get_attribute("lang");
    assert_eq!(html_lang.as_deref(), Some("zh-CN"));
    switch.click();
    next_tick().await;
    assert_eq!(status(&root), PcText::Denied.get(Lang::En));
}
