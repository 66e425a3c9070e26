//! Every limit of facts §3.1 has a stable code; the boundary itself is accepted.

use wa_send::message::limits;
use wa_send::{
    Buttons, Contact, Content, DeliveryBackend, DeliveryError, DryRunBackend, List, ListRow,
    ListSection, Location, ManualClock, Media, MediaKind, MediaSource, MessageError, MessageStatus,
    Outbound, Recipient, ReplyButton, StubBackend, Template, WebhookError,
};

fn to(content: Content) -> Outbound {
    Outbound::new(Recipient::parse("+14155552671").unwrap(), content)
}

fn code(msg: &Outbound) -> &'static str {
    msg.validate().map_or_else(|e| e.code(), |()| "ok")
}

fn n(c: char, len: usize) -> String {
    std::iter::repeat_n(c, len).collect()
}

fn buttons(count: usize, title_len: usize) -> Content {
    Content::Buttons(Buttons::new(
        "body",
        (0..count).map(|i| ReplyButton::new(format!("b{i}"), n('t', title_len))),
    ))
}

fn list(rows_per_section: &[usize]) -> Content {
    let sections = rows_per_section.iter().enumerate().map(|(s, &rows)| {
        ListSection::new(
            Some(&format!("S{s}")),
            (0..rows).map(|r| ListRow::new(format!("{s}.{r}"), "row")),
        )
    });
    Content::List(List::new("body", "Open", sections))
}

