//! Moments the engine keeps — expiries, refresh deadlines, creation and retry times — as a
//! time type; RFC 3339 text to the second in SQLite, where text order is time order, and
//! wherever they are shown.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use specta::datatype::DataType;
use specta::{Type, Types};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp(OffsetDateTime::now_utc())
    }

    pub fn parse(text: &str) -> Option<Timestamp> {
        OffsetDateTime::parse(text, &Rfc3339).ok().map(Timestamp)
    }

    /// RFC 3339, whole seconds.
    pub fn to_rfc3339(self) -> String {
        let at = self.0.replace_nanosecond(0).unwrap_or(self.0);
        at.format(&Rfc3339).expect("RFC 3339 formats any UTC time")
    }

    pub fn offset_date_time(self) -> OffsetDateTime {
        self.0
    }
}

impl Timestamp {
    /// `wait` later, unless that is past any date this type can hold.
    pub fn checked_add(self, wait: Duration) -> Option<Timestamp> {
        self.0.checked_add(time::Duration::try_from(wait).ok()?).map(Timestamp)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(at: OffsetDateTime) -> Self {
        Timestamp(at)
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;

    fn add(self, wait: Duration) -> Timestamp {
        Timestamp(self.0 + wait)
    }
}

impl Sub for Timestamp {
    type Output = time::Duration;

    fn sub(self, earlier: Timestamp) -> time::Duration {
        self.0 - earlier.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// RFC 3339 text across IPC and in `--json`, as in SQLite.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).ok_or_else(|| de::Error::custom(format!("“{text}” is not an RFC 3339 time")))
    }
}

/// Typed as the RFC 3339 string it serializes to.
impl Type for Timestamp {
    fn definition(types: &mut Types) -> DataType {
        String::definition(types)
    }
}

impl ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_rfc3339()))
    }
}

impl FromSql for Timestamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        Timestamp::parse(text)
            .ok_or_else(|| FromSqlError::Other(format!("“{text}” is not an RFC 3339 time").into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_as_rfc3339_to_the_second() {
        let at = Timestamp::parse("2026-12-04T16:14:12.734Z").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-04T16:14:12Z");
        assert_eq!((at + Duration::from_secs(60)).to_string(), "2026-12-04T16:15:12Z");
        assert!(Timestamp::parse("yesterday").is_none());
    }

    #[test]
    fn crosses_ipc_as_rfc3339_text() {
        let at = Timestamp::parse("2026-12-04T16:14:12Z").unwrap();
        assert_eq!(serde_json::to_string(&at).unwrap(), "\"2026-12-04T16:14:12Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>("\"2026-12-04T16:14:12Z\"").unwrap(), at);
        let error = serde_json::from_str::<Timestamp>("\"tomorrow\"").unwrap_err();
        assert!(error.to_string().contains("not an RFC 3339 time"), "{error}");
    }
}
