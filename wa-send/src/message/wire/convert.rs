//! Conversions between the message model ([`Content`], [`Template`], …) and its Cloud API
//! wire types: `From<&model>` to build requests, `TryFrom<wire>` to read request bodies.

use super::*;

fn media_source(m: &WireMedia, field: &str) -> Result<MediaSource, MessageError> {
    match (&m.id, &m.link) {
        (Some(id), None) => Ok(MediaSource::Id(id.clone())),
        (None, Some(link)) => Ok(MediaSource::Link(link.clone())),
        _ => Err(MessageError::MediaSourceInvalid {
            field: field.to_owned(),
        }),
    }
}

fn wire_media(source: &MediaSource) -> WireMedia {
    let mut m = WireMedia::default();
    match source {
        MediaSource::Id(id) => m.id = Some(id.clone()),
        MediaSource::Link(link) => m.link = Some(link.clone()),
    }
    m
}

impl From<&TemplateParameter> for WireParameter {
    fn from(p: &TemplateParameter) -> Self {
        match p {
            TemplateParameter::Text { text } => WireParameter::Text { text: text.clone() },
            TemplateParameter::Currency {
                fallback_value,
                code,
                amount_1000,
            } => WireParameter::Currency {
                currency: WireCurrency {
                    fallback_value: fallback_value.clone(),
                    code: code.clone(),
                    amount_1000: *amount_1000,
                },
            },
            TemplateParameter::DateTime { fallback_value } => WireParameter::DateTime {
                date_time: WireFallback {
                    fallback_value: fallback_value.clone(),
                },
            },
            TemplateParameter::Image { source } => WireParameter::Image {
                image: wire_media(source),
            },
            TemplateParameter::Video { source } => WireParameter::Video {
                video: wire_media(source),
            },
            TemplateParameter::Document { source, filename } => WireParameter::Document {
                document: WireMedia {
                    filename: filename.clone(),
                    ..wire_media(source)
                },
            },
            TemplateParameter::Payload { payload } => WireParameter::Payload {
                payload: payload.clone(),
            },
            TemplateParameter::CouponCode { coupon_code } => WireParameter::CouponCode {
                coupon_code: coupon_code.clone(),
            },
        }
    }
}

impl WireParameter {
    fn into_model(self, field: &str) -> Result<TemplateParameter, MessageError> {
        Ok(match self {
            WireParameter::Text { text } => TemplateParameter::Text { text },
            WireParameter::Currency { currency } => TemplateParameter::Currency {
                fallback_value: currency.fallback_value,
                code: currency.code,
                amount_1000: currency.amount_1000,
            },
            WireParameter::DateTime { date_time } => TemplateParameter::DateTime {
                fallback_value: date_time.fallback_value,
            },
            WireParameter::Image { image } => TemplateParameter::Image {
                source: media_source(&image, &format!("{field}.image"))?,
            },
            WireParameter::Video { video } => TemplateParameter::Video {
                source: media_source(&video, &format!("{field}.video"))?,
            },
            WireParameter::Document { document } => TemplateParameter::Document {
                source: media_source(&document, &format!("{field}.document"))?,
                filename: document.filename,
            },
            WireParameter::Payload { payload } => TemplateParameter::Payload { payload },
            WireParameter::CouponCode { coupon_code } => {
                TemplateParameter::CouponCode { coupon_code }
            }
        })
    }
}

impl From<&Template> for WireTemplate {
    fn from(t: &Template) -> Self {
        let params = |ps: &[TemplateParameter]| ps.iter().map(WireParameter::from).collect();
        WireTemplate {
            name: t.name.clone(),
            language: WireLanguage {
                code: t.language.clone(),
            },
            components: t
                .components
                .iter()
                .map(|c| match c {
                    TemplateComponent::Header { parameters } => WireComponent::Header {
                        parameters: params(parameters),
                    },
                    TemplateComponent::Body { parameters } => WireComponent::Body {
                        parameters: params(parameters),
                    },
                    TemplateComponent::Button {
                        sub_type,
                        index,
                        parameters,
                    } => WireComponent::Button {
                        sub_type: *sub_type,
                        index: WireIndex(*index),
                        parameters: params(parameters),
                    },
                })
                .collect(),
        }
    }
}

impl TryFrom<WireTemplate> for Template {
    type Error = MessageError;

    fn try_from(t: WireTemplate) -> Result<Self, MessageError> {
        let mut out = Template::new(t.name, t.language.code);
        for (ci, c) in t.components.into_iter().enumerate() {
            let params = |ps: Vec<WireParameter>| {
                ps.into_iter()
                    .enumerate()
                    .map(|(pi, p)| {
                        p.into_model(&format!("template.components[{ci}].parameters[{pi}]"))
                    })
                    .collect::<Result<Vec<_>, _>>()
            };
            out.components.push(match c {
                WireComponent::Header { parameters } => TemplateComponent::Header {
                    parameters: params(parameters)?,
                },
                WireComponent::Body { parameters } => TemplateComponent::Body {
                    parameters: params(parameters)?,
                },
                WireComponent::Button {
                    sub_type,
                    index,
                    parameters,
                } => TemplateComponent::Button {
                    sub_type,
                    index: index.0,
                    parameters: params(parameters)?,
                },
            });
        }
        Ok(out)
    }
}

