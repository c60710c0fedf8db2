//! QR codes of links, drawn by the app, so that students open the teacher's run on their
//! phones. The encoding is `qrcodegen`'s (ISO/IEC 18004); this module only lays the modules
//! out as rectangles.

use qrcodegen::{QrCode, QrCodeEcc};

/// The blank border around a code, in modules (the standard asks for four).
pub const QUIET_MODULES: usize = 4;

/// A QR code: `size` × `size` modules, dark or light.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Qr {
    pub size: usize,
    dark: Vec<bool>,
}

impl Qr {
    /// The code of `text` at medium error correction, or low when that does not fit; an error
    /// when the text is too long for any QR code.
    pub fn encode(text: &str) -> Result<Qr, String> {
        let code = QrCode::encode_text(text, QrCodeEcc::Medium)
            .or_else(|_| QrCode::encode_text(text, QrCodeEcc::Low))
            .map_err(|_| {
                format!(
                    "this link is too long for a QR code ({} characters; a code holds at most about 2,900)",
                    text.len()
                )
            })?;
        let size = code.size() as usize;
        let dark = (0..size * size)
            .map(|i| code.get_module((i % size) as i32, (i / size) as i32))
            .collect();
        Ok(Qr { size, dark })
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size && y < self.size && self.dark[y * self.size + x]
    }

    /// The dark modules as horizontal runs `(x, y, length)`, in modules, the quiet zone
    /// included in the coordinates: one rectangle per run keeps the drawing small.
    pub fn runs(&self) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for y in 0..self.size {
            let mut x = 0;
            while x < self.size {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.size && self.is_dark(x, y) {
                    x += 1;
                }
                out.push((start + QUIET_MODULES, y + QUIET_MODULES, x - start));
            }
        }
        out
    }

    /// The side of the whole picture, quiet zone included, in modules.
    pub fn side_modules(&self) -> usize {
        self.size + 2 * QUIET_MODULES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_gets_a_code_whose_runs_cover_exactly_its_dark_modules() {
        let link =
            "http://127.0.0.1:8080/#/raft?n=5&seed=3&lat=5..20ms&clients=2&s=1s:crash:0&t=2.5s";
        let q = Qr::encode(link).unwrap();
        assert!(
            q.size >= 21 && (q.size - 17) % 4 == 0,
            "a QR size: {}",
            q.size
        );
        let covered: usize = q.runs().iter().map(|r| r.2).sum();
        let dark = (0..q.size)
            .flat_map(|y| (0..q.size).map(move |x| (x, y)))
            .filter(|&(x, y)| q.is_dark(x, y))
            .count();
        assert_eq!(covered, dark);
        // The three finder patterns' corners are dark.
        let last = q.size - 1;
        assert!(q.is_dark(0, 0) && q.is_dark(last, 0) && q.is_dark(0, last));
        assert_eq!(q, Qr::encode(link).unwrap(), "the same link, the same code");
    }

    #[test]
    fn a_link_too_long_for_any_code_is_refused_with_a_reason() {
        let long = format!("#/flows?s={}", "1s:crash:1;".repeat(400));
        let e = Qr::encode(&long).unwrap_err();
        assert!(e.contains("too long for a QR code"), "{e}");
    }
}
