//! Connection names: a person's label, 1 to 100 printable characters, unique without
//! regard to case; the id stays whatever the name.

use crate::api::Connection;
use crate::store::Renamed;
use crate::{Engine, EngineEvent, Error, Result};

impl Engine {
    /// Gives a connection another name; its id stays.
    pub fn rename_connection(&self, key: &str, name: &str) -> Result<Connection> {
        let connection = self.connection(key)?;
        let name = self.check_name(name.trim())?;
        // A change of case only is a rename too; any other taken name is refused.
        if !name.eq_ignore_ascii_case(&connection.name) {
            self.connection_name(Some(name.clone()), &connection.name)?;
        }
        match self.store.rename_connection(&connection.id, &connection.name, &name)? {
            Renamed::Renamed => {}
            Renamed::NameTaken => return Err(name_taken(&name)),
            // Another program renamed or removed it since it was found: this rename is
            // not done, and must not be said to be.
            Renamed::ChangedMeanwhile => {
                return Err(Error::NotFound { what: "connection", key: key.to_owned() })
            }
        }
        self.events.publish(EngineEvent::ConnectionsChanged);
        self.connection(&connection.id)
    }

    fn check_name(&self, name: &str) -> Result<String> {
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(crate::error::misleads) {
            return Err(Error::invalid("name", "A connection name is 1 to 100 printable characters."));
        }
        Ok(name.to_owned())
    }

    pub(crate) fn connection_name(&self, requested: Option<String>, default: &str) -> Result<String> {
        let Some(name) = requested.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) else {
            return self.store.free_connection_name(default);
        };
        let name = self.check_name(&name)?;
        // Ids are what scripts and AI clients' configurations keep: a name must not
        // take one over.
        let as_id = name.to_lowercase();
        let holder = self.store.connections_matching(&as_id)?.into_iter().find(|c| c.id == as_id);
        if let Some(holder) = holder {
            return Err(Error::invalid(
                "name",
                format!("“{name}” is the id of “{}”. Choose another name.", holder.name),
            ));
        }
        if self.store.free_connection_name(&name)? != name {
            return Err(name_taken(&name));
        }
        Ok(name)
    }
}

fn name_taken(name: &str) -> Error {
    Error::AlreadyExists(format!("A connection named “{name}” already exists. Choose another name."))
}
