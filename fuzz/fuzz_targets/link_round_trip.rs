//! Every link wa-links builds parses back to its target and its exact text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa_links::{Link, Target};
use wa_validate::Phone;

fuzz_target!(|text: &str| {
    let phone = Phone::parse("+14155552671").unwrap();
    let link = Link::phone(&phone).text(text);
    let expected = (!text.is_empty()).then(|| text.to_owned());
    for built in [link.wa_me(), link.api().unwrap(), link.deep_link().unwrap(), link.sms().unwrap()] {
        let parsed = wa_links::parse(&built).expect("a built link parses");
        assert_eq!(parsed.text, expected, "{built}");
        assert_eq!(parsed.target, Some(Target::Phone(phone.clone())));
    }
});
