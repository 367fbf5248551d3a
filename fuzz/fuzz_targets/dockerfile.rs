//! The Dockerfile front end on arbitrary text: parse, type, plan stages, expand words. It may
//! reject the input; it must never panic or loop.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(d) = berth_build::Dockerfile::parse("Dockerfile", text) {
        let target = d.target(None).expect("a parsed file has a stage");
        let _ = d.needed(target);
        for s in &d.stages {
            let _ = d.deps(s);
        }
    }
    let env = |n: &str| (n.len() % 2 == 0).then(|| n.to_string());
    let _ = berth_build::shell::words(text, '\\', &env);
    let _ = berth_build::shell::word(text, '`', &env);
});
