//! The token agent for `bench/token-speed.sh`: an engine on the data directory and
//! keychain the environment names (as the app reads them), serving the agent at the
//! app's socket. It answers every question Allow always, as the person would once, so
//! each program after its first request takes the path of an allowed program.
//!
//! Prints one JSON line with its RSS before and after the agent started, then one line
//! with its RSS for each line read on stdin; stops when stdin closes.

use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

use grantkeeper_engine::api::{ConsentAnswer, EngineEvent};
use grantkeeper_engine::{agent, Config, Engine, Keychain};

/// Resident memory, KiB, from the kernel.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("VmRSS in kB")
}

fn main() {
    let config = Config::from_env().expect("GRANTKEEPER_HOME and GRANTKEEPER_KEYCHAIN_SERVICE");
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let _entered = runtime.enter();
    let keychain = Arc::new(Keychain::new(config.keychain_service.clone()));
    let engine = Engine::open(config.clone(), keychain).expect("the engine opens");
    let mut events = engine.subscribe();
    let answering = engine.clone();
    runtime.spawn(async move {
        while let Ok(event) = events.recv().await {
            if let EngineEvent::ConsentRequested { request } = event {
                let _ = answering.answer_consent(&request.id, ConsentAnswer::AllowAlways);
            }
        }
    });
    std::thread::sleep(Duration::from_secs(1));
    let before = rss_kib();
    let server = engine.serve_agent(&agent::address(&config.home)).expect("the agent serves");
    std::thread::sleep(Duration::from_secs(1));
    println!(r#"{{"rss_before_agent_kib":{before},"rss_with_agent_kib":{}}}"#, rss_kib());
    for _ in std::io::stdin().lock().lines().map_while(Result::ok) {
        println!(r#"{{"rss_kib":{}}}"#, rss_kib());
    }
    drop(server);
}
