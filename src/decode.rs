//! Bytes to text. Arabic news still arrives in legacy code pages (windows-1256, ISO-8859-6) and
//! in UTF-16 from Windows tools, so UTF-8 is tried first, then what the bytes say they are (a
//! byte-order mark, an HTML charset declaration), then what they look like (UTF-16 without a
//! mark, or the code page chardetng guesses). A file that is neither clean UTF-8 nor clean in a
//! detected encoding is an error naming the offset, never text with replacement characters.
//! Broken UTF-8 (valid UTF-8 with a few bad bytes) is reported, not re-read as a code page:
//! reading it as windows-1256 would turn its good Arabic into nonsense.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// Text decoded from a file, and the encoding it was in.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// UTF-8 text, newlines normalized to `\n`, byte-order mark removed.
    pub text: String,
    /// The encoding's WHATWG name: "UTF-8", "windows-1256", "ISO-8859-6", "UTF-16LE" ...
    pub encoding: &'static str,
}

/// Why bytes are not article text. Messages say where the bytes go wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("looks like a binary file (NUL byte at offset {offset}), not article text")]
    Binary { offset: usize },
    #[error(
        "not valid UTF-8: invalid byte at offset {offset}; hint: convert it to UTF-8, e.g. \
         `iconv -f WINDOWS-1256 -t UTF-8 FILE > FILE.utf8` for Arabic Windows text"
    )]
    BrokenUtf8 { offset: usize },
    /// Not all of the bytes decode in the encoding they were taken to be in (`declared`: by
    /// the page's own charset declaration).
    #[error(
        "not valid {encoding}: undecodable bytes at character {character}{}",
        if *declared { " (declared by the page)" } else { "" }
    )]
    Undecodable {
        encoding: &'static str,
        character: usize,
        declared: bool,
    },
}

/// How far into an HTML page a charset declaration is looked for (the HTML standard's 1024).
const CHARSET_SNIFF_BYTES: usize = 1024;

/// Decode a file's bytes. `html` allows an HTML `<meta charset>` declaration to name the
/// encoding.
pub fn decode(bytes: &[u8], html: bool) -> Result<Decoded, DecodeError> {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        return strict(encoding, &bytes[bom_length..], false);
    }
    if bytes.contains(&0) {
        if let Some(encoding) = unmarked_utf16(bytes) {
            if let Ok(decoded) = strict(encoding, bytes, false) {
                return Ok(decoded);
            }
        }
        let offset = bytes.iter().position(|&byte| byte == 0).unwrap_or(0);
        return Err(DecodeError::Binary { offset });
    }
    let utf8_error = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(finish(text.to_string(), UTF_8)),
        Err(error) => error,
    };
    if let Some(declared) = html.then(|| declared_charset(bytes)).flatten() {
        if declared != UTF_8 {
            return strict(declared, bytes, true);
        }
    }
    let broken_utf8 = DecodeError::BrokenUtf8 {
        offset: utf8_error.valid_up_to(),
    };
    if mostly_utf8(bytes) {
        return Err(broken_utf8);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    strict(guess, bytes, false).map_err(|_| broken_utf8)
}

/// Decode all of `bytes` as `encoding`, or say where it fails.
/// `declared`: the page's own charset declaration named the encoding.
fn strict(
    encoding: &'static Encoding,
    bytes: &[u8],
    declared: bool,
) -> Result<Decoded, DecodeError> {
    match encoding.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => Ok(finish(text.into_owned(), encoding)),
        None => {
            let (text, _) = encoding.decode_without_bom_handling(bytes);
            let character = text.chars().take_while(|&c| c != '\u{FFFD}').count();
            Err(DecodeError::Undecodable {
                encoding: encoding.name(),
                character,
                declared,
            })
        }
    }
}

fn finish(text: String, encoding: &'static Encoding) -> Decoded {
    Decoded {
        text: text.replace("\r\n", "\n").replace('\r', "\n"),
        encoding: encoding.name(),
    }
}

/// UTF-16 without a byte-order mark: every other byte is the high byte of a character, and in
/// Arabic or Latin text those high bytes are almost all 0x00 (ASCII) or 0x06 (Arabic letters),
/// with a few of 0x20 (punctuation) or 0xFB-0xFE (presentation forms).
fn unmarked_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let share_of_high_bytes = |offset: usize| {
        let high: Vec<u8> = bytes.iter().skip(offset).step_by(2).copied().collect();
        let plausible = high
            .iter()
            .filter(|&&byte| matches!(byte, 0x00 | 0x06 | 0x20 | 0xFB..=0xFE))
            .count();
        let zeros = high.iter().filter(|&&byte| byte == 0).count();
        (plausible * 100 / high.len(), zeros)
    };
    let (little, little_zeros) = share_of_high_bytes(1);
    let (big, big_zeros) = share_of_high_bytes(0);
    if little >= 95 && little_zeros > 0 && big < 50 {
        Some(UTF_16LE)
    } else if big >= 95 && big_zeros > 0 && little < 50 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// True when most non-ASCII bytes form valid UTF-8 sequences: UTF-8 text with a few broken
