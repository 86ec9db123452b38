//! Handing a connection's token to a program: after the connection's consent policy
//! (asking the person where it says to), from the app's memory when the token there is
//! still the keychain's and lasts long enough, with every hand-out and refusal in the
//! activity log.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::protocol::fingerprint;
use crate::api::{
    AllowedProgram, Connection, ConsentAnswer, ConsentPolicy, ConsentRequest, EventKind, Program,
};
use crate::store::NewEvent;
use crate::{Engine, Error, Result, Secret, Timestamp};

/// Tokens handed out before, by credential id. Each is the token set kept under
/// `token_key`: when the credential's tokens move to another keychain entry (a
/// refresh, a reconnect), it is no longer used.
#[derive(Default)]
pub(crate) struct TokenMemory(Mutex<HashMap<String, Remembered>>);

struct Remembered {
    token_key: String,
    token: Secret,
    expires_at: Option<Timestamp>,
}

/// Why a program got the token, for the activity log.
enum AllowedBy {
    Once,
    Always { since: Timestamp },
    NeverAsks,
}

impl AllowedBy {
    fn detail(&self) -> String {
        match self {
            AllowedBy::Once => "allowed once".into(),
            AllowedBy::Always { since } => format!("allowed always, since {}", since.to_rfc3339()),
            AllowedBy::NeverAsks => "the connection never asks".into(),
        }
    }
}

impl Engine {
    /// `program`'s request for a connection's token, as the token agent serves it.
    pub async fn hand_out(
        &self,
        program: &Program,
        key: &str,
        min_ttl: Duration,
        require_scopes: &[String],
    ) -> Result<(Connection, Secret)> {
        let connection = self.connection(key)?;
        self.require_scopes(&connection.id, require_scopes)?;
        let allowed_by = self.consent_for(&connection, program).await?;
        let (connection, token) = self.remembered_token(&connection, min_ttl).await?;
        self.record_hand_out(EventKind::TokenHandedOut, &connection, program, &allowed_by.detail())?;
        Ok((connection, token))
    }

    async fn consent_for(&self, connection: &Connection, program: &Program) -> Result<AllowedBy> {
        match connection.consent {
            ConsentPolicy::NeverAsk => return Ok(AllowedBy::NeverAsks),
            ConsentPolicy::OncePerProgram => {
                if let Some(rule) = self.store.program_rule(&connection.id, &program.path)? {
                    return Ok(AllowedBy::Always { since: rule.allowed_at });
                }
            }
            ConsentPolicy::AskEveryTime => {}
        }
        let can_allow_always = connection.consent == ConsentPolicy::OncePerProgram;
        let request = ConsentRequest {
            id: uuid::Uuid::new_v4().to_string(),
            connection_id: connection.id.clone(),
            connection_name: connection.name.clone(),
            program: program.clone(),
            can_allow_always,
            asked_at: Timestamp::now(),
        };
        let limit = self.config.consent_wait;
        match self.consent.ask(&self.events, request, limit).await {
            Some(ConsentAnswer::AllowAlways) if can_allow_always => {
                let since = Timestamp::now();
                self.store.allow_program(&connection.id, &program.path, since)?;
                Ok(AllowedBy::Always { since })
            }
            Some(ConsentAnswer::AllowOnce | ConsentAnswer::AllowAlways) => Ok(AllowedBy::Once),
            Some(ConsentAnswer::Deny) => {
                self.record_hand_out(EventKind::TokenRefused, connection, program, "denied by you")?;
                Err(Error::ConsentDenied {
                    connection: connection.name.clone(),
                    program: program.name.clone(),
                })
            }
            None => {
                let detail = format!("no answer within {} seconds", limit.as_secs());
                self.record_hand_out(EventKind::TokenRefused, connection, program, &detail)?;
                Err(Error::ConsentTimedOut {
                    connection: connection.name.clone(),
                    program: program.name.clone(),
                    seconds: limit.as_secs(),
                })
            }
        }
    }

    /// The server refused the token `fingerprint` names, which `program` had: the
    /// connection's newer token when there is one (the app refreshed meanwhile), else one
    /// refresh, shared with every other caller, and its token.
    pub async fn hand_out_after_refusal(
        &self,
        program: &Program,
        key: &str,
        refused: &str,
    ) -> Result<(Connection, Secret)> {
        let connection = self.connection(key)?;
        let allowed_by = self.consent_for(&connection, program).await?;
        let (connection, current) = self.remembered_token(&connection, Duration::ZERO).await?;
        let (connection, token) = if fingerprint(&current) == refused {
            // Remembered at the next hand-out: which entry it came from is not known here.
            self.token_refused(&connection.id).await?
        } else {
            (connection, current)
        };
        let detail = format!("{}, after its server refused the last one", allowed_by.detail());
        self.record_hand_out(EventKind::TokenHandedOut, &connection, program, &detail)?;
        Ok((connection, token))
    }

