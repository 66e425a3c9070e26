//! [`error_codes!`](crate::error_codes): an error enum's codes written once.

/// Writes an error enum's stable codes once: from one list of
/// `Variant => "code", "meaning";` it generates `code()` and `ALL_CODES` (each code with
/// its meaning, shown as a table in the docs). Variants that carry another error and pass
/// its code through go in a `delegate { Self::Variant(e) => e.code() }` block.
///
/// # Examples
/// ```
/// #[derive(Debug)]
/// pub enum MyError { Empty, TooLong { max: usize }, Inner(wa_validate::Error) }
///
/// wa_validate::error_codes! {
///     MyError, delegate { Self::Inner(e) => e.code() };
///     Empty => "my_empty", "the input is empty";
///     TooLong => "my_too_long", "the input is over the limit";
/// }
///
/// assert_eq!(MyError::TooLong { max: 3 }.code(), "my_too_long");
/// assert_eq!(MyError::ALL_CODES[0], ("my_empty", "the input is empty"));
/// ```
#[macro_export]
macro_rules! error_codes {
    (
        $ty:ident $(, delegate { $( $dpat:pat => $dexpr:expr ),* $(,)? })? ;
        $( $variant:ident => $code:literal, $desc:literal; )*
    ) => {
        impl $ty {
            /// Every code of this type with what it means; pinned by a snapshot test and
            /// never renamed.
            ///
            /// | code | meaning |
            /// |---|---|
            $( #[doc = concat!("| `", $code, "` | ", $desc, " |")] )*
            pub const ALL_CODES: &'static [(&'static str, &'static str)] = &[ $( ($code, $desc) ),* ];

            /// The stable machine-readable code (see [`Self::ALL_CODES`]).
            pub fn code(&self) -> &'static str {
                match self {
                    $( $( $dpat => $dexpr, )* )?
                    $( Self::$variant { .. } => $code, )*
                }
            }
        }
    };
}