/// bytes, not text in a code page.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let (valid, invalid) =
        text.chars()
            .filter(|c| !c.is_ascii())
            .fold((0usize, 0usize), |(valid, invalid), c| {
                if c == '\u{FFFD}' {
                    (valid, invalid + 1)
                } else {
                    (valid + 1, invalid)
                }
            });
    valid >= invalid
}

/// The encoding an HTML page declares in its first 1024 bytes: `<meta charset="...">` or
/// `<meta http-equiv="Content-Type" content="text/html; charset=...">`.
fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(CHARSET_SNIFF_BYTES)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(position) = rest.find("charset") {
        rest = &rest[position + "charset".len()..];
        let value = rest.trim_start().strip_prefix('=')?.trim_start();
        let value = value.trim_start_matches(['"', '\'']);
        let end = value
            .find(|c: char| matches!(c, '"' | '\'' | ';' | '>' | '/') || c.is_whitespace())
            .unwrap_or(value.len());
        if let Some(encoding) = Encoding::for_label(&value.as_bytes()[..end]) {
            return Some(encoding);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARABIC: &str =
        "قال الوزير إن الاجتماع سيعقد في الرياض يوم 10 نوفمبر.\r\nوأضاف أن الوضع هادئ.";
    const EXPECTED: &str =
        "قال الوزير إن الاجتماع سيعقد في الرياض يوم 10 نوفمبر.\nوأضاف أن الوضع هادئ.";

    fn encoded(encoding: &'static Encoding, text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|unit| {
                if little_endian {
                    unit.to_le_bytes()
                } else {
                    unit.to_be_bytes()
                }
            })
            .collect()
    }

    #[test]
    fn windows_1256_text_is_detected_and_decoded() {
        let bytes = encoded(encoding_rs::WINDOWS_1256, ARABIC);
        assert_eq!(
            decode(&bytes, false),
            Ok(Decoded {
                text: EXPECTED.to_string(),
                encoding: "windows-1256"
            })
        );
    }

    #[test]
    fn iso_8859_6_text_is_detected_and_decoded() {
        // ISO-8859-6 has no Western digits' neighbours and no "،"-free full stop problem: keep
        // to letters, spaces and the Arabic comma.
        let text = "قال الوزير، إن الاجتماع سيعقد في الرياض وإن الوضع هادئ";
        let bytes = encoded(encoding_rs::ISO_8859_6, text);
        let decoded = decode(&bytes, false).expect("decoded");
        assert_eq!(decoded.text, text);
        assert_eq!(decoded.encoding, "ISO-8859-6");
    }

    #[test]
    fn utf16_with_and_without_mark_is_decoded() {
        for little_endian in [true, false] {
            let bare = utf16(ARABIC, little_endian);
            let mark: &[u8] = if little_endian {
                &[0xFF, 0xFE]
            } else {
                &[0xFE, 0xFF]
            };
            let marked = [mark, &bare].concat();
            let name = if little_endian {
                "UTF-16LE"
            } else {
                "UTF-16BE"
            };
            for bytes in [&bare, &marked] {
                let decoded = decode(bytes, false).expect("decoded");
                assert_eq!(decoded.text, EXPECTED);
                assert_eq!(decoded.encoding, name);
            }
        }
    }

    #[test]
    fn html_charset_declaration_is_honoured() {
        let page = format!(
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1256\"></head><body><p>{ARABIC}</p></body></html>"
        );
        let bytes = encoded(encoding_rs::WINDOWS_1256, &page);
        let decoded = decode(&bytes, true).expect("decoded");
        assert_eq!(decoded.encoding, "windows-1256");
        assert!(decoded.text.contains("قال الوزير"));
    }

    #[test]
    fn broken_utf8_is_an_error_not_mojibake() {
        let mut bytes = "نص عربي سليم".as_bytes().to_vec();
        bytes.push(0xC7);
        bytes.extend_from_slice(b" more");
        let error = decode(&bytes, false).unwrap_err();
        assert_eq!(error, DecodeError::BrokenUtf8 { offset: 22 });
        assert!(
            error
                .to_string()
                .starts_with("not valid UTF-8: invalid byte at offset 22"),
            "{error}"
        );
    }

    #[test]
    fn binary_data_is_an_error() {
        let error = decode(b"\x89PNG\r\n\x1a\n\0\0\0", false).unwrap_err();
        assert_eq!(error, DecodeError::Binary { offset: 8 });
        assert!(
            error
                .to_string()
                .contains("binary file (NUL byte at offset 8)"),
            "{error}"
        );
    }
}
