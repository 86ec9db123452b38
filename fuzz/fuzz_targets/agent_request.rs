//! A request to the token agent, as the app reads it from any process of the person's
//! that connects to its socket: the frame's JSON, after the length prefix.
#![no_main]

use grantkeeper_engine::agent::protocol::{encode, parse_request, Ask, VERSION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|frame: &[u8]| {
    let Ok(request) = parse_request(frame) else { return };
    assert_eq!(request.version, VERSION);
    let Ask::Token { connection, .. } = &request.ask;
    assert!(!connection.trim().is_empty() && connection.len() <= 512, "{connection:?}");
    // What was accepted reads back the same once written out again.
    let again = parse_request(&encode(&request)).expect("an accepted request round-trips");
    assert_eq!(format!("{again:?}"), format!("{request:?}"));
});
