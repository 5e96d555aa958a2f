//! The QR code the PC shows: the `qrcode` crate's modules drawn as one SVG path, black on white
//! with the standard four-module quiet zone, drawn large enough to scan at arm's length.

use crate::i18n::{PcText, tr};
use leptos::prelude::*;
use qrcode::{Color, EcLevel, QrCode};

/// The smallest side of the drawn code, in CSS pixels (the page scales it up on big screens).
const MIN_SIDE_PX: usize = 288;
/// The light margin around the code, in modules, that scanners need to find it.
const QUIET_ZONE: usize = 4;

/// The SVG for `url`, or `None` if it cannot be encoded (longer than a QR code holds).
///
/// Written directly rather than by the crate's generic renderer: one path of unit squares in a
/// view box of modules, scaled by the SVG itself, is all a scanner needs, and costs the page a
/// fraction of the renderer's code.
pub fn qr_svg(url: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).ok()?;
    let modules = code.width();
    let side = modules + 2 * QUIET_ZONE;
    let pixels = side * MIN_SIDE_PX.div_ceil(side);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{pixels}\" height=\"{pixels}\" \
         viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\""
    );
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (x, y) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
            svg.push('M');
            svg.push_str(&x.to_string());
            svg.push(' ');
            svg.push_str(&y.to_string());
            svg.push_str("h1v1h-1z");
        }
    }
    svg.push_str("\"/></svg>");
    Some(svg)
}

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
