//! The `credentials` table: one grant (or API key) per account at a provider, with its
//! status and refresh bookkeeping.

use std::collections::BTreeMap;

use rusqlite::{params, Connection as Db, OptionalExtension, Row};

use super::{
    from_columns, json_list, list_column, status_column, NewConnectionRow, PendingRevocation, Store, TableRow,
};
use crate::api::ConnectionStatus;
use crate::credential::GrantTimes;
use crate::provider::SignedInAddresses;
use crate::{Error, Result, Timestamp};

/// What [`Store::save_grant`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantSaved {
    Saved,
    /// Another sign-in to the account was kept since the credential was read; nothing
    /// was written.
    ChangedMeanwhile,
}

#[derive(Debug, Clone)]
pub struct CredentialRecord {
    pub id: String,
    pub provider_id: String,
    pub subject: String,
    pub account: Option<String>,
    pub scopes: Vec<String>,
    pub token_secret_key: String,
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    pub times: GrantTimes,
    pub last_refreshed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub kind: CredentialKind,
    /// Set while a refresh is under way (the entry its tokens will go to).
    pub pending_token_key: Option<String>,
    /// Where it was signed in; None for an API key, or a grant from before they were kept.
    pub addresses: Option<SignedInAddresses>,
    /// When the person last signed in for it (not a refresh); None for an API key, or a
    /// grant from before it was kept.
    pub signed_in_at: Option<Timestamp>,
    /// Fields of the token answer the catalog keeps (Salesforce's `instance_url`).
    pub token_details: BTreeMap<String, String>,
}

impl TableRow for CredentialRecord {
    const SELECT: &'static str = "SELECT id, provider_id, subject, account, scopes, token_secret_key,
        status, expires_at, last_refreshed_at, created_at, status_reason, refresh_due_at, key_fields,
        refresh_token_expires_at, pending_token_key, addresses, signed_in_at, token_details FROM credentials";

    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(from_columns!(row => CredentialRecord {
            id, provider_id, subject, account, token_secret_key, status_reason, last_refreshed_at, created_at,
            pending_token_key, addresses, signed_in_at;
            times: from_columns!(row => GrantTimes { expires_at, refresh_due_at, refresh_token_expires_at }),
            kind: CredentialKind::of_column(row.get("key_fields")?)?,
            token_details: super::details_column(row)?,
            scopes: list_column(row, "scopes")?,
            status: status_column(row)?
        }))
    }
}

/// What a credential holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialKind {
    /// An OAuth grant: access, refresh and ID tokens in the keychain.
    OAuth,
    /// An API key in the keychain, with the fields of it that are not secret (an
    /// Account SID, the API's address).
    ApiKey { fields: BTreeMap<String, String> },
}

impl CredentialKind {
    /// The `key_fields` column: NULL for a grant, a JSON object for an API key.
    fn of_column(key_fields: Option<String>) -> rusqlite::Result<CredentialKind> {
        let Some(text) = key_fields else { return Ok(CredentialKind::OAuth) };
        let fields = serde_json::from_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })?;
        Ok(CredentialKind::ApiKey { fields })
    }

    fn key_fields_column(&self) -> Option<String> {
        match self {
            CredentialKind::OAuth => None,
            CredentialKind::ApiKey { fields } => {
                Some(serde_json::to_string(fields).expect("strings serialize"))
            }
        }
    }
}

pub struct RecordedRefresh {
    pub credential_id: String,
    pub previous_key: String,
    pub new_key: String,
    pub at: Timestamp,
    /// Its refresh token's lapse only where the provider said (else the kept one stays).
    pub times: GrantTimes,
    /// Granted scopes, when the token response named them.
    pub scopes: Option<Vec<String>>,
    /// Kept fields the refresh answer named (the others stay as they were).
    pub token_details: BTreeMap<String, String>,
}

impl Store {
    pub fn credential_for_subject(
        &self,
        provider_id: &str,
        subject: &str,
    ) -> Result<Option<CredentialRecord>> {
        self.first_row("WHERE provider_id = ?1 AND subject = ?2", [provider_id, subject])
    }

    pub fn credentials_at(&self, provider_id: &str) -> Result<Vec<CredentialRecord>> {
        self.rows("WHERE provider_id = ?1 ORDER BY created_at", [provider_id])
    }

    /// Credentials the person can still use (not waiting for reauthorization).
    pub fn usable_credentials(&self) -> Result<Vec<CredentialRecord>> {
        self.rows("WHERE status != ?1", [ConnectionStatus::Reauthorize])
    }

    pub fn credential(&self, credential_id: &str) -> Result<CredentialRecord> {
        self.first_row("WHERE id = ?1", [credential_id])?
            .ok_or_else(|| Error::NotFound { what: "credential", key: credential_id.to_owned() })
    }

