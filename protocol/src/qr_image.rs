//! The QR code's picture, drawn alike on both sides: by the PC page for each code it asks for,
//! and by the edge for the code it serves with the page (`edge/README.md`, "The first code,
//! served with the page"), so that the two cannot differ. The `qrgate` CLI draws the same code
//! ([`qr_code`]) in a terminal's half blocks.
//!
//! Encoded by `qrcodegen` in byte mode (a code's URL is bytes): of the encoders tried, the one
//! that weighs least on the Worker's bundle (5.2 KiB gzip; the `qrcode` crate, 14.9 KiB).

use qrcodegen::{QrCode, QrCodeEcc};
use std::fmt::Write;

/// The smallest side of the drawn code, in CSS pixels (the page scales it up on big screens).
const MIN_SIDE_PX: i32 = 288;
/// The light margin around the code, in modules, that scanners need to find it.
pub const QUIET_ZONE: i32 = 4;

/// The code for `url`, or `None` if it cannot be encoded (longer than a QR code holds). Its
/// `get_module` answers light outside the code, so the quiet zone can be drawn by asking.
pub fn qr_code(url: &str) -> Option<QrCode> {
    QrCode::encode_binary(url.as_bytes(), QrCodeEcc::Medium).ok()
}

/// The SVG for `url`, black on white with the standard quiet zone, or `None` if it cannot be
/// encoded (longer than a QR code holds).
///
/// One path of one rectangle per horizontal run of dark modules, in a view box of modules,
/// scaled by the SVG itself: all a scanner needs, a fraction of a generic renderer's code, and
/// under half the markup of a square per module (the page's HTML carries it).
pub fn qr_svg(url: &str) -> Option<String> {
    let code = qr_code(url)?;
    let modules = code.size();
    let side = modules + 2 * QUIET_ZONE;
    let pixels = side * ((MIN_SIDE_PX + side - 1) / side);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{pixels}\" height=\"{pixels}\" \
         viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\""
    );
    for y in 0..modules {
        let mut x = 0;
        while x < modules {
            if !code.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < modules && code.get_module(x, y) {
                x += 1;
            }
            let (left, top) = (start + QUIET_ZONE, y + QUIET_ZONE);
            // `write!` to a String cannot fail.
            let _ = write!(svg, "M{left} {top}h{}v1H{left}z", x - start);
        }
    }
    svg.push_str("\"/></svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_url_is_drawn_at_least_the_minimum_side() {
        let svg = qr_svg("https://qrgate.example/m/qr/lzQb6JdieDXK-aDVUJuFn42_-XWqlgM2")
            .unwrap_or_default();
        // 57 bytes at level M: version 4, 33 modules, 41 with the quiet zone.
        assert!(svg.contains("viewBox=\"0 0 41 41\""), "{svg}");
        assert!(svg.contains("width=\"328\""), "{svg}");
        // The top-left finder pattern's top edge, seven modules inside the quiet zone.
        assert!(svg.contains("\"M4 4h7v1H4z"), "{svg}");
    }

    #[test]
    fn the_runs_cover_exactly_the_dark_modules() {
        let url = "https://qrgate.example/m/qr/lzQb6JdieDXK-aDVUJuFn42_-XWqlgM2";
        let svg = qr_svg(url).unwrap_or_default();
        let path = svg.split("d=\"").nth(1).unwrap_or_default();
        let path = path.split('"').next().unwrap_or_default();
        let mut drawn = std::collections::HashSet::new();
        for run in path.split('M').filter(|run| !run.is_empty()) {
            let numbers: Vec<i32> = run
                .split(|c: char| !c.is_ascii_digit())
                .filter(|number| !number.is_empty())
                .map(|number| number.parse().unwrap_or(-1))
                .collect();
            let [left, top, length, 1, end] = numbers[..] else {
                panic!("not a run: {run}");
            };
            assert_eq!(end, left, "{run}");
            for x in left..left + length {
                assert!(
                    drawn.insert((x - QUIET_ZONE, top - QUIET_ZONE)),
                    "drawn twice: {run}"
                );
            }
        }
        let code = QrCode::encode_binary(url.as_bytes(), QrCodeEcc::Medium).unwrap();
        let dark: std::collections::HashSet<_> = (0..code.size())
            .flat_map(|y| (0..code.size()).map(move |x| (x, y)))
            .filter(|&(x, y)| code.get_module(x, y))
            .collect();
        assert_eq!(drawn, dark);
    }

    #[test]
    fn too_long_for_any_code_is_none() {
        assert_eq!(qr_svg(&"x".repeat(3000)), None);
    }
}
