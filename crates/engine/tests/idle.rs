//! Grantkeeper runs all day in the tray: once its work is done, no thread of it may wake
//! up on a timer (each wake-up costs the laptop's battery). The engine here has used the
//! keychain, the system bus and its scheduler, as the app does at start. blocking 1.7.0
//! (under zbus and oo7) kept idle pool threads that woke every 500 ms; Cargo.lock holds
//! 1.6.2, whose idle threads end, and this test keeps it so.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{engine_as_the_app_runs, Setup};

/// Each thread of this process, by id: its name and how often it has been switched in.
fn wake_ups() -> HashMap<String, (String, u64)> {
    let mut threads = HashMap::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let (Ok(name), Ok(status)) = (
            std::fs::read_to_string(task.path().join("comm")),
            std::fs::read_to_string(task.path().join("status")),
        ) else {
            continue; // the thread ended meanwhile
        };
        let switches = status
            .lines()
            .filter(|line| {
                line.starts_with("voluntary_ctxt_switches") || line.starts_with("nonvoluntary_ctxt_switches")
            })
            .filter_map(|line| line.split_whitespace().last()?.parse::<u64>().ok())
            .sum();
        threads.insert(task.file_name().to_string_lossy().into_owned(), (name.trim().to_owned(), switches));
    }
    threads
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_engine_wakes_no_thread() {
    let setup = Setup::new();
    let (_emulator, engine, scheduler) = engine_as_the_app_runs(&setup).await;
    engine.access_token("Mail", Duration::from_secs(60)).await.unwrap(); // as a script asks

    // Blocking the worker (not a timer) keeps the runtime itself asleep while we watch.
    std::thread::sleep(Duration::from_secs(2)); // start-up work ends; idle pool threads leave
    let before = wake_ups();
    std::thread::sleep(Duration::from_secs(3));
    let after = wake_ups();
    let me = this_thread_id();
    // A thread may wake once (a D-Bus signal from another test's process on this bus);
    // one on a timer wakes every few hundred milliseconds.
    let polling: Vec<String> = after
        .iter()
        .filter(|(id, _)| **id != me)
        .filter_map(|(id, (name, switches))| {
            let woke = switches - before.get(id).map_or(0, |(_, earlier)| *earlier);
            (woke > 1).then(|| format!("{name} (thread {id}) woke {woke} times"))
        })
        .collect();
    scheduler.abort();
    assert!(polling.is_empty(), "threads woke up while the engine was idle: {polling:?}");
}

/// This thread's id, as /proc/self/task names it.
fn this_thread_id() -> String {
    std::fs::read_link("/proc/thread-self").unwrap().file_name().unwrap().to_string_lossy().into_owned()
}
