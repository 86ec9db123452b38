//! Secrets cross the session bus to the Secret Service encrypted (the
//! dh-ietf1024-sha256-aes128-cbc-pkcs7 session), never in the plain session, which
//! every process that can watch the bus could read. `dbus-monitor` watches the test's
//! private bus while the CLI stores an API key and reads it back.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{ok, text, Cli};
use grantkeeper_test_support::BrowserMode;

const CANARY: &str = "sk-canary-session-7f3a9";

#[test]
fn secrets_cross_the_session_bus_encrypted_only() {
    let cli = Cli::new(BrowserMode::Consent);
    let mut monitor = Command::new("dbus-monitor")
        .args(["--session"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-monitor (the dbus package) is installed");
    // It is watching once it has printed its own first message.
    let mut first = [0u8; 1];
    monitor.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();

    ok(&cli.run_with_stdin(&["keys", "add", "openai", "--key-stdin", "--no-check"], &format!("{CANARY}\n")));
    assert_eq!(ok(&cli.run(&["token", "OpenAI"])).trim(), CANARY);
    std::thread::sleep(Duration::from_millis(300));
    monitor.kill().unwrap();
    monitor.wait().unwrap();
    let mut traffic = String::new();
    monitor.stdout.take().unwrap().read_to_string(&mut traffic).unwrap();
    let traffic = format!("{}{}", text(&first), traffic);

    let algorithms = opened_sessions(&traffic);
    assert!(!algorithms.is_empty(), "the monitor saw the sessions being opened:\n{traffic}");
    assert!(
        algorithms.iter().all(|a| a == "dh-ietf1024-sha256-aes128-cbc-pkcs7"),
        "only encrypted sessions: {algorithms:?}"
    );
    assert!(!traffic.contains(CANARY), "the key crossed the bus readable");
}

/// The algorithm of each `OpenSession` call: the first argument after its header line.
fn opened_sessions(traffic: &str) -> Vec<String> {
    let mut lines = traffic.lines();
    let mut found = Vec::new();
    while let Some(line) = lines.next() {
        if line.starts_with("method call") && line.contains("member=OpenSession") {
            if let Some(argument) = lines.next() {
                found.push(argument.trim().trim_start_matches("string ").trim_matches('"').to_owned());
            }
        }
    }
    found
}
