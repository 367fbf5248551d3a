//! Layer apply on arbitrary bytes: a hostile tar may be refused, but it must never panic, and
//! nothing may appear outside the layer directory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let layer = dir.path().join("layer");
    std::fs::create_dir(&layer).expect("layer dir");
    let _ = berth_snapshot::apply(&layer, data);
    let outside: Vec<_> = std::fs::read_dir(dir.path())
        .expect("temp dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(outside, vec![std::ffi::OsString::from("layer")], "wrote outside the layer");
});
