//! The QR code the PC shows: an SVG from the `qrcode` crate, black on white with the standard
//! four-module quiet zone, drawn large enough to scan at arm's length.

use crate::i18n::{Text, tr};
use leptos::prelude::*;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The smallest side of the drawn code, in CSS pixels (the page scales it up on big screens).
const MIN_SIDE_PX: u32 = 288;

/// The SVG for `url`, or `None` if it cannot be encoded (longer than a QR code holds).
pub fn qr_svg(url: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render()
            .min_dimensions(MIN_SIDE_PX, MIN_SIDE_PX)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

/// The code for `url`, with its text alternative: the link itself, for anyone who cannot scan.
#[component]
pub fn QrCodeView(url: String, #[prop(optional)] blurred: bool) -> impl IntoView {
    let alt = tr(Text::QrAlt);
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
