//! The exact JSON each message type becomes, for the Cloud API and for WSAPI.
#![cfg(all(feature = "cloud-api", feature = "wsapi"))]

use wa_send::{
    ButtonSubType, Buttons, Contact, Content, List, ListRow, ListSection, Location, Media,
    MediaKind, MediaSource, Outbound, Recipient, ReplyButton, Template, TemplateComponent,
    TemplateParameter, cloud_api_request_body, wsapi_request,
};

fn to(content: Content) -> Outbound {
    Outbound::new(Recipient::parse("+1 415 555 2671").unwrap(), content)
}

fn all() -> Vec<(&'static str, Outbound)> {
    let mut list_row = ListRow::new("r2", "Express");
    list_row.description = Some("Next day".to_owned());
    let mut contact = Contact::new("Ana Silva").phone("+351 912 345 678");
    contact.name.first_name = Some("Ana".to_owned());
    let mut location = Location::new(37.44, -122.16);
    location.name = Some("HQ".to_owned());
    location.address = Some("1 Hacker Way".to_owned());
    let mut buttons = Buttons::new(
        "Confirm your order?",
        [ReplyButton::new("yes", "Yes"), ReplyButton::new("no", "No")],
    );
    buttons.header = Some("Order #1234".to_owned());
    buttons.footer = Some("Reply within 1 h".to_owned());
    vec![
        (
            "text",
            to(Content::Text {
                body: "Visit https://wa.me/ — ünïcødé 👍".to_owned(),
                preview_url: true,
            }),
        ),
        (
            "text_reply_with_callback",
            to(Content::text("Thanks!"))
                .reply_to("wamid.ORIGINAL")
                .biz_opaque_callback_data("order=1234"),
        ),
        (
            "template",
            to(Content::Template(
                Template::new("order_update", "pt_BR")
                    .component(TemplateComponent::header([TemplateParameter::Image {
                        source: MediaSource::Link("https://example.com/a.png".into()),
                    }]))
                    .component(TemplateComponent::body([
                        TemplateParameter::text("Ana"),
                        TemplateParameter::Currency {
                            fallback_value: "€10.00".into(),
                            code: "EUR".into(),
                            amount_1000: 10_000,
                        },
                        TemplateParameter::DateTime {
                            fallback_value: "May 1".into(),
                        },
                    ]))
                    .component(TemplateComponent::button(
                        ButtonSubType::QuickReply,
                        0,
                        [TemplateParameter::Payload {
                            payload: "STOP".into(),
                        }],
                    ))
                    .component(TemplateComponent::button(
                        ButtonSubType::Url,
                        1,
                        [TemplateParameter::text("track/1234")],
                    )),
            )),
        ),
        (
            "template_authentication",
            to(Content::Template(
                Template::authentication("otp_copy", "en_US", "J$FpnYnP").unwrap(),
            )),
        ),
        (
            "image_by_id",
            to(Content::Media(
                Media::new(MediaKind::Image, MediaSource::Id("1037543291543636".into()))
                    .caption("Your receipt"),
            )),
        ),
        (
            "video_by_link",
            to(Content::Media(Media::new(
                MediaKind::Video,
                MediaSource::Link("https://example.com/v.mp4".into()),
            ))),
        ),
        (
            "audio",
            to(Content::Media(Media::new(
                MediaKind::Audio,
                MediaSource::Link("https://example.com/a.ogg".into()),
            ))),
        ),
        (
            "document",
            to(Content::Media(
                Media::new(
                    MediaKind::Document,
                    MediaSource::Link("https://example.com/i.pdf".into()),
                )
                .caption("Invoice")
                .filename("invoice.pdf"),
            )),
        ),
        (
            "sticker",
            to(Content::Media(Media::new(
                MediaKind::Sticker,
                MediaSource::Link("https://example.com/s.webp".into()),
            ))),
        ),
        ("location", to(Content::Location(location))),
        (
            "contacts",
            to(Content::Contacts {
                contacts: vec![contact],
            }),
        ),
        (
            "reaction",
            to(Content::Reaction {
                message_id: "wamid.HBgL".into(),
                emoji: "😀".into(),
            }),
        ),
        (
            "reaction_removed",
            to(Content::Reaction {
                message_id: "wamid.HBgL".into(),
                emoji: String::new(),
            }),
        ),
        ("buttons", to(Content::Buttons(buttons))),
        (
            "list",
            to(Content::List(List::new(
                "Pick a shipping option",
                "Options",
                [
                    ListSection::new(Some("Standard"), [ListRow::new("r1", "Normal")]),
                    ListSection::new(Some("Fast"), [list_row]),
                ],
            ))),
        ),
        (
            "location_request",
            to(Content::LocationRequest {
                body: "Where should we deliver?".into(),
            }),
        ),
    ]
}

#[test]
fn cloud_api_bodies() {
    for (name, msg) in all() {
        let body = cloud_api_request_body(&msg).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_json_snapshot!(format!("cloud_api_{name}"), body);
    }
}

#[test]
fn wsapi_requests() {
    for (name, msg) in all() {
        match wsapi_request(&msg) {
            Ok((path, body)) => insta::assert_json_snapshot!(
                format!("wsapi_{name}"),
                serde_json::json!({ "path": path, "body": body })
            ),
            Err(e) => {
                insta::assert_snapshot!(format!("wsapi_{name}"), format!("{}: {e}", e.code()))
            }
        }
    }
}

#[test]
fn serde_round_trip_of_every_type() {
    for (name, msg) in all() {
        let json = serde_json::to_string(&msg).unwrap();
        let back: Outbound =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}\n{json}"));
        assert_eq!(back, msg, "{name}");
    }
}