fn header(h: Option<&str>) -> Option<WireHeader> {
    h.map(|text| WireHeader::Text {
        text: text.to_owned(),
    })
}

fn footer(f: Option<&str>) -> Option<WireBody> {
    f.map(|text| WireBody {
        text: text.to_owned(),
    })
}

fn header_text(h: Option<WireHeader>) -> Option<String> {
    h.map(|WireHeader::Text { text }| text)
}

impl From<&Content> for WireContent {
    fn from(content: &Content) -> Self {
        match content {
            Content::Text { body, preview_url } => WireContent::Text {
                text: WireText {
                    preview_url: *preview_url,
                    body: body.clone(),
                },
            },
            Content::Template(t) => WireContent::Template {
                template: WireTemplate::from(t),
            },
            Content::Media(m) => {
                let media = WireMedia {
                    caption: m.caption.clone(),
                    filename: m.filename.clone(),
                    ..wire_media(&m.source)
                };
                match m.kind {
                    MediaKind::Image => WireContent::Image { image: media },
                    MediaKind::Video => WireContent::Video { video: media },
                    MediaKind::Audio => WireContent::Audio { audio: media },
                    MediaKind::Document => WireContent::Document { document: media },
                    MediaKind::Sticker => WireContent::Sticker { sticker: media },
                }
            }
            Content::Location(l) => WireContent::Location {
                location: WireLocation {
                    latitude: l.latitude,
                    longitude: l.longitude,
                    name: l.name.clone(),
                    address: l.address.clone(),
                },
            },
            Content::Contacts { contacts } => WireContent::Contacts {
                contacts: contacts.clone(),
            },
            Content::Reaction { message_id, emoji } => WireContent::Reaction {
                reaction: WireReaction {
                    message_id: message_id.clone(),
                    emoji: emoji.clone(),
                },
            },
            Content::Buttons(b) => WireContent::Interactive {
                interactive: WireInteractive::Button {
                    header: header(b.header.as_deref()),
                    body: WireBody {
                        text: b.body.clone(),
                    },
                    footer: footer(b.footer.as_deref()),
                    action: WireButtons {
                        buttons: b
                            .buttons
                            .iter()
                            .map(|r| WireButton::Reply { reply: r.clone() })
                            .collect(),
                    },
                },
            },
            Content::List(l) => WireContent::Interactive {
                interactive: WireInteractive::List {
                    header: header(l.header.as_deref()),
                    body: WireBody {
                        text: l.body.clone(),
                    },
                    footer: footer(l.footer.as_deref()),
                    action: WireListAction {
                        button: l.button.clone(),
                        sections: l.sections.clone(),
                    },
                },
            },
            Content::LocationRequest { body } => WireContent::Interactive {
                interactive: WireInteractive::LocationRequestMessage {
                    body: WireBody { text: body.clone() },
                    action: WireNamedAction {
                        name: "send_location".to_owned(),
                    },
                },
            },
        }
    }
}

impl TryFrom<WireContent> for Content {
    type Error = MessageError;

    /// The model of a wire message; the only failure is a media object without exactly one
    /// of `id` and `link` (limits are [`Outbound::validate`](crate::Outbound::validate)'s job).
    fn try_from(w: WireContent) -> Result<Self, MessageError> {
        let media = |kind: MediaKind, m: WireMedia| -> Result<Content, MessageError> {
            Ok(Content::Media(Media {
                kind,
                source: media_source(&m, kind.as_str())?,
                caption: m.caption,
                filename: m.filename,
            }))
        };
        Ok(match w {
            WireContent::Text { text } => Content::Text {
                body: text.body,
                preview_url: text.preview_url,
            },
            WireContent::Template { template } => Content::Template(template.try_into()?),
            WireContent::Image { image } => media(MediaKind::Image, image)?,
            WireContent::Video { video } => media(MediaKind::Video, video)?,
            WireContent::Audio { audio } => media(MediaKind::Audio, audio)?,
            WireContent::Document { document } => media(MediaKind::Document, document)?,
            WireContent::Sticker { sticker } => media(MediaKind::Sticker, sticker)?,
            WireContent::Location { location } => Content::Location(Location {
                latitude: location.latitude,
                longitude: location.longitude,
                name: location.name,
                address: location.address,
            }),
            WireContent::Contacts { contacts } => Content::Contacts { contacts },
            WireContent::Reaction { reaction } => Content::Reaction {
                message_id: reaction.message_id,
                emoji: reaction.emoji,
            },
            WireContent::Interactive { interactive } => match interactive {
                WireInteractive::Button {
                    header,
                    body,
                    footer,
                    action,
                } => Content::Buttons(Buttons {
                    header: header_text(header),
                    body: body.text,
                    footer: footer.map(|f| f.text),
                    buttons: action
                        .buttons
                        .into_iter()
                        .map(|WireButton::Reply { reply }| reply)
                        .collect(),
                }),
                WireInteractive::List {
                    header,
                    body,
                    footer,
                    action,
                } => Content::List(List {
                    header: header_text(header),
                    body: body.text,
                    footer: footer.map(|f| f.text),
                    button: action.button,
                    sections: action.sections,
                }),
                WireInteractive::LocationRequestMessage { body, .. } => {
                    Content::LocationRequest { body: body.text }
                }
            },
        })
    }
}
