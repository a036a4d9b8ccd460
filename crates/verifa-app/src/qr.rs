//! QR codes for capture links (`qr_code_data_url` on a created session).
//!
//! [`png_data_url`] encodes the text as a QR code (error-correction level M, smallest version
//! that fits), renders it as an 8-bit grayscale PNG with black modules on white, a 4-module
//! quiet zone and [`PIXELS_PER_MODULE`] pixels per module, and returns it as a
//! `data:image/png;base64,…` URL.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use qrcode::{Color, EcLevel, QrCode};

/// Pixels per QR module (side length of one square).
pub const PIXELS_PER_MODULE: usize = 6;
/// Width of the white border around the code, in modules (the QR specification's minimum).
pub const QUIET_ZONE_MODULES: usize = 4;

const DARK: u8 = 0x00;
const LIGHT: u8 = 0xFF;

/// Errors of [`png_data_url`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The text does not fit in the largest QR code (about 2.3 KB at level M).
    #[error("the text is too long for a QR code")]
    TooLong,
    /// The QR encoder refused the text for another reason.
    #[error("the text cannot be encoded as a QR code: {0}")]
    Encode(String),
    /// PNG encoding failed.
    #[error("the QR code cannot be rendered as PNG: {0}")]
    Png(String),
}

/// A `data:image/png;base64,…` URL of a scannable QR code holding `text`.
///
/// # Errors
/// [`QrError::TooLong`] when the text exceeds QR capacity; [`QrError::Encode`] /
/// [`QrError::Png`] when encoding fails otherwise.
pub fn png_data_url(text: &str) -> Result<String, QrError> {
    let png = png_bytes(text)?;
    Ok(format!("data:image/png;base64,{}", B64.encode(png)))
}

/// The PNG bytes of the QR code for `text` (see [`png_data_url`]).
///
/// # Errors
/// As [`png_data_url`].
pub fn png_bytes(text: &str) -> Result<Vec<u8>, QrError> {
    let code =
        QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|e| match e {
            qrcode::types::QrError::DataTooLong => QrError::TooLong,
            other => QrError::Encode(other.to_string()),
        })?;
    let (side, pixels) = render(code.width(), &code.to_colors());
    let side = u32::try_from(side).map_err(|_| QrError::Png("image too large".to_owned()))?;
    encode_png(side, &pixels).map_err(|e| QrError::Png(e.to_string()))
}

/// Rasterises a `modules`×`modules` matrix (row-major) into grayscale pixels; returns the image
/// side length in pixels and the pixels row by row.
fn render(modules: usize, colors: &[Color]) -> (usize, Vec<u8>) {
    let side_modules = modules + 2 * QUIET_ZONE_MODULES;
    let side = side_modules * PIXELS_PER_MODULE;
    let mut pixels = vec![LIGHT; side * side];
    for (row_index, row) in pixels.chunks_exact_mut(side).enumerate() {
        let y = (row_index / PIXELS_PER_MODULE).checked_sub(QUIET_ZONE_MODULES);
        for (col_index, pixel) in row.iter_mut().enumerate() {
            let x = (col_index / PIXELS_PER_MODULE).checked_sub(QUIET_ZONE_MODULES);
            let dark = match (x, y) {
                (Some(x), Some(y)) if x < modules && y < modules => {
                    colors.get(y * modules + x) == Some(&Color::Dark)
                }
                _ => false,
            };
            if dark {
                *pixel = DARK;
            }
        }
    }
    (side, pixels)
}

