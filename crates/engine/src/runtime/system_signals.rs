//! The machine waking from suspend and the network coming back: the scheduler looks
//! at every deadline again at once, rather than when its current sleep ends (the
//! monotonic clock it sleeps on stands still during suspend), and retries what was
//! waiting for the network.

use std::sync::Arc;

use crate::Engine;

impl Engine {
    /// Listens on the system bus for logind's PrepareForSleep(false) and
    /// NetworkManager reaching full connectivity. Without a system bus (containers,
    /// other systems) the scheduler's own periodic wake-up still catches up.
    pub fn watch_system_signals(self: &Arc<Self>) {
        #[cfg(target_os = "linux")]
        linux::watch(self.clone());
        #[cfg(not(target_os = "linux"))]
        let _ = self;
    }

    /// Something outside changed (woke up, back online): re-check now.
    pub fn wake_scheduler(&self) {
        self.wake.notify_one();
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::*;

    /// NetworkManager's NM_STATE_CONNECTED_GLOBAL.
    const CONNECTED_GLOBAL: u32 = 70;

    pub(super) fn watch(engine: Arc<Engine>) {
        let watch =
            |interface: &'static str, member: &'static str, woke: fn(&zbus::message::Message) -> bool| {
                let engine = engine.clone();
                std::thread::spawn(move || {
                    if let Err(error) = listen(&engine, interface, member, woke) {
                        tracing::info!(%error, interface, "not watching the system bus for {member}");
                    }
                });
            };
        watch("org.freedesktop.login1.Manager", "PrepareForSleep", |message| {
            message.body().deserialize::<bool>().is_ok_and(|going_to_sleep| !going_to_sleep)
        });
        watch("org.freedesktop.NetworkManager", "StateChanged", |message| {
            message.body().deserialize::<u32>().is_ok_and(|state| state == CONNECTED_GLOBAL)
        });
    }

    fn listen(
        engine: &Engine,
        interface: &'static str,
        member: &'static str,
        woke: fn(&zbus::message::Message) -> bool,
    ) -> zbus::Result<()> {
        let connection = zbus::blocking::Connection::system()?;
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(interface)?
            .member(member)?
            .build();
        for message in zbus::blocking::MessageIterator::for_match_rule(rule, &connection, Some(16))? {
            if woke(&message?) {
                tracing::info!(member, "woke up or back online; checking every connection now");
                engine.retry_soon();
                engine.wake_scheduler();
            }
        }
        Ok(())
    }
}