#[test]
fn limits_table() {
    let image = |caption: &str| {
        Content::Media(Media::new(MediaKind::Image, MediaSource::Id("1".into())).caption(caption))
    };
    let cases: Vec<(&str, Outbound, &str)> = vec![
        (
            "text at limit (multibyte)",
            to(Content::text(n('é', limits::TEXT_BODY))),
            "ok",
        ),
        (
            "text over limit",
            to(Content::text(n('a', limits::TEXT_BODY + 1))),
            "message_too_long",
        ),
        ("text empty", to(Content::text("   ")), "message_text_empty"),
        (
            "caption at limit",
            to(image(&n('c', limits::CAPTION))),
            "ok",
        ),
        (
            "caption over",
            to(image(&n('c', limits::CAPTION + 1))),
            "message_too_long",
        ),
        (
            "audio caption",
            to(Content::Media(
                Media::new(MediaKind::Audio, MediaSource::Id("1".into())).caption("x"),
            )),
            "message_caption_not_allowed",
        ),
        (
            "sticker caption",
            to(Content::Media(
                Media::new(MediaKind::Sticker, MediaSource::Id("1".into())).caption("x"),
            )),
            "message_caption_not_allowed",
        ),
        (
            "image filename",
            to(Content::Media(
                Media::new(MediaKind::Image, MediaSource::Id("1".into())).filename("a.png"),
            )),
            "message_filename_not_allowed",
        ),
        (
            "http link",
            to(Content::Media(Media::new(
                MediaKind::Image,
                MediaSource::Link("http://x.com/a.png".into()),
            ))),
            "message_media_link_invalid",
        ),
        (
            "relative link",
            to(Content::Media(Media::new(
                MediaKind::Image,
                MediaSource::Link("/a.png".into()),
            ))),
            "message_media_link_invalid",
        ),
        (
            "empty media id",
            to(Content::Media(Media::new(
                MediaKind::Video,
                MediaSource::Id(String::new()),
            ))),
            "message_field_empty",
        ),
        (
            "lat out of range",
            to(Content::Location(Location::new(90.5, 0.0))),
            "message_location_invalid",
        ),
        (
            "lon NaN",
            to(Content::Location(Location::new(0.0, f64::NAN))),
            "message_location_invalid",
        ),
        (
            "location edges",
            to(Content::Location(Location::new(-90.0, 180.0))),
            "ok",
        ),
        (
            "no contacts",
            to(Content::Contacts { contacts: vec![] }),
            "message_contacts_count",
        ),
        (
            "257 contacts",
            to(Content::Contacts {
                contacts: vec![Contact::new("A"); 257],
            }),
            "ok",
        ),
        (
            "258 contacts",
            to(Content::Contacts {
                contacts: vec![Contact::new("A"); 258],
            }),
            "message_contacts_count",
        ),
        (
            "nameless contact",
            to(Content::Contacts {
                contacts: vec![Contact::new(" ")],
            }),
            "message_field_empty",
        ),
        (
            "reaction removal",
            to(Content::Reaction {
                message_id: "wamid.X".into(),
                emoji: String::new(),
            }),
            "ok",
        ),
        (
            "reaction no target",
            to(Content::Reaction {
                message_id: String::new(),
                emoji: "👍".into(),
            }),
            "message_field_empty",
        ),
        ("3 buttons", to(buttons(3, limits::BUTTON_TITLE)), "ok"),
        ("4 buttons", to(buttons(4, 5)), "message_buttons_count"),
        ("0 buttons", to(buttons(0, 5)), "message_buttons_count"),
        (
            "button title over",
            to(buttons(1, limits::BUTTON_TITLE + 1)),
            "message_too_long",
        ),
        (
            "duplicate button ids",
            to(Content::Buttons(Buttons::new(
                "b",
                [ReplyButton::new("x", "1"), ReplyButton::new("x", "2")],
            ))),
            "message_duplicate_id",
        ),
        ("10 rows in 3 sections", to(list(&[4, 3, 3])), "ok"),
        ("11 rows", to(list(&[6, 5])), "message_list_rows_count"),
        (
            "empty section",
            to(list(&[2, 0])),
            "message_list_rows_count",
        ),
        ("no sections", to(list(&[])), "message_list_rows_count"),
        (
            "untitled section among several",
            to(Content::List(List::new(
                "b",
                "Open",
                [
                    ListSection::new(None, [ListRow::new("a", "a")]),
                    ListSection::new(Some("x"), [ListRow::new("b", "b")]),
                ],
            ))),
            "message_section_title_missing",
        ),
        (
            "row description over",
            to(Content::List(List::new(
                "b",
                "Open",
                [ListSection::new(
                    None,
                    [{
                        let mut r = ListRow::new("a", "a");
                        r.description = Some(n('d', limits::LIST_ROW_DESCRIPTION + 1));
                        r
                    }],
                )],
            ))),
            "message_too_long",
        ),
        (
            "list button over",
            to(Content::List(List::new(
                "b",
                n('x', 21),
                [ListSection::new(None, [ListRow::new("a", "a")])],
            ))),
            "message_too_long",
        ),
        (
            "interactive body empty",
            to(Content::LocationRequest {
                body: String::new(),
            }),
            "message_field_empty",
        ),
        (
            "template name",
            to(Content::Template(Template::new("Hello World", "en_US"))),
            "message_template_name_invalid",
        ),
        (
            "template language",
            to(Content::Template(Template::new("hello_world", "english"))),
            "message_template_language_invalid",
        ),
        (
            "template ok",
            to(Content::Template(
                Template::authentication("otp", "en", "123456").unwrap(),
            )),
            "ok",
        ),
        (
            "callback data 512 bytes",
            to(Content::text("x")).biz_opaque_callback_data(n('b', 512)),
            "ok",
        ),
        (
            "callback data 513 bytes",
            to(Content::text("x")).biz_opaque_callback_data(n('b', 513)),
            "message_too_long",
        ),
        (
            "empty reply_to",
            to(Content::text("x")).reply_to(""),
            "message_field_empty",
        ),
        (
            "status broadcast",
            Outbound::new(
                Recipient::parse("status@broadcast").unwrap(),
                Content::text("x"),
            ),
            "message_recipient_unsupported",
        ),
    ];
    for (name, msg, expected) in cases {
        assert_eq!(code(&msg), expected, "{name}");
    }
}

#[test]
fn too_long_names_the_field() {
    let e = to(buttons(2, 30)).validate().unwrap_err();
    assert_eq!(
        e,
        MessageError::TooLong {
            field: "buttons[0].title".into(),
            max: 20,
            actual: 30
        }
    );
    assert_eq!(e.field(), Some("buttons[0].title"));
}

