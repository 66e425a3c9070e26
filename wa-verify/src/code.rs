//! Verification codes: generation, message text, and finding a code in an inbound
//! message.

use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::seams::CodeRng;

/// Opening delimiter of a code inside a message.
pub const OPEN: &str = ">>";
/// Closing delimiter of a code inside a message.
pub const CLOSE: &str = "<<";

/// The shape of generated codes: a length and an alphabet.
///
/// The default is WhatAuth's: 10 lower-case hex characters (40 bits).
///
/// # Examples
/// ```
/// use wa_verify::{CodeFormat, SeededRng};
///
/// let code = CodeFormat::default().generate(&SeededRng::new(1))?;
/// assert_eq!(code.len(), 10);
/// assert!(code.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
///
/// let digits = CodeFormat::new(8, "0123456789")?;
/// assert_eq!(digits.bits(), 26);
/// # Ok::<(), wa_verify::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeFormat {
    length: usize,
    alphabet: Vec<u8>,
}

impl Default for CodeFormat {
    fn default() -> Self {
        CodeFormat {
            length: 10,
            alphabet: b"0123456789abcdef".to_vec(),
        }
    }
}

impl CodeFormat {
    /// A format of `length` (4–32) characters drawn from `alphabet` (2–64 distinct ASCII
    /// letters or digits). Letters are matched case-insensitively, so an alphabet may not
    /// hold both cases of one letter.
    ///
    /// # Errors
    /// `verify_code_format`.
    pub fn new(length: usize, alphabet: &str) -> Result<Self> {
        let bytes = alphabet.as_bytes().to_vec();
        let mut folded: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
        folded.sort_unstable();
        folded.dedup();
        if !(4..=32).contains(&length)
            || !(2..=64).contains(&bytes.len())
            || folded.len() != bytes.len()
            || !bytes.iter().all(u8::is_ascii_alphanumeric)
        {
            return Err(Error::CodeFormat);
        }
        Ok(CodeFormat {
            length,
            alphabet: bytes,
        })
    }

    /// The code length.
    pub fn length(&self) -> usize {
        self.length
    }

    /// Entropy of one code, in whole bits.
    pub fn bits(&self) -> u32 {
        (self.length as f64 * (self.alphabet.len() as f64).log2()).floor() as u32
    }

    /// Draws a uniformly random code (rejection sampling, no modulo bias).
    ///
    /// # Errors
    /// `verify_rng_failed`.
    pub fn generate(&self, rng: &dyn CodeRng) -> Result<String> {
        let n = self.alphabet.len();
        // Largest multiple of n that fits in a byte: bytes at or above it are rejected.
        let limit = 256 - (256 % n);
        let mut out = String::with_capacity(self.length);
        let mut buf = [0u8; 64];
        while out.len() < self.length {
            rng.fill(&mut buf).map_err(|_| Error::RngFailed)?;
            for &b in &buf {
                if usize::from(b) < limit && out.len() < self.length {
                    out.push(char::from(self.alphabet[usize::from(b) % n]));
                }
            }
        }
        Ok(out)
    }
}

/// The text a user sends: `>>code<<` then, on the next line, the link message.
///
/// # Examples
/// ```
/// assert_eq!(
///     wa_verify::message_text("322c9a59dd", "Just tap the \"send\" button."),
///     ">>322c9a59dd<<\nJust tap the \"send\" button."
/// );
/// ```
pub fn message_text(code: &str, link_message: &str) -> String {
    if link_message.is_empty() {
        format!("{OPEN}{code}{CLOSE}")
    } else {
        format!("{OPEN}{code}{CLOSE}\n{link_message}")
    }
}

/// Characters WhatsApp users and clients put around or inside text: formatting marks
/// (`*bold*`, `_italic_`, `~strike~`, `` `mono` ``), quotes, whitespace and invisible
/// format characters.
fn is_noise(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '*' | '_' | '~' | '`' | '"' | '\'' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' | '\u{202A}'..='\u{202E}'
        )
}

