//! The QR code the PC shows, drawn by `qrgate_protocol::qr_image` (as the edge draws the page's
//! first), with its text alternative.

use crate::i18n::{PcText, tr};
use leptos::prelude::*;
use qrgate_protocol::qr_image::qr_svg;

/// The code for `url`, with its text alternative: the link itself, for anyone who cannot scan.
/// A `blurred` code has expired: its link is not shown (`style.css`).
#[component]
pub fn QrCodeView(url: String, #[prop(optional)] blurred: bool) -> impl IntoView {
    let alt = tr(PcText::QrAlt);
    let svg = qr_svg(&url).unwrap_or_default();
    let shown_url = url.clone();
    let label = move || format!("{} {url}", alt());
    view! {
        <figure class="qr" class:blurred=blurred>
            <div class="qr-image" role="img" aria-label=label inner_html=svg></div>
            <figcaption>
                <span>{alt}</span>" "
                <code class="qr-link">{shown_url}</code>
            </figcaption>
        </figure>
    }
}
