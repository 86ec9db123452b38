//! A request to the token agent, as the app reads it from any process of the person's
//! that connects to its socket: the frame's JSON, after the length prefix.
#![no_main]

use grantkeeper_engine::agent::protocol::{encode, parse_request, Ask, VERSION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|frame: &[u8]| {
    let Ok(request) = parse_request(frame) else { return };
    assert_eq!(request.version, VERSION);
    let connection = request.ask.connection();
    assert!(!connection.trim().is_empty() && connection.len() <= 512, "{connection:?}");
    if let Ask::Refused { fingerprint, .. } = &request.ask {
        assert_eq!(fingerprint.len(), 43, "a SHA-256, base64url: {fingerprint:?}");
    }
    // What was accepted reads back the same once written out again.
    let again = parse_request(&encode(&request)).expect("an accepted request round-trips");
    assert_eq!(format!("{again:?}"), format!("{request:?}"));
});
