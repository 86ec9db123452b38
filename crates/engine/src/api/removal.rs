//! What removing a connection did, as the window and the CLI report it.

use serde::Serialize;
use specta::Type;

/// What became of the grant behind a removed connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// Other connections still use the credential; nothing to revoke.
    StillInUse,
    /// The provider confirmed it.
    Revoked,
    /// The provider offers no way to revoke; its tokens were deleted here.
    NotOffered,
    /// Its tokens were no longer in the keychain (deleted or changed outside Grantkeeper),
    /// so nothing could be revoked with. Revoke access in the provider's account settings.
    TokensMissing,
    /// The provider could not be reached; Grantkeeper keeps trying.
    WillRetry,
    /// The provider refused (for example, the provider app's credentials changed);
    /// the tokens were deleted here. Revoke access in the provider's account settings.
    Refused,
}

/// The answer to "remove this connection".
#[derive(Debug, Clone, Serialize, Type)]
pub struct Removal {
    pub name: String,
    pub provider: String,
    pub revocation: Revocation,
    /// Why a revocation is pending or was refused, in plain words.
    pub detail: Option<String>,
}