fn encode_png(side: u32, pixels: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Image {
        side: usize,
        pixels: Vec<u8>,
    }

    impl Image {
        fn at(&self, x: usize, y: usize) -> u8 {
            self.pixels[y * self.side + x]
        }
        /// The pixel value at the centre of module (mx, my), counted from the image corner.
        fn module(&self, mx: usize, my: usize) -> u8 {
            let half = PIXELS_PER_MODULE / 2;
            self.at(mx * PIXELS_PER_MODULE + half, my * PIXELS_PER_MODULE + half)
        }
    }

    fn decode_data_url(url: &str) -> Image {
        let b64 = url
            .strip_prefix("data:image/png;base64,")
            .expect("data URL prefix");
        let bytes = B64.decode(b64).expect("base64");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
        let info = reader.next_frame(&mut buf).expect("png frame");
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        assert_eq!(info.width, info.height);
        buf.truncate(info.buffer_size());
        Image {
            side: info.width as usize,
            pixels: buf,
        }
    }

    const URL: &str = "https://verifa.example.com/verify/tok_3f9a1c2b7d4e5f60718293a4b5c6d7e8";

    #[test]
    fn png_has_quiet_zone_and_finder_patterns() {
        let img = decode_data_url(&png_data_url(URL).unwrap());
        assert_eq!(img.side % PIXELS_PER_MODULE, 0);
        let side_modules = img.side / PIXELS_PER_MODULE;
        let modules = side_modules - 2 * QUIET_ZONE_MODULES;
        assert!(
            modules >= 21 && (modules - 17).is_multiple_of(4),
            "QR side {modules} modules"
        );
        assert_eq!(
            modules,
            QrCode::with_error_correction_level(URL, EcLevel::M)
                .unwrap()
                .width()
        );

        // Only pure black and white, and the quiet zone is white all round.
        assert!(img.pixels.iter().all(|p| *p == DARK || *p == LIGHT));
        let q = QUIET_ZONE_MODULES * PIXELS_PER_MODULE;
        for y in 0..img.side {
            for x in 0..img.side {
                if x < q || y < q || x >= img.side - q || y >= img.side - q {
                    assert_eq!(img.at(x, y), LIGHT, "quiet zone pixel ({x},{y})");
                }
            }
        }

        // Finder patterns at three corners: dark 7×7 ring, light ring, dark 3×3 centre, and a
        // light separator around it; the bottom-right corner has none.
        let z = QUIET_ZONE_MODULES;
        for (ox, oy) in [(z, z), (z + modules - 7, z), (z, z + modules - 7)] {
            for i in 0..7 {
                for (mx, my) in [
                    (ox + i, oy),
                    (ox + i, oy + 6),
                    (ox, oy + i),
                    (ox + 6, oy + i),
                ] {
                    assert_eq!(img.module(mx, my), DARK, "finder ring at ({mx},{my})");
                }
            }
            for i in 1..6 {
                for (mx, my) in [
                    (ox + i, oy + 1),
                    (ox + i, oy + 5),
                    (ox + 1, oy + i),
                    (ox + 5, oy + i),
                ] {
                    assert_eq!(img.module(mx, my), LIGHT, "finder gap at ({mx},{my})");
                }
            }
            for dy in 2..5 {
                for dx in 2..5 {
                    assert_eq!(img.module(ox + dx, oy + dy), DARK, "finder centre");
                }
            }
        }
        let br = z + modules - 7;
        let dark_ring =
            (0..7).all(|i| img.module(br + i, br) == DARK && img.module(br, br + i) == DARK);
        assert!(!dark_ring, "no finder pattern at the bottom-right");
    }

    #[test]
    fn decodes_back_to_the_text() {
        for text in [URL, "a", "https://x.test/verify/tok_ÄÖÜ?x=1&y=2"] {
            let img = decode_data_url(&png_data_url(text).unwrap());
            let mut prepared =
                rqrr::PreparedImage::prepare_from_greyscale(img.side, img.side, |x, y| {
                    img.at(x, y)
                });
            let grids = prepared.detect_grids();
            assert_eq!(grids.len(), 1, "one QR code in the image");
            let (_, content) = grids[0].decode().expect("decodable");
            assert_eq!(content, text);
        }
    }

    #[test]
    fn too_long_text_is_an_error_not_a_panic() {
        let text = "x".repeat(5000);
        assert_eq!(png_data_url(&text), Err(QrError::TooLong));
    }

    #[test]
    fn empty_text_still_encodes() {
        let url = png_data_url("").unwrap();
        assert!(url.starts_with("data:image/png;base64,iVBORw0KGgo"));
    }
}
