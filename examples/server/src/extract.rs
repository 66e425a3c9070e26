//! Request extractors that fail with stable codes: [`StrictQuery`] (unknown, repeated,
//! oversize and badly encoded parameters are errors, not silently ignored) and
//! [`SendJson`] (typed JSON bodies whose errors name the field, via
//! `serde_path_to_error`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use percent_encoding::percent_decode;

use crate::error::{ApiError, Family, FieldError, LinkApi, SendApiError};

/// Longest accepted query string, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;

/// The parameters of one endpoint.
pub trait QuerySpec {
    /// Names the endpoint accepts.
    const ALLOWED: &'static [&'static str];
}

/// A query's decoded parameters by name, each present at most once (an endpoint takes a
/// handful, so they are kept in order of appearance and looked up by a scan).
///
/// ```
/// use wa_server_example::extract::parse_query;
/// let q = parse_query("text=hi+there&phone=%2B351912345678", &["phone", "text"]).unwrap();
/// assert_eq!(q.get("text").map(String::as_str), Some("hi there"));
/// assert_eq!(q.get("phone").map(String::as_str), Some("+351912345678"));
/// assert!(q.get("region").is_none());
/// ```
#[derive(Debug)]
pub struct QueryValues(Vec<(&'static str, String)>);

impl QueryValues {
    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&String> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// Adds `name`; `false` (and nothing added) when it is already there.
    fn insert(&mut self, name: &'static str, value: String) -> bool {
        if self.get(name).is_some() {
            return false;
        }
        self.0.push((name, value));
        true
    }
}

/// Decoded parameters, each present at most once; errors in the shape of family `F`.
#[derive(Debug)]
pub struct StrictQuery<T, F = LinkApi> {
    values: QueryValues,
    _spec: std::marker::PhantomData<(T, F)>,
}

impl<T, F> StrictQuery<T, F> {
    /// From values already parsed with [`parse_query`].
    pub fn from_values(values: QueryValues) -> Self {
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
    pub fn require(&self, name: &str) -> Result<&str, ApiError<F>> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ApiError::missing(name))
    }
}

/// Decodes one query component (`+` is a space), as every query here is read; borrows
/// when the component has nothing to decode.
pub(crate) fn decode_cow(component: &str) -> Result<std::borrow::Cow<'_, str>, ApiError<LinkApi>> {
    let invalid = |_| {
        ApiError::new(
            "query_invalid_encoding",
            "the query string is not valid percent-encoded UTF-8",
        )
    };
    if component.contains('+') {
        let spaced = component.replace('+', " ");
        return percent_decode(spaced.as_bytes())
            .decode_utf8()
            .map(|s| std::borrow::Cow::Owned(s.into_owned()))
            .map_err(invalid);
    }
    percent_decode(component.as_bytes())
        .decode_utf8()
        .map_err(invalid)
}

/// Parses `query` against `allowed`.
pub fn parse_query(
    query: &str,
    allowed: &'static [&'static str],
) -> Result<QueryValues, ApiError<LinkApi>> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(ApiError::new(
            "query_too_long",
            format!("the query string is over {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let mut values = QueryValues(Vec::with_capacity(allowed.len()));
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode_cow(k)?;
        let value = decode_cow(v)?.into_owned();
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
        if !values.insert(name, value) {
            return Err(ApiError::new(
                "query_repeated_parameter",
                format!("the `{name}` parameter is given more than once"),
            ));
        }
    }
    Ok(values)
}

impl<S: Send + Sync, T: QuerySpec, F: Family> FromRequestParts<S> for StrictQuery<T, F> {
    type Rejection = ApiError<F>;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let values = parse_query(parts.uri.query().unwrap_or(""), T::ALLOWED)
            .map_err(ApiError::into_family)?;
        Ok(StrictQuery {
            values,
            _spec: std::marker::PhantomData,
        })
    }
}

/// Reads `bytes` as a `T`, naming the field at fault (`messages[2].to`, `template.name`)
/// with `prefix` before it.
///
/// # Errors
/// One [`FieldError`]: `json_invalid`, `field_unknown`, `field_missing` or `field_invalid`.
pub fn typed_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    prefix: &str,
) -> Result<T, FieldError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(de);
    result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde's text without the position (the path says where).
        let full = inner.to_string();
        let message = match full.rfind(" at line ") {
            Some(i) => full[..i].to_owned(),
            None => full,
        };
        let join = |p: &str| match (prefix.is_empty(), p.is_empty() || p == ".") {
            (true, _) => p.trim_start_matches('.').to_owned(),
            (false, true) => prefix.to_owned(),
            (false, false) => format!("{prefix}.{}", p.trim_start_matches('.')),
        };
        let (code, field) = if inner.is_syntax() || inner.is_eof() {
            ("json_invalid", join(""))
        } else if let Some(rest) = message.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or_default();
            (
                "field_unknown",
                join(&if path == "." {
                    name.to_owned()
                } else {
                    path.clone()
                }),
            )
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            let name = rest.split('`').next().unwrap_or_default();
            let at = if path == "." {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            };
            ("field_missing", join(&at))
        } else {
            ("field_invalid", join(if path == "." { "" } else { &path }))
        };
        let message = match code {
            "field_unknown" => "is not a field of this endpoint".to_owned(),
            "field_missing" => "is required".to_owned(),
            _ => message,
        };
        FieldError {
            field,
            message,
            code: code.to_owned(),
        }
    })
}

/// A JSON body read as `T`; a body that is not `T` is a send-API `body_invalid` whose
/// `details` name the field. Reads at most `LIMIT` bytes (`body_too_large` beyond).
#[derive(Debug)]
pub struct SendJson<T, const LIMIT: usize = 65_536>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned, const LIMIT: usize>
    axum::extract::FromRequest<S> for SendJson<T, LIMIT>
{
    type Rejection = SendApiError;

    async fn from_request(
        req: axum::extract::Request,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req.into_body(), LIMIT).await?;
        typed_json(&bytes, "").map(SendJson).map_err(body_invalid)
    }
}

/// A `body_invalid` error carrying `detail`.
pub fn body_invalid(detail: FieldError) -> SendApiError {
    let mut e = ApiError::new(
        "body_invalid",
        format!("invalid request body: {}", detail.message),
    );
    e.details.push(detail);
    e
}

/// Reads a whole body of at most `limit` bytes.
///
/// # Errors
/// `body_too_large`, or `body_invalid` when the connection fails mid-body.
pub async fn read_body(
    body: axum::body::Body,
    limit: usize,
) -> Result<axum::body::Bytes, SendApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_big = std::error::Error::source(&e)
            .is_some_and(|s| s.to_string().to_lowercase().contains("length limit"))
            || e.to_string().to_lowercase().contains("length limit");
        if too_big {
            ApiError::new("body_too_large", format!("the body is over {limit} bytes"))
        } else {
            ApiError::new("body_invalid", "the request body could not be read")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse_query;

    const A: &[&str] = &["a", "text"];

    #[test]
    fn decodes_and_checks() {
        let v = parse_query("a=1&text=hi+there%21%20%F0%9F%98%80&", A).unwrap();
        assert_eq!(v.get("text").unwrap(), "hi there! 😀");
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
        assert_eq!(parse_query("a", A).unwrap().get("a").unwrap(), "");
    }
}
