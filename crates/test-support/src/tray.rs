//! The desktop's side of the tray protocol, for tests: a StatusNotifierWatcher on the
//! session bus (what a panel such as GNOME's AppIndicator extension or KDE's system tray
//! runs). The app's tray icon registers with it; the test then reads the icon and the
//! menu the way a panel does, and clicks menu items (com.canonical.dbusmenu).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::blocking::{connection, Connection};
use zbus::message::Header;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

const ITEM: &str = "org.kde.StatusNotifierItem";
const MENU: &str = "com.canonical.dbusmenu";

/// Registered items: (bus name of the app, object path of its item).
type Items = Arc<Mutex<Vec<(String, String)>>>;

struct Watcher {
    items: Items,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(&self, service: &str, #[zbus(header)] header: Header<'_>) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        // libappindicator sends its object path; others send a bus name.
        let (name, path) = if service.starts_with('/') {
            (sender, service.to_owned())
        } else {
            (service.to_owned(), "/StatusNotifierItem".to_owned())
        };
        self.items.lock().unwrap().push((name, path));
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().unwrap().iter().map(|(name, path)| format!("{name}{path}")).collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

pub struct TrayHost {
    connection: Connection,
    items: Items,
}

/// One entry of the tray's menu.
#[derive(Debug, Clone)]
pub struct MenuEntry {
    pub id: i32,
    pub label: String,
}

impl TrayHost {
    /// Starts the watcher; start it before the app so the app finds it at once.
    pub fn start() -> Self {
        let items = Items::default();
        let connection = connection::Builder::session()
            .and_then(|b| b.name("org.kde.StatusNotifierWatcher"))
            .and_then(|b| b.serve_at("/StatusNotifierWatcher", Watcher { items: items.clone() }))
            .and_then(|b| b.build())
            .expect("a StatusNotifierWatcher on the session bus");
        TrayHost { connection, items }
    }

    /// The most recently registered item (the app's tray icon), waiting for it.
    fn item(&self) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(item) = self.items.lock().unwrap().last().cloned() {
                return item;
            }
            assert!(Instant::now() < deadline, "no tray icon registered with the StatusNotifierWatcher");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn property(&self, interface: &str, path: &str, name: &str) -> OwnedValue {
        let (bus_name, _) = self.item();
        let proxy = zbus::blocking::fdo::PropertiesProxy::builder(&self.connection)
            .destination(bus_name)
            .and_then(|b| b.path(path.to_owned()))
            .and_then(|b| b.build())
            .expect("a properties proxy");
        proxy
            .get(interface.try_into().expect("an interface name"), name)
            .unwrap_or_else(|e| panic!("reading {interface}.{name}: {e}"))
    }

    /// The PNG file the tray shows now.
    pub fn icon_file(&self) -> PathBuf {
        let (_, path) = self.item();
        let name = String::try_from(self.property(ITEM, &path, "IconName")).expect("IconName is a string");
        if name.starts_with('/') {
            return PathBuf::from(name);
        }
        let theme_path =
            String::try_from(self.property(ITEM, &path, "IconThemePath")).expect("IconThemePath is a string");
        PathBuf::from(theme_path).join(format!("{name}.png"))
    }

    /// The menu's entries, top to bottom, without separators.
    pub fn menu(&self) -> Vec<MenuEntry> {
        let (bus_name, path) = self.item();
        let menu_path =
            OwnedObjectPath::try_from(self.property(ITEM, &path, "Menu")).expect("Menu is a path");
        let reply = self
            .connection
            .call_method(
                Some(bus_name.as_str()),
                menu_path.as_str(),
                Some(MENU),
                "GetLayout",
                &(0i32, -1i32, Vec::<&str>::new()),
            )
            .expect("GetLayout answers");
        type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);
        let (_revision, (_, _, children)): (u32, Layout) =
            reply.body().deserialize().expect("a dbusmenu layout");
        children
            .into_iter()
            .filter_map(|child| {
                let (id, properties, _): Layout = child.try_into().ok()?;
                let label = properties.get("label").and_then(|v| String::try_from(v.clone()).ok())?;
                Some(MenuEntry { id, label: as_shown(&label) })
            })
            .collect()
    }

    /// Clicks the menu entry whose label contains `text`, as a panel does.
    pub fn click(&self, text: &str) {
        let entry = self
            .menu()
            .into_iter()
            .find(|e| e.label.contains(text))
            .unwrap_or_else(|| panic!("no menu entry with {text:?} in {:?}", self.menu()));
        let (bus_name, path) = self.item();
        let menu_path =
            OwnedObjectPath::try_from(self.property(ITEM, &path, "Menu")).expect("Menu is a path");
        let timestamp = 0u32;
        self.connection
            .call_method(
                Some(bus_name.as_str()),
                menu_path.as_str(),
                Some(MENU),
                "Event",
                &(entry.id, "clicked", Value::from(0i32), timestamp),
            )
            .expect("the menu takes the click");
    }

    /// Waits until the menu satisfies `check`; returns it.
    pub fn wait_for_menu(&self, check: impl Fn(&[MenuEntry]) -> bool) -> Vec<MenuEntry> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let menu = self.menu();
            if check(&menu) {
                return menu;
            }
            assert!(Instant::now() < deadline, "the tray menu never became as expected: {menu:?}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A dbusmenu label as a panel shows it: `_` marks the access key and `__` is an
/// underscore (the dbusmenu specification's `label` property).
fn as_shown(label: &str) -> String {
    let mut shown = String::with_capacity(label.len());
    let mut chars = label.chars();
    while let Some(c) = chars.next() {
        match c {
            // The character after it is shown as it is, an underscore included.
            '_' => shown.extend(chars.next()),
            other => shown.push(other),
        }
    }
    shown
}
