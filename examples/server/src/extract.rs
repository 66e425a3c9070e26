//! `StrictQuery`: query strings parsed strictly — unknown, repeated, oversize and badly
//! encoded parameters are errors with their own codes, not silently ignored.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use percent_encoding::percent_decode;

use crate::error::ApiError;

/// Longest accepted query string, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;

/// The parameters of one endpoint.
pub trait QuerySpec {
    /// Names the endpoint accepts.
    const ALLOWED: &'static [&'static str];
}

/// Decoded parameters, each present at most once.
#[derive(Debug)]
pub struct StrictQuery<T> {
    values: HashMap<&'static str, String>,
    _spec: std::marker::PhantomData<T>,
}

impl<T> StrictQuery<T> {
    /// From values already parsed with [`parse_query`].
    pub fn from_values(values: HashMap<&'static str, String>) -> Self {
        StrictQuery {
            values,
            _spec: std::marker::PhantomData,
        }
    }

    /// An optional parameter as given (an empty value is a value, and is validated).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A required parameter; absent or empty is `query_missing_parameter`.
    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ApiError::missing(name))
    }
}

fn decode(component: &str) -> Result<String, ApiError> {
    let spaced = component.replace('+', " ");
    percent_decode(spaced.as_bytes())
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            ApiError::new(
                "query_invalid_encoding",
                "the query string is not valid percent-encoded UTF-8",
            )
        })
}

/// Parses `query` against `allowed`.
pub fn parse_query(
    query: &str,
    allowed: &'static [&'static str],
) -> Result<HashMap<&'static str, String>, ApiError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(ApiError::new(
            "query_too_long",
            format!("the query string is over {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let mut values = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k)?;
        let value = decode(v)?;
        let Some(name) = allowed.iter().find(|a| **a == key) else {
            let shown: String = key.chars().take(40).collect();
            return Err(ApiError::new(
                "query_unknown_parameter",
                format!(
                    "unknown parameter `{shown}`; this endpoint takes: {}",
                    allowed.join(", ")
                ),
            ));
        };
        if values.insert(*name, value).is_some() {
            return Err(ApiError::new(
                "query_repeated_parameter",
                format!("the `{name}` parameter is given more than once"),
            ));
        }
    }
    Ok(values)
}

impl<S: Send + Sync, T: QuerySpec> FromRequestParts<S> for StrictQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let values = parse_query(parts.uri.query().unwrap_or(""), T::ALLOWED)?;
        Ok(StrictQuery {
            values,
            _spec: std::marker::PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_query;

    const A: &[&str] = &["a", "text"];

    #[test]
    fn decodes_and_checks() {
        let v = parse_query("a=1&text=hi+there%21%20%F0%9F%98%80&", A).unwrap();
        assert_eq!(v["text"], "hi there! 😀");
        assert_eq!(
            parse_query("b=1", A).unwrap_err().code,
            "query_unknown_parameter"
        );
        assert_eq!(
            parse_query("a=1&a=2", A).unwrap_err().code,
            "query_repeated_parameter"
        );
        assert_eq!(
            parse_query("a=%FF", A).unwrap_err().code,
            "query_invalid_encoding"
        );
        assert_eq!(
            parse_query(&"a=1&".repeat(2000), A).unwrap_err().code,
            "query_too_long"
        );
        assert_eq!(parse_query("a", A).unwrap()["a"], "");
    }
}
