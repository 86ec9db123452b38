//! The `flows` table: each sign-in attempt and how it ended.

use rusqlite::params;
use strum::AsRefStr;

use super::Store;
use crate::{Result, Timestamp};

/// Where a sign-in attempt stands.
#[derive(Debug, Clone, Copy, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum FlowStatus {
    Pending,
    Completed,
    Failed,
    Expired,
    Cancelled,
}

impl Store {
    pub fn record_flow_started(&self, flow_id: &str, provider_id: &str, at: Timestamp) -> Result<()> {
        self.execute(
            "INSERT INTO flows (id, provider_id, status, started_at) VALUES (?1, ?2, ?3, ?4)",
            params![flow_id, provider_id, FlowStatus::Pending, at],
        )
        .map(drop)
    }

    pub fn record_flow_finished(
        &self,
        flow_id: &str,
        status: FlowStatus,
        error_code: Option<&str>,
        connection_id: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        self.execute(
            "UPDATE flows SET status = ?2, error_code = ?3, connection_id = ?4, finished_at = ?5 WHERE id = ?1",
            params![flow_id, status, error_code, connection_id, at],
        )
        .map(drop)
    }
}