    /// Stores a new or re-authorized credential and, in the same transaction, the new
    /// connection on it (when given), provided the credential is as it was read: none
    /// for the account yet when `replaced` is None, else still holding the tokens kept
    /// under `replaced`. Another process's sign-in to the account may have finished
    /// since; then nothing is written, and the caller reads again and merges into what
    /// is there. The credential's keychain entry must already hold the tokens.
    pub fn save_grant(
        &self,
        credential: &CredentialRecord,
        connection: Option<&NewConnectionRow>,
        replaced: Option<&str>,
    ) -> Result<GrantSaved> {
        self.with(|db| {
            // Immediate (as every transaction here): what is checked below cannot change
            // before the commit.
            let tx = db.transaction()?;
            let kept: Option<String> = tx
                .query_row(
                    "SELECT token_secret_key FROM credentials WHERE provider_id = ?1 AND subject = ?2",
                    params![credential.provider_id, credential.subject],
                    |row| row.get(0),
                )
                .optional()?;
            if kept.as_deref() != replaced {
                return Ok(GrantSaved::ChangedMeanwhile);
            }
            tx.execute(
                "INSERT INTO credentials (id, provider_id, subject, account, scopes, token_secret_key,
                    status, status_reason, expires_at, last_refreshed_at, created_at, refresh_due_at, key_fields,
                    refresh_token_expires_at, addresses, signed_in_at, token_details)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT (id) DO UPDATE SET account = excluded.account, scopes = excluded.scopes,
                    token_secret_key = excluded.token_secret_key, status = excluded.status,
                    status_reason = NULL, expires_at = excluded.expires_at,
                    last_refreshed_at = excluded.last_refreshed_at, refresh_due_at = excluded.refresh_due_at,
                    key_fields = excluded.key_fields,
                    refresh_token_expires_at = excluded.refresh_token_expires_at, pending_token_key = NULL,
                    addresses = excluded.addresses, signed_in_at = excluded.signed_in_at,
                    token_details = excluded.token_details",
                params![
                    credential.id,
                    credential.provider_id,
                    credential.subject,
                    credential.account,
                    json_list(&credential.scopes),
                    credential.token_secret_key,
                    credential.status,
                    credential.times.expires_at,
                    credential.last_refreshed_at,
                    credential.created_at,
                    credential.times.refresh_due_at,
                    credential.kind.key_fields_column(),
                    credential.times.refresh_token_expires_at,
                    credential.addresses,
                    credential.signed_in_at,
                    super::details_text(&credential.token_details),
                ],
            )?;
            if let Some(connection) = connection {
                connection.insert(&tx, &credential.id)?;
            }
            tx.commit().map(|()| GrantSaved::Saved)
        })
    }

    /// Points the credential at its refreshed tokens, unless another process changed it
    /// meanwhile (then returns false and the caller's new keychain entry is unused).
    pub fn record_refresh(&self, refresh: &RecordedRefresh) -> Result<bool> {
        let changed = self.execute(
            "UPDATE credentials SET token_secret_key = ?3, expires_at = ?4, last_refreshed_at = ?5,
                scopes = coalesce(?6, scopes), status = ?9, status_reason = NULL,
                refresh_due_at = ?7, refresh_token_expires_at = coalesce(?8, refresh_token_expires_at),
                pending_token_key = NULL,
                token_details = CASE WHEN ?10 IS NULL THEN token_details
                    ELSE json_patch(coalesce(token_details, '{}'), ?10) END
             WHERE id = ?1 AND token_secret_key = ?2",
            params![
                refresh.credential_id,
                refresh.previous_key,
                refresh.new_key,
                refresh.times.expires_at,
                refresh.at,
                refresh.scopes.as_deref().map(json_list),
                refresh.times.refresh_due_at,
                refresh.times.refresh_token_expires_at,
                ConnectionStatus::Active,
                super::details_text(&refresh.token_details),
            ],
        )?;
        Ok(changed == 1)
    }

    /// Keeps where a credential from before addresses were kept is used from now on.
    pub fn keep_addresses(&self, credential_id: &str, addresses: &SignedInAddresses) -> Result<()> {
        self.execute(
            "UPDATE credentials SET addresses = ?2 WHERE id = ?1 AND addresses IS NULL",
            params![credential_id, addresses],
        )
        .map(drop)
    }

    /// A refresh is about to send the refresh token; its tokens will go to `new_key`.
    pub fn begin_refresh(&self, credential_id: &str, new_key: &str) -> Result<()> {
        self.set_pending_token_key(credential_id, Some(new_key))
    }

    /// The refresh attempt ended without new tokens to keep.
    pub fn end_refresh(&self, credential_id: &str) -> Result<()> {
        self.set_pending_token_key(credential_id, None)
    }

    fn set_pending_token_key(&self, credential_id: &str, key: Option<&str>) -> Result<()> {
        self.execute(
            "UPDATE credentials SET pending_token_key = ?2 WHERE id = ?1",
            params![credential_id, key],
        )
        .map(drop)
    }

    /// An interrupted refresh had written its tokens: they become the credential's.
    pub fn adopt_pending(&self, credential_id: &str, key: &str) -> Result<()> {
        self.execute(
            "UPDATE credentials SET token_secret_key = ?2, pending_token_key = NULL
             WHERE id = ?1 AND pending_token_key = ?2",
            params![credential_id, key],
        )
        .map(drop)
    }

    /// Reauthorize, if the credential still holds the tokens kept under `token_key`, which
    /// the verdict is about; false when another process renewed it meanwhile (a
    /// reconnect, a refresh), which the verdict must not undo.
    pub fn mark_reauthorize(&self, credential_id: &str, token_key: &str, reason: &str) -> Result<bool> {
        self.execute(
            "UPDATE credentials SET status = ?3, status_reason = ?2, refresh_due_at = NULL,
                pending_token_key = NULL
             WHERE id = ?1 AND token_secret_key = ?4",
            params![credential_id, reason, ConnectionStatus::Reauthorize, token_key],
        )
        .map(|changed| changed == 1)
    }

    /// A refresh failed for a reason that may pass: the connection stays usable, marked
    /// "retrying", and the scheduler tries again at `retry_at`, or not before the time the
    /// provider said to come back (`not_before`), where it said one.
    pub fn mark_retrying(
        &self,
        credential_id: &str,
        reason: &str,
        retry_at: Timestamp,
        not_before: Option<Timestamp>,
    ) -> Result<()> {
        self.execute(
            "UPDATE credentials SET status = ?4, status_reason = ?2, refresh_due_at = ?3, retry_not_before = ?6
             WHERE id = ?1 AND status != ?5",
            params![
                credential_id,
                reason,
                retry_at,
                ConnectionStatus::Retrying,
                ConnectionStatus::Reauthorize,
                not_before
            ],
        )
        .map(drop)
    }

    /// Nothing more to schedule for this credential (it cannot be refreshed).
    pub fn clear_refresh_due(&self, credential_id: &str) -> Result<()> {
        self.set_refresh_due(credential_id, None)
    }

    /// When the scheduler should next refresh or check this credential (None: never).
    pub fn set_refresh_due(&self, credential_id: &str, due: Option<Timestamp>) -> Result<()> {
        self.execute("UPDATE credentials SET refresh_due_at = ?2 WHERE id = ?1", params![credential_id, due])
            .map(drop)
    }

    /// Credentials retrying after a transient failure are due at `now`, or when their
    /// provider said to come back.
    pub fn retry_now(&self, now: Timestamp) -> Result<()> {
        self.execute(
            "UPDATE credentials SET refresh_due_at = coalesce(retry_not_before, ?1) WHERE status = ?2",
            params![now, ConnectionStatus::Retrying],
        )
        .map(drop)
    }

    /// On start: credentials without an expiry are checked soon, not a full interval
    /// after the last check.
    pub fn check_unexpiring_soon(&self, due: Timestamp) -> Result<()> {
        self.execute(
            "UPDATE credentials SET refresh_due_at = ?1
             WHERE expires_at IS NULL AND status IN (?2, ?3)",
            params![due, ConnectionStatus::Active, ConnectionStatus::Retrying],
        )
        .map(drop)
    }

    /// The earliest scheduled refresh: (credential id, due time).
    pub fn next_refresh_due(&self) -> Result<Option<(String, Timestamp)>> {
        self.with(|db| {
            db.query_row(
                "SELECT id, refresh_due_at FROM credentials
                 WHERE refresh_due_at IS NOT NULL AND status IN (?1, ?2)
                 ORDER BY refresh_due_at LIMIT 1",
                [ConnectionStatus::Active, ConnectionStatus::Retrying],
                |row| Ok((row.get("id")?, row.get("refresh_due_at")?)),
            )
            .optional()
        })
    }
}

/// Deletes a credential; returns the revocation of its grant, named `subject` (the
/// removed connection's name), first due `at`.
pub(super) fn delete(
    db: &Db,
    credential_id: &str,
    subject: String,
    at: Timestamp,
) -> rusqlite::Result<PendingRevocation> {
    let pending = db.query_row(
        "SELECT provider_id, token_secret_key, addresses, subject FROM credentials WHERE id = ?1",
        [credential_id],
        |row| {
            Ok(PendingRevocation {
                credential_id: credential_id.to_owned(),
                provider_id: row.get("provider_id")?,
                token_secret_key: row.get("token_secret_key")?,
                subject,
                attempts: 0,
                next_attempt_at: Some(at),
                addresses: row.get("addresses")?,
                account_subject: row.get("subject")?,
            })
        },
    )?;
    db.execute("DELETE FROM credentials WHERE id = ?1", [credential_id])?;
    Ok(pending)
}
