//! One connection to the loopback callback listener: the bytes are everything the
//! client sends before closing (request line, headers, the callback query with state,
//! code, error and iss). The flow waits for STATE and expects ISSUER in `iss`.
#![no_main]

use grantkeeper_engine::fuzzing::{callback_request, CallbackResult};
use libfuzzer_sys::fuzz_target;

const STATE: &str = "gk-state-3q2-7w4Zb0pFzXQ1";
const ISSUER: &str = "https://accounts.example.com/";

fuzz_target!(|request: &[u8]| {
    let answer = callback_request(request, STATE, Some(ISSUER));
    match &answer.callback {
        // This flow's callback: the flow, not the screening, answers it.
        Some(outcome) => {
            assert!(answer.written.is_empty(), "the callback was answered twice");
            if let Ok(CallbackResult::Code(code)) = outcome {
                assert!(!code.is_empty(), "an empty code was accepted");
            }
        }
        // Anything else is refused with an error page, or closed unanswered.
        None => {
            let written = &answer.written;
            assert!(
                written.is_empty()
                    || [&b"HTTP/1.1 400 "[..], b"HTTP/1.1 404 ", b"HTTP/1.1 405 ", b"HTTP/1.1 431 "]
                        .iter()
                        .any(|status| written.starts_with(status)),
                "unexpected answer: {}",
                String::from_utf8_lossy(&written[..written.len().min(40)])
            );
        }
    }
});
