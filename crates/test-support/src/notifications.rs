//! The desktop's notification server, for tests: org.freedesktop.Notifications on the
//! session bus (what GNOME Shell or dunst runs). It keeps every notification it is
//! sent, and clicks one the way a server reports a click: the `ActionInvoked` signal
//! with the `default` action. A notification its sender closes is marked closed, and
//! the `NotificationClosed` signal says so, as the specification has it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::blocking::{connection, Connection};
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue;

const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";

/// A notification as the server received it.
#[derive(Debug, Clone)]
pub struct ShownNotification {
    pub id: u32,
    pub summary: String,
    pub body: String,
    /// Action keys offered (`default` is a click on the notification itself).
    pub actions: Vec<String>,
    /// Its sender withdrew it (`CloseNotification`).
    pub closed: bool,
    sender: String,
}

type Shown = Arc<Mutex<Vec<ShownNotification>>>;

struct Server {
    shown: Shown,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)] // the specification's signature
    fn notify(
        &self,
        _app_name: &str,
        _replaces_id: u32,
        _app_icon: &str,
        summary: &str,
        body: &str,
        actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
        #[zbus(header)] header: Header<'_>,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap();
        let id = shown.len() as u32 + 1;
        shown.push(ShownNotification {
            id,
            summary: summary.to_owned(),
            body: body.to_owned(),
            // Pairs of key and label.
            actions: actions.chunks(2).map(|pair| pair[0].clone()).collect(),
            closed: false,
            sender: header.sender().map(|s| s.to_string()).unwrap_or_default(),
        });
        id
    }

    async fn close_notification(&self, id: u32, #[zbus(signal_emitter)] emitter: SignalEmitter<'_>) {
        let closed_now = {
            let mut shown = self.shown.lock().unwrap();
            match shown.iter_mut().find(|n| n.id == id && !n.closed) {
                Some(open) => {
                    open.closed = true;
                    true
                }
                None => false,
            }
        };
        if closed_now {
            // Reason 3: closed by a call to CloseNotification.
            Self::notification_closed(&emitter, id, 3).await.expect("NotificationClosed is sent");
        }
    }

    #[zbus(signal)]
    async fn notification_closed(emitter: &SignalEmitter<'_>, id: u32, reason: u32) -> zbus::Result<()>;

    /// As GNOME Shell, Plasma and dunst say: the body is read as markup.
    fn get_capabilities(&self) -> Vec<&str> {
        vec!["body", "body-markup", "actions"]
    }

    fn get_server_information(&self) -> (&str, &str, &str, &str) {
        ("grantkeeper-test", "grantkeeper", "1", "1.2")
    }
}

pub struct NotificationServer {
    connection: Connection,
    shown: Shown,
}

impl NotificationServer {
    /// Starts serving; start it before the app.
    pub fn start() -> Self {
        let shown = Shown::default();
        let connection = connection::Builder::session()
            .and_then(|b| b.name(INTERFACE))
            .and_then(|b| b.serve_at(PATH, Server { shown: shown.clone() }))
            .and_then(|b| b.build())
            .expect("a notification server on the session bus");
        NotificationServer { connection, shown }
    }

    pub fn shown(&self) -> Vec<ShownNotification> {
        self.shown.lock().unwrap().clone()
    }

    /// Waits for a notification whose summary contains `text`; then a moment more, so a
    /// second one would have arrived too. Returns all shown so far.
    pub fn wait_for(&self, text: &str) -> Vec<ShownNotification> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.shown().iter().any(|n| n.summary.contains(text)) {
            assert!(Instant::now() < deadline, "no notification with {text:?}: {:?}", self.shown());
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
        self.shown()
    }

    /// Waits until the notifications whose summary contains `text` are all withdrawn.
    pub fn wait_until_withdrawn(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let open = || self.shown().into_iter().filter(|n| n.summary.contains(text) && !n.closed).count();
        while open() > 0 {
            assert!(Instant::now() < deadline, "{text:?} is still shown: {:?}", self.shown());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the notification whose summary contains `text`.
    pub fn click(&self, text: &str) {
        let notification = self.shown().into_iter().rev().find(|n| n.summary.contains(text)).expect("shown");
        assert!(
            notification.actions.iter().any(|a| a == "default"),
            "the notification offers no click action: {notification:?}"
        );
        self.connection
            .emit_signal(
                Some(notification.sender.as_str()),
                PATH,
                INTERFACE,
                "ActionInvoked",
                &(notification.id, "default"),
            )
            .expect("ActionInvoked is sent");
    }
}
