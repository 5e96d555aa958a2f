//! The camera's fallback QR decoder: `rqrr` on an RGBA frame. It runs in its own web worker
//! bundle (`src/bin/decoder.rs`), fetched only when a phone opens the camera on a browser
//! without `BarcodeDetector`, so that neither the pages nor a browser with a native detector
//! carry its code and its tables (about 80 KB).

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

#[cfg(test)]
mod tests {
    use super::*;
    use qrcodegen::{QrCode, QrCodeEcc};

    /// Draws `text` as a QR code into an RGBA buffer, `scale` pixels per module, with a quiet zone.
    fn rgba_of(text: &str, scale: usize) -> (usize, Vec<u8>) {
        let code = QrCode::encode_binary(text.as_bytes(), QrCodeEcc::Medium).unwrap();
        let modules = code.size() as usize;
        let side = (modules + 8) * scale;
        let mut rgba = vec![255u8; side * side * 4];
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = ((x / scale) as isize - 4, (y / scale) as isize - 4);
                let inside =
                    (0..modules as isize).contains(&mx) && (0..modules as isize).contains(&my);
                if inside && code.get_module(mx as i32, my as i32) {
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