/// Every candidate code in `text`: the content of each `>>…<<` pair, with WhatsApp
/// formatting, spaces and invisible characters removed and letters lower-cased.
/// Full-width `＞＞`/`＜＜` (some keyboards) count as delimiters too. Only candidates of
/// ASCII letters and digits (what codes are made of) are returned, at most 8 of at most
/// 64 characters.
///
/// # Examples
/// ```
/// let found = wa_verify::extract_codes("hi! *>> 322C 9A59DD <<* thanks");
/// assert_eq!(found, vec!["322c9a59dd".to_owned()]);
/// assert!(wa_verify::extract_codes("no code here").is_empty());
/// // A fuzz finding: a pair holding delimiters is not a code.
/// assert!(wa_verify::extract_codes(">>*>><<<").is_empty());
/// ```
pub fn extract_codes(text: &str) -> Vec<String> {
    let normalized: String = text
        .chars()
        .take(4096)
        .map(|c| match c {
            '\u{FF1E}' => '>',
            '\u{FF1C}' => '<',
            c => c,
        })
        .collect();
    let mut out = Vec::new();
    let mut rest = normalized.as_str();
    while out.len() < 8 {
        let Some(start) = rest.find(OPEN) else { break };
        let after = &rest[start + OPEN.len()..];
        // `>>>code<<` still finds the code: skip extra '>'.
        let after = after.trim_start_matches('>');
        let Some(end) = after.find(CLOSE) else { break };
        let candidate: String = after[..end]
            .chars()
            .filter(|c| !is_noise(*c))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        // Codes are ASCII letters and digits (see `CodeFormat`); anything else in the
        // pair (a stray `>`, punctuation) is not a code and could not be matched.
        if !candidate.is_empty()
            && candidate.len() <= 64
            && candidate.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            out.push(candidate);
        }
        rest = &after[end + CLOSE.len()..];
    }
    out
}

/// Compares two codes case-insensitively in constant time (for equal lengths).
///
/// # Examples
/// ```
/// assert!(wa_verify::codes_equal("322C9A59DD", "322c9a59dd"));
/// assert!(!wa_verify::codes_equal("322c9a59dd", "322c9a59de"));
/// ```
pub fn codes_equal(a: &str, b: &str) -> bool {
    let a: Vec<u8> = a.bytes().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<u8> = b.bytes().map(|c| c.to_ascii_lowercase()).collect();
    a.ct_eq(&b).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seams::SeededRng;

    #[test]
    fn formats() {
        assert!(CodeFormat::new(3, "0123456789").is_err());
        assert!(CodeFormat::new(33, "0123456789").is_err());
        assert!(CodeFormat::new(8, "a").is_err());
        assert!(CodeFormat::new(8, "aA").is_err());
        assert!(CodeFormat::new(8, "ab-").is_err());
        assert_eq!(CodeFormat::default().bits(), 40);
    }

    #[test]
    fn uniform_enough() {
        let f = CodeFormat::new(32, "0123456789").unwrap();
        let rng = SeededRng::new(42);
        let mut counts = [0usize; 10];
        for _ in 0..500 {
            for b in f.generate(&rng).unwrap().bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        // 16,000 draws: each digit 1,600 ± 5 sigma (~190).
        for c in counts {
            assert!((1400..=1800).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn extraction_tolerance() {
        let cases = [
            (">>322c9a59dd<<", "322c9a59dd"),
            (
                ">>322c9a59dd<<\nJust tap the \"send\" button.",
                "322c9a59dd",
            ),
            ("please verify >>322C9A59DD<< thanks", "322c9a59dd"),
            (">> 322c 9a59 dd <<", "322c9a59dd"),
            ("*>>322c9a59dd<<*", "322c9a59dd"),
            (">>*322c9a59dd*<<", "322c9a59dd"),
            (">>_322c9a59dd_<<", "322c9a59dd"),
            (">>~322c9a59dd~<<", "322c9a59dd"),
            (">>```322c9a59dd```<<", "322c9a59dd"),
            (">>\u{200B}322c9a59dd\u{200B}<<", "322c9a59dd"),
            ("＞＞322c9a59dd＜＜", "322c9a59dd"),
            (">>>322c9a59dd<<<", "322c9a59dd"),
        ];
        for (text, want) in cases {
            assert_eq!(extract_codes(text), vec![want.to_owned()], "{text:?}");
        }
        assert!(extract_codes(">>322c9a59dd").is_empty());
        assert!(extract_codes("322c9a59dd<<").is_empty());
        assert!(extract_codes(">><<").is_empty());
        assert_eq!(extract_codes(">>a<< >>b<<").len(), 2);
        assert_eq!(extract_codes(&">>a<<".repeat(100)).len(), 8);
    }
}
