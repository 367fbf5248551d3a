//! Image references on arbitrary text: parse, print, and parse the printed form to the same
//! reference. It must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(r) = berth_image::Reference::parse(text) {
        let printed = r.to_string();
        let again = berth_image::Reference::parse(&printed).expect("a printed reference parses");
        assert_eq!(again.to_string(), printed);
        let _ = r.familiar();
        let _ = r.with_default_tag();
    }
});
