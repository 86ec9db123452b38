//! The app-wide switch "Require the app": programs get tokens only through the running
//! app's agent, never straight from the keychain.

use crate::store::REQUIRE_APP;
use crate::{Engine, EngineEvent, Result};

impl Engine {
    pub fn require_app(&self) -> Result<bool> {
        Ok(self.store.setting(REQUIRE_APP)?.as_deref() == Some("1"))
    }

    pub fn set_require_app(&self, required: bool) -> Result<()> {
        self.store.set_setting(REQUIRE_APP, if required { "1" } else { "0" })?;
        self.events.publish(EngineEvent::ConnectionsChanged);
        Ok(())
    }
}
