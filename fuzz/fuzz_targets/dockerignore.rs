//! `.dockerignore` rules on arbitrary text, matched against a few paths.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(i) = berth_build::Ignore::parse(text) {
        for p in ["a", "a/b/c", ".dockerignore", "x/../y", text] {
            let _ = i.excluded_by(p);
            let _ = i.may_reinclude_below(p);
        }
    }
});
