//! `GET /api/v1/qr`: a QR code for a username, a phone number or any data, as PNG or SVG.
//! Identical requests are answered by the link API's response cache without re-rendering
//! (and without counting against the per-IP limit).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::IntoParams;
use wa_links::Link;
use wa_qr::{Color, Ecl, Format, Options, Style};
use wa_validate::Username;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{QuerySpec, StrictQuery};
use crate::state::AppState;

/// Parameters of `/api/v1/qr`. Exactly one of `username`, `phone` and `data`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; values are read through `StrictQuery`
pub struct QrParams {
    /// Encode `https://wa.me/<username>` (with `text`).
    username: Option<String>,
    /// Encode `https://wa.me/<digits>` (with `text`).
    phone: Option<String>,
    /// Encode this data as is.
    data: Option<String>,
    /// Prefilled text for `username` / `phone` links.
    text: Option<String>,
    /// Region for national `phone` numbers.
    region: Option<String>,
    /// `png` (default) or `svg`.
    #[param(value_type = Option<QrFormat>)]
    format: Option<String>,
    /// Image size in pixels, 64–4096 (default 512).
    #[param(value_type = Option<u32>, minimum = 64, maximum = 4096)]
    size: Option<String>,
    /// Foreground colour: `#rgb`, `#rrggbb`, `#rrggbbaa` or a CSS name (default black).
    color: Option<String>,
    /// Background colour (default white); needs 1.8:1 contrast with `color` (the threshold below which the decoder sweep fails).
    bg: Option<String>,
    /// Quiet zone in modules, 0–16 (default 4).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 16)]
    margin: Option<String>,
    /// Error correction: `L`, `M` (default), `Q` or `H`.
    ecl: Option<String>,
    /// `square` (default) or `rounded`.
    #[param(value_type = Option<QrStyle>)]
    style: Option<String>,
}

/// A rendered image (binary).
#[derive(Debug, utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct QrImage(#[allow(dead_code)] Vec<u8>);

/// Image formats.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QrFormat {
    /// PNG (1-bit palette unless colours need more).
    Png,
    /// SVG (one path).
    Svg,
}

/// Module shapes.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QrStyle {
    /// Square modules.
    Square,
    /// Rounded runs; finders stay square.
    Rounded,
}

impl QrParams {
    const FIELDS: &'static [&'static str] = &[
        "username", "phone", "data", "text", "region", "format", "size", "color", "bg", "margin",
        "ecl", "style",
    ];
}

impl QuerySpec for QrParams {
    const ALLOWED: &'static [&'static str] = QrParams::FIELDS;
}

fn number(q: &StrictQuery<QrParams>, name: &str, default: u32) -> Result<u32, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::invalid(name, "a whole number")),
    }
}

fn payload(q: &StrictQuery<QrParams>) -> Result<String, ApiError> {
    let given: Vec<&str> = ["username", "phone", "data"]
        .into_iter()
        .filter(|n| q.get(n).is_some())
        .collect();
    match given.as_slice() {
        [] => {
            return Err(ApiError::new(
                "query_missing_parameter",
                "one of `username`, `phone` or `data` is required",
            ));
        }
        [_] => {}
        _ => {
            return Err(ApiError::new(
                "query_conflicting_parameters",
                format!("give only one of {}", given.join(", ")),
            ));
        }
    }
    if let Some(data) = q.get("data") {
        if q.get("text").is_some() || q.get("region").is_some() {
            return Err(ApiError::new(
                "query_conflicting_parameters",
                "`text` and `region` apply to `username` and `phone`, not `data`",
            ));
        }
        return Ok(data.to_owned());
    }
    let mut link = if let Some(u) = q.get("username") {
        if q.get("region").is_some() {
            return Err(ApiError::new(
                "query_conflicting_parameters",
                "`region` applies to `phone`, not `username`",
            ));
        }
        Link::username(&Username::parse(u)?)
    } else {
        let options = super::phone_options(q.get("region"));
        Link::phone(&options.parse(q.require("phone")?)?)
    };
    if let Some(text) = q.get("text") {
        link = link.text(text);
    }
    Ok(link.wa_me())
}

/// A QR code image.
#[utoipa::path(
    get, path = "/api/v1/qr", tag = "qr", operation_id = "renderQr", params(QrParams),
    responses(
        (status = 200, description = "The image", content((QrImage = "image/png"), (String = "image/svg+xml"))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "`qr_*`, `username_*`, `phone_*`, `query_*` codes", body = ErrorBody),
        (status = 414, description = "`query_too_long`", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
pub async fn qr(
    State(state): State<AppState>,
    q: StrictQuery<QrParams>,
) -> Result<Response, ApiError> {
    let data = payload(&q)?;
    let (options, format) = render_options(&q)?;
    // Identical requests are answered by the response cache in front of this handler.
    let body = options.render(data.as_bytes(), format)?;
    state.rendered_qr();
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    h.insert("x-cache", HeaderValue::from_static("miss"));
    Ok(resp)
}

/// The rendering options and format a query asks for.
fn render_options(q: &StrictQuery<QrParams>) -> Result<(Options, Format), ApiError> {
    let format = match q.get("format") {
        None | Some("png") => Format::Png,
        Some("svg") => Format::Svg,
        Some(_) => return Err(ApiError::invalid("format", "`png` or `svg`")),
    };
    let style = match q.get("style") {
        None => Style::Square,
        Some(s) => Style::from_name(s)
            .ok_or_else(|| ApiError::invalid("style", "`square` or `rounded`"))?,
    };
    let ecl = q
        .get("ecl")
        .map(Ecl::parse)
        .transpose()?
        .unwrap_or_default();
    let mut options = Options::new()
        .size(number(q, "size", 512)?)
        .margin(number(q, "margin", 4)?)
        .ecl(ecl)
        .style(style);
    if let Some(fg) = q.get("color").map(Color::parse).transpose()? {
        options = options.foreground(fg);
    }
    if let Some(bg) = q.get("bg").map(Color::parse).transpose()? {
        options = options.background(bg);
    }
    Ok((options, format))
}
