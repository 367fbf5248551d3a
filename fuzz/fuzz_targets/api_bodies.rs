//! The API's JSON request bodies on arbitrary bytes: decoding and the field policy may refuse
//! the input, but must never panic.
#![no_main]

use berth_api::container::CreateRequest;
use berth_api::exec::{ExecConfig, ExecStartConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = serde_json::from_slice::<CreateRequest>(data) {
        let _ = berth_api::fields::CONTAINER_CONFIG.refused(&req.config.rest);
        let _ = berth_api::fields::HOST_CONFIG.refused(&req.host_config.rest);
        let _ = serde_json::to_vec(&req).expect("a decoded request encodes");
    }
    if let Ok(e) = serde_json::from_slice::<ExecConfig>(data) {
        let _ = berth_api::fields::EXEC_CREATE.refused(&e.rest);
    }
    let _ = serde_json::from_slice::<ExecStartConfig>(data);
});
