//! The system browser, opened through the XDG desktop portal: the authorize URL goes
//! over the session bus, never onto a command line that every local user can read in
//! /proc. The portal here is a stand-in on the test session's private bus (the other
//! side of the D-Bus interface): it takes the URL and signs in as a browser would.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{named, started, use_emulator, Setup};
use grantkeeper_engine::oauth::Browser;
use grantkeeper_engine::ConnectionStatus;
use grantkeeper_test_support::ProviderEmulator;
use tokio::sync::mpsc;
use zbus::zvariant::{OwnedObjectPath, OwnedValue};

struct StandInPortal {
    asked: mpsc::UnboundedSender<String>,
}

#[zbus::interface(name = "org.freedesktop.portal.OpenURI")]
impl StandInPortal {
    #[zbus(name = "OpenURI")]
    fn open_uri(
        &self,
        _parent_window: &str,
        uri: &str,
        _options: HashMap<String, OwnedValue>,
    ) -> zbus::fdo::Result<OwnedObjectPath> {
        self.asked.send(uri.to_owned()).map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?;
        Ok(OwnedObjectPath::try_from("/org/freedesktop/portal/desktop/request/1_0/grantkeeper").unwrap())
    }
}

/// Every command line seen in /proc until stopped, read over and over on a thread.
struct CommandLines {
    seen: Arc<Mutex<HashSet<String>>>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl CommandLines {
    fn watch() -> Self {
        let (seen, stop) = (Arc::new(Mutex::new(HashSet::new())), Arc::new(AtomicBool::new(false)));
        let thread = std::thread::spawn({
            let (seen, stop) = (seen.clone(), stop.clone());
            move || {
                while !stop.load(Ordering::Relaxed) {
                    let lines = std::fs::read_dir("/proc").unwrap().flatten().filter_map(|entry| {
                        let line = std::fs::read(entry.path().join("cmdline")).ok()?;
                        Some(String::from_utf8_lossy(&line).replace('\0', " "))
                    });
                    seen.lock().unwrap().extend(lines);
                }
            }
        });
        CommandLines { seen, stop, thread }
    }

    fn stop(self) -> HashSet<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        Arc::try_unwrap(self.seen).unwrap().into_inner().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_system_browser_gets_the_authorize_url_through_the_desktop_portal() {
    let setup = Setup::new();
    let emulator = ProviderEmulator::start();
    let (asked, mut asks) = mpsc::unbounded_channel();
    let _portal = zbus::connection::Builder::session()
        .unwrap()
        .name("org.freedesktop.portal.Desktop")
        .unwrap()
        .serve_at("/org/freedesktop/portal/desktop", StandInPortal { asked })
        .unwrap()
        .build()
        .await
        .unwrap();
    let engine = setup.engine_opening(Browser::System);
    use_emulator(&engine, &emulator, "github", true).await;

    let command_lines = CommandLines::watch();
    let pending = engine.connect("github", named("GitHub")).await.unwrap();
    let flow = started(&pending.started);
    let opened = tokio::time::timeout(Duration::from_secs(20), asks.recv())
        .await
        .expect("the desktop portal was asked to open the sign-in")
        .unwrap();
    assert_eq!(opened, pending.started.authorize_url, "the portal got the exact authorize URL");

    // The portal's browser: the provider signs in and sends it back to the listener.
    let callback = reqwest::get(&opened).await.unwrap();
    assert_eq!(callback.url().port(), Some(flow.port), "the browser came back to the listener");
    let connection = pending.outcome.await.unwrap().unwrap();
    let command_lines = command_lines.stop();

    assert_eq!(connection.status, ConnectionStatus::Active);
    assert_eq!(connection.account.as_deref(), Some("ada"));
    assert!(command_lines.len() > 1, "the watch read /proc: {command_lines:?}");
    let leaked: Vec<_> = command_lines.iter().filter(|line| line.contains(&flow.state)).collect();
    assert!(leaked.is_empty(), "the flow's state was on a command line: {leaked:?}");
}
