//! The metadata's regions: warm-up, the region list, country codes and example numbers.

use super::*;

static WARM: LazyLock<()> = LazyLock::new(|| {
    // Touch the metadata and the common regex set once.
    let _ = PHONE_NUMBER_UTIL.parse("+14155552671", None);
});

/// Loads libphonenumber's metadata now instead of on the first parse (~10 ms once).
/// Servers call this at start-up so no request pays for it. Idempotent.
///
/// # Examples
/// ```
/// wa_validate::phone::warm_up();
/// ```
pub fn warm_up() {
    LazyLock::force(&WARM);
}

/// Every region (ISO 3166-1 alpha-2) the metadata knows, sorted.
///
/// # Examples
/// ```
/// let regions = wa_validate::phone::supported_regions();
/// assert!(regions.contains(&"BR".to_owned()));
/// ```
pub fn supported_regions() -> Vec<String> {
    let mut v: Vec<String> = PHONE_NUMBER_UTIL
        .get_supported_regions()
        .map(|r| r.as_region_str().to_string())
        .collect();
    v.sort();
    v
}

/// The country calling code of `region`, e.g. `55` for `BR`.
///
/// # Errors
/// `phone_unknown_region` when the metadata does not know the region.
///
/// # Examples
/// ```
/// assert_eq!(wa_validate::phone::country_code_for_region("br")?, 55);
/// # Ok::<(), wa_validate::Error>(())
/// ```
pub fn country_code_for_region(region: &str) -> Result<u16> {
    let r = resolve_region(region)?;
    PHONE_NUMBER_UTIL
        .get_country_code_for_region(r)
        .and_then(|c| u16::try_from(c).ok())
        .ok_or_else(|| Error::PhoneUnknownRegion {
            region: region.to_owned(),
        })
}

/// Example numbers from the metadata, one per (region, type) pair that has one, in
/// E.164. Useful for fixtures and differential tests.
///
/// # Examples
/// ```
/// let ex = wa_validate::phone::example_numbers("GB");
/// assert!(ex.iter().any(|(t, _)| *t == wa_validate::NumberType::Mobile));
/// ```
pub fn example_numbers(region: &str) -> Vec<(NumberType, String)> {
    let Ok(r) = resolve_region(region) else {
        return Vec::new();
    };
    const TYPES: [PhoneNumberType; 11] = [
        PhoneNumberType::FixedLine,
        PhoneNumberType::Mobile,
        PhoneNumberType::TollFree,
        PhoneNumberType::PremiumRate,
        PhoneNumberType::SharedCost,
        PhoneNumberType::VoIP,
        PhoneNumberType::PersonalNumber,
        PhoneNumberType::Pager,
        PhoneNumberType::UAN,
        PhoneNumberType::VoiceMail,
        PhoneNumberType::FixedLineOrMobile,
    ];
    TYPES
        .iter()
        .filter_map(|t| {
            PHONE_NUMBER_UTIL
                .get_example_number_for_type_and_region(r, *t)
                .ok()
                .map(|n| {
                    (
                        NumberType::from_engine(*t),
                        n.format_as(PhoneNumberFormat::E164).into_owned(),
                    )
                })
        })
        .collect()
}
