//! Connects N accounts (default 1,000) through the real flow against the provider
//! emulator, with token lifetimes spread over a few minutes, lets the engine's refresh
//! scheduler (the one the app runs) keep them alive, and prints: refreshes at the
//! provider (want exactly N), how many came before their token expired (want all), the
//! most token requests at once, and this process's CPU time and memory; then the CPU
//! time of an idle minute. Usage: refresh-load [N] [MIN_LIFETIME_S] [MAX_LIFETIME_S] [IDLE_S]

use std::sync::Arc;
use std::time::{Duration, Instant};

use grantkeeper_engine::api::ConnectOptions;
use grantkeeper_engine::oauth::Browser;
use grantkeeper_engine::{Config, Engine, Keychain, Timestamp};
use grantkeeper_test_support::{require_session, unique_keychain_service, ProviderEmulator};

fn arg(index: usize, default: u64) -> u64 {
    std::env::args().nth(index).and_then(|a| a.parse().ok()).unwrap_or(default)
}

/// (CPU seconds used so far, peak RSS MiB, current RSS MiB) of this process.
fn usage() -> (f64, f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib = |name: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap()
            .parse()
            .unwrap()
    };
    // Linux reports CPU time in clock ticks of 1/100 s (USER_HZ).
    (ticks / 100.0, kib("VmHWM:") / 1024.0, kib("VmRSS:") / 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    require_session();
    let (count, min_life, max_life, idle) = (arg(1, 1000), arg(2, 120), arg(3, 300), arg(4, 60));
    let emulator = ProviderEmulator::start();
    let base = format!("http://127.0.0.1:{}", emulator.port);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    http.get(format!("{base}/test/lifetimes?min={min_life}&max={max_life}")).send().await.unwrap();

    let home = tempfile::tempdir().unwrap();
    let service = unique_keychain_service();
    let config = Config::new(home.path().to_owned(), service.clone(), Browser::None);
    let engine = Engine::open(config, Arc::new(Keychain::new(service))).unwrap();
    let input = serde_json::from_value(emulator.provider_app("google", true)).unwrap();
    engine.set_provider_app("google", input).await.unwrap();

    // Sign in N different accounts; this program plays the browser.
    let started = Instant::now();
    for n in 0..count {
        http.get(format!("{base}/test/login?user=u{n}")).send().await.unwrap();
        let options = ConnectOptions { name: Some(format!("Load {n}")), ..ConnectOptions::default() };
        let pending = engine.connect("gmail", options).await.unwrap();
        let answer = http.get(pending.started.authorize_url.as_str()).send().await.unwrap();
        let callback = answer.headers()["location"].to_str().unwrap().to_owned();
        http.get(callback).send().await.unwrap();
        pending.outcome.await.unwrap().unwrap();
    }
    let connected_in = started.elapsed();
    let expiries: Vec<(String, Timestamp)> =
        engine.connections().unwrap().into_iter().map(|c| (c.id, c.expires_at.unwrap())).collect();

    let (cpu_before, _, _) = usage();
    let run_started = Instant::now();
    let scheduler = tokio::spawn(engine.clone().run_scheduler());
    let stats = || async {
        let stats: serde_json::Value =
            http.get(format!("{base}/test/stats")).send().await.unwrap().json().await.unwrap();
        (stats["refresh_requests"].as_u64().unwrap(), stats["most_in_flight"].as_u64().unwrap())
    };
    let deadline = Instant::now() + Duration::from_secs(max_life + 60);
    while stats().await.0 < count && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // Anything extra would show up now.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let run_time = run_started.elapsed();
    let (cpu_after, peak_mib, rss_mib) = usage();
    let (refreshes, most_in_flight) = stats().await;
    let connections = engine.connections().unwrap();
    let in_time = expiries
        .iter()
        .filter(|(id, expiry)| {
            connections
                .iter()
                .find(|c| &c.id == id)
                .and_then(|c| c.last_refreshed_at)
                .is_some_and(|at| at < *expiry)
        })
        .count();

    println!("credentials                       {count}");
    println!("token lifetimes                   {min_life}-{max_life} s (spread at random)");
    println!("connected through the flow in     {:.1} s", connected_in.as_secs_f64());
    println!("refresh requests at the provider  {refreshes} (want {count})");
    println!("refreshed before their expiry     {in_time} of {count}");
    println!("most token requests at once       {most_in_flight}");
    println!("scheduler run                     {:.0} s", run_time.as_secs_f64());
    println!("CPU time during the run           {:.2} s", cpu_after - cpu_before);
    println!("peak / current RSS                {peak_mib:.0} / {rss_mib:.0} MiB");

    let (idle_before, _, _) = usage();
    tokio::time::sleep(Duration::from_secs(idle)).await;
    let (idle_after, _, _) = usage();
    println!("CPU time over {idle} idle seconds     {:.3} s", idle_after - idle_before);
    scheduler.abort();
    let ok = refreshes == count && in_time as u64 == count;
    std::process::exit(if ok { 0 } else { 1 });
}