#[test]
fn codes_are_stable_and_unique() {
    let mut all: Vec<&str> = MessageError::ALL_CODES
        .iter()
        .chain(DeliveryError::ALL_CODES)
        .chain(WebhookError::ALL_CODES)
        .map(|(c, _)| *c)
        .collect();
    insta::assert_snapshot!("wa_send_codes", all.join("\n"));
    all.extend(wa_validate::Error::ALL_CODES.iter().map(|(c, _)| *c));
    let mut sorted = all.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), all.len(), "codes collide across crates");
}

#[tokio::test]
async fn dry_run_emits_meta_shaped_statuses() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let clock = std::sync::Arc::new(ManualClock::at_unix(1_750_000_000));
    let backend = DryRunBackend::new()
        .clock(clock)
        .on_status(move |s| sink.lock().unwrap().push(s));
    let r1 = backend
        .send(&to(Content::text("a")).biz_opaque_callback_data("cb"))
        .await
        .unwrap();
    let r2 = backend
        .send(&to(Content::Reaction {
            message_id: "wamid.X".into(),
            emoji: "👍".into(),
        }))
        .await
        .unwrap();
    assert_ne!(r1.provider_message_id, r2.provider_message_id);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        4,
        "three for the text, only `sent` for the reaction"
    );
    assert!(
        seen[..3]
            .iter()
            .all(|s| s.message_id == r1.provider_message_id
                && s.timestamp == wa_send::Timestamp::from_secs(1_750_000_000))
    );
    assert_eq!(seen[0].biz_opaque_callback_data.as_deref(), Some("cb"));
    assert_eq!(seen[0].recipient_id.as_deref(), Some("14155552671"));
    assert_eq!(seen[3].status, MessageStatus::Sent);
    // Invalid messages are refused like a real backend would.
    assert_eq!(
        backend
            .send(&to(Content::text("")))
            .await
            .unwrap_err()
            .code(),
        "message_text_empty"
    );
    assert!(backend.verify_credentials().await.is_ok());
}

#[tokio::test]
async fn stub_scripts_and_records() {
    let stub = StubBackend::new_error(DeliveryError::from_meta(
        "stub",
        400,
        131026,
        "undeliverable",
        None,
    ));
    stub.push_ok("wamid.1");
    let shared = stub.clone();
    assert_eq!(
        shared
            .send(&to(Content::text("a")))
            .await
            .unwrap()
            .provider_message_id,
        "wamid.1"
    );
    assert_eq!(
        shared
            .send(&to(Content::text("b")))
            .await
            .unwrap_err()
            .code(),
        "delivery_undeliverable"
    );
    assert!(shared.send(&to(Content::text(""))).await.is_err());
    assert_eq!(stub.sent_count(), 2, "invalid messages are not recorded");
    stub.fail_credentials(DeliveryError::from_http_status(
        "stub", 401, "bad key", None,
    ));
    assert_eq!(
        stub.verify_credentials().await.unwrap_err().code(),
        "delivery_auth"
    );
}

proptest::proptest! {
    #[test]
    fn validation_never_panics(body in ".{0,64}", title in ".{0,30}", id in ".{0,30}", lat in proptest::num::f64::ANY, lon in proptest::num::f64::ANY) {
        let _ = to(Content::text(body.clone())).validate();
        let _ = to(Content::Buttons(Buttons::new(body.clone(), [ReplyButton::new(id.clone(), title.clone())]))).validate();
        let _ = to(Content::List(List::new(body.clone(), title.clone(), [ListSection::new(Some(&title), [ListRow::new(id.clone(), title.clone())])]))).validate();
        let _ = to(Content::Location(Location::new(lat, lon))).validate();
        let _ = to(Content::Media(Media::new(MediaKind::Document, MediaSource::Link(body.clone())).filename(title.clone()))).validate();
        let _ = to(Content::Template(Template::new(id, title))).validate();
    }
}
