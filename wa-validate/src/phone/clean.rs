//! Human input to `+digits`: digits in any script libphonenumber accepts, separators,
//! one leading plus, and the international prefixes `00` and `011`.

use super::*;

/// Maps a digit in any script libphonenumber accepts to its ASCII value.
fn digit_value(c: char) -> Option<u8> {
    let base = match c {
        '0'..='9' => '0',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        _ => return None,
    };
    u8::try_from(c as u32 - base as u32).ok()
}

fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')'
                | '-'
                | '.'
                | '/'
                | '['
                | ']'
                | '\u{2010}'..='\u{2015}'
                | '\u{2212}'
                | '\u{30FC}'
                | '\u{FF0D}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'
                | '\u{FEFF}'
        )
}

/// Turns human input into `+digits` (international) or `digits` (national), or an error.
pub(super) fn clean(input: &str, has_region: bool) -> Result<String> {
    if input.chars().count() > MAX_INPUT_CHARS {
        return Err(Error::PhoneTooLong);
    }
    let mut digits = String::with_capacity(16);
    let mut plus = false;
    for (index, ch) in input.chars().enumerate() {
        if let Some(d) = digit_value(ch) {
            digits.push(char::from(b'0' + d));
        } else if ch == '+' || ch == '\u{FF0B}' {
            // A plus is only meaningful before the first digit, and only once.
            if plus || !digits.is_empty() {
                return Err(Error::PhoneNotANumber);
            }
            plus = true;
        } else if ch.is_alphabetic() {
            return Err(Error::PhoneHasLetters { ch, index });
        } else if !is_separator(ch) {
            return Err(Error::PhoneInvalidCharacter { ch, index });
        }
    }
    if digits.is_empty() {
        return Err(Error::PhoneEmpty);
    }
    if plus {
        return Ok(format!("+{digits}"));
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return Ok(format!("+{rest}"));
    }
    if has_region {
        return Ok(digits);
    }
    if let Some(rest) = digits.strip_prefix("011") {
        return Ok(format!("+{rest}"));
    }
    if digits.starts_with('0') {
        // A national number (trunk prefix) and no region to read it in.
        return Err(Error::PhoneInvalidCountryCode);
    }
    Ok(format!("+{digits}"))
}