    /// The connection's token from memory when it is still the keychain's and lasts
    /// `min_ttl`; else as `token` gets it (refreshing first when needed), remembered.
    async fn remembered_token(
        &self,
        connection: &Connection,
        min_ttl: Duration,
    ) -> Result<(Connection, Secret)> {
        let credential = self.usable_credential(connection)?;
        let lasts =
            |expires_at: Option<Timestamp>| expires_at.is_none_or(|at| at - Timestamp::now() > min_ttl);
        {
            let memory = self.handed_out.0.lock().expect("token memory lock");
            let remembered =
                memory.get(&credential.id).filter(|r| r.token_key == credential.token_secret_key);
            if let Some(remembered) = remembered.filter(|r| lasts(r.expires_at)) {
                return Ok((connection.clone(), remembered.token.clone()));
            }
        }
        let (connection, token) = self.access_token(&connection.id, min_ttl).await?;
        self.remember(&connection, &token, &credential.token_secret_key)?;
        Ok((connection, token))
    }

    /// Keeps `token`, read from the keychain entry `read_from`, for later hand-outs, as
    /// long as that entry is still the credential's: after a refresh (this one or
    /// another's meanwhile) the token may be the old one, which must not be kept under
    /// the new entry and its later expiry.
    fn remember(&self, connection: &Connection, token: &Secret, read_from: &str) -> Result<()> {
        let credential = self.usable_credential(connection)?;
        if credential.token_secret_key != read_from {
            return Ok(());
        }
        let remembered = Remembered {
            token_key: credential.token_secret_key,
            token: token.clone(),
            expires_at: credential.times.expires_at,
        };
        self.handed_out.0.lock().expect("token memory lock").insert(credential.id, remembered);
        Ok(())
    }

    fn record_hand_out(
        &self,
        kind: EventKind,
        connection: &Connection,
        program: &Program,
        detail: &str,
    ) -> Result<()> {
        let detail = format!("{} ({}): {detail}", program.name, program.path);
        self.store.record_event(&NewEvent {
            kind,
            at: Timestamp::now(),
            credential_id: None,
            connection_id: Some(&connection.id),
            subject: None,
            detail: Some(&detail),
            program: Some(&program.path),
        })?;
        if kind == EventKind::TokenHandedOut {
            let connection_id = connection.id.clone();
            self.events.publish(crate::EngineEvent::TokenHandedOut { connection_id });
        }
        Ok(())
    }

    /// The requests for tokens waiting for the person's answer.
    pub fn pending_consents(&self) -> Vec<ConsentRequest> {
        self.consent.pending()
    }

    /// The person's answer to a request for a token.
    pub fn answer_consent(&self, id: &str, answer: ConsentAnswer) -> Result<()> {
        self.consent.answer(&self.events, id, answer).map(drop)
    }

    /// The programs allowed to use a connection's tokens, the most recently used first.
    pub fn allowed_programs(&self, key: &str) -> Result<Vec<AllowedProgram>> {
        let connection = self.connection(key)?;
        let rules = self.store.program_rules(&connection.id)?;
        Ok(rules
            .into_iter()
            .map(|rule| AllowedProgram {
                name: std::path::Path::new(&rule.program)
                    .file_name()
                    .map_or(rule.program.clone(), |n| n.to_string_lossy().into_owned()),
                path: rule.program,
                allowed_at: rule.allowed_at,
                last_used_at: rule.last_used_at,
            })
            .collect())
    }

    /// Takes back a program's permission: it is asked again next time.
    pub fn revoke_program(&self, key: &str, path: &str) -> Result<()> {
        let connection = self.connection(key)?;
        if !self.store.revoke_program(&connection.id, path)? {
            return Err(Error::NotFound {
                what: "program allowed for this connection",
                key: path.to_owned(),
            });
        }
        self.events.publish(crate::EngineEvent::ConnectionsChanged);
        Ok(())
    }

    pub fn set_consent_policy(&self, key: &str, policy: ConsentPolicy) -> Result<Connection> {
        let connection = self.connection(key)?;
        self.store.set_consent_policy(&connection.id, policy)?;
        self.events.publish(crate::EngineEvent::ConnectionsChanged);
        self.connection(&connection.id)
    }
}
