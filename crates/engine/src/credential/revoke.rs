//! Removing a connection, and telling the provider when its grant is no longer
//! wanted (RFC 7009, or the provider's own way). Local deletion always completes; a
//! revocation the provider could not take now is queued and retried, across restarts.

use crate::api::{EventKind, Removal, Revocation};
use crate::catalog::{ClientAuth, RevocationStyle, RevokedTokens, TokenRequestFormat};
use crate::oauth::{refresh_grant, RefreshRefused};
use crate::provider::ProviderRecord;
use crate::runtime::next_attempt;
use crate::store::{Deleted, NewEvent, PendingRevocation};
use crate::vault::TokenSet;
use crate::Timestamp;
use crate::{Engine, EngineEvent, Error, Result, Secret};
use base64::Engine as _;

impl Engine {
    /// Removes a connection. When it was the last one on its credential, the grant is
    /// revoked at the provider (refresh token first) and the tokens are deleted; a
    /// revocation that fails for a passing reason is retried later.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn remove_connection(&self, key: &str) -> Result<Removal> {
        let connection = self.connection(key)?;
        // Reading may go by a prefix; removing, which cannot be undone, may not.
        let whole = [&connection.id, &connection.name, &connection.integration, &connection.integration_name];
        if !whole.iter().any(|name| name.eq_ignore_ascii_case(key.trim())) {
            return Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "“{key}” is only the start of “{}”. To remove it, give its whole name or its id.",
                    connection.name
                ),
            });
        }
        let pending = match self.store.delete_connection(&connection.id, Timestamp::now())? {
            // Removed by another process since it was found.
            Deleted::NotFound => return Err(Error::NotFound { what: "connection", key: key.to_owned() }),
            Deleted::CredentialKept => None,
            Deleted::CredentialGone(pending) => Some(pending),
        };
        self.store.record_event(&NewEvent {
            kind: EventKind::ConnectionRemoved,
            at: Timestamp::now(),
            credential_id: None,
            connection_id: Some(&connection.id),
            subject: Some(&connection.name),
            detail: None,
            program: None,
        })?;
        self.events.publish(EngineEvent::ConnectionsChanged);
        let (revocation, detail) = match pending {
            Some(pending) => self.revoke(&pending).await,
            None => (Revocation::StillInUse, None),
        };
        Ok(Removal { name: connection.name, provider: connection.provider, revocation, detail })
    }

    /// Tries every queued revocation once, due or not: the app calls this on start,
    /// a natural moment to try again.
    pub async fn retry_revocations(&self) -> Result<()> {
        for pending in self.store.pending_revocations()? {
            self.revoke(&pending).await;
        }
        Ok(())
    }

    /// Retries the queued revocations whose backoff has passed (the scheduler).
    pub(crate) async fn retry_due_revocations(&self) -> Result<()> {
        for pending in self.store.pending_revocations()? {
            if pending.next_attempt_at.is_none_or(|due| due <= Timestamp::now()) {
                self.revoke(&pending).await;
            }
        }
        Ok(())
    }

    async fn revoke(&self, pending: &PendingRevocation) -> (Revocation, Option<String>) {
        let attempt = self.revoke_at_provider(pending).await;
        let at = Timestamp::now();
        let (outcome, detail, kind) = match attempt {
            Ok(outcome) => {
                (outcome, None, (outcome == Revocation::Revoked).then_some(EventKind::CredentialRevoked))
            }
            Err(error @ (Error::ProviderUnreachable { .. } | Error::KeychainUnavailable(_))) => {
                let next = Timestamp::now() + next_attempt(pending.attempts + 1, &error);
                let reason = error.to_string();
                if let Err(error) = self.store.revocation_failed(&pending.credential_id, &reason, next) {
                    tracing::warn!(%error, "could not record a failed revocation");
                }
                let detail = format!("Revoking access will be retried: {reason}");
                return self.revocation_event(pending, Revocation::WillRetry, Some(detail), at);
            }
            Err(error) => (
                Revocation::Refused,
                Some(format!(
                    "The provider did not revoke access ({error}). Revoke it in your account settings there."
                )),
                Some(EventKind::RevocationFailed),
            ),
        };
        // Done with this grant either way: the tokens go, and so does the queue entry.
        if let Err(error) = self.vault.delete(&pending.token_secret_key).await {
            tracing::warn!(%error, "could not delete the tokens of a removed connection");
        }
        if let Err(error) = self.store.revocation_done(&pending.credential_id) {
            tracing::warn!(%error, "could not clear a finished revocation");
        }
        match kind {
            Some(_) => self.revocation_event(pending, outcome, detail, at),
            None => (outcome, detail),
        }
    }

    fn revocation_event(
        &self,
        pending: &PendingRevocation,
        outcome: Revocation,
        detail: Option<String>,
        at: Timestamp,
    ) -> (Revocation, Option<String>) {
        let kind = if outcome == Revocation::Revoked {
            EventKind::CredentialRevoked
        } else {
            EventKind::RevocationFailed
        };
        let recorded = self.store.record_event(&NewEvent {
            kind,
            at,
            credential_id: None,
            connection_id: None,
            subject: Some(&pending.subject),
            detail: detail.as_deref(),
            program: None,
        });
        if let Err(error) = recorded {
            tracing::warn!(%error, "could not record a revocation in the activity log");
        }
        self.events.publish(EngineEvent::ConnectionsChanged);
        (outcome, detail)
    }

    async fn revoke_at_provider(&self, pending: &PendingRevocation) -> Result<Revocation> {
        let Some(tokens) = self.vault.read_tokens(&pending.token_secret_key).await? else {
            return Ok(Revocation::NotOffered);
        };
        let provider = match self.provider_at(&pending.provider_id, pending.addresses.as_ref()) {
            Ok(provider) => provider,
            Err(Error::NotFound { .. } | Error::ProviderAppMissing { .. }) => {
                return Ok(Revocation::NotOffered)
            }
            Err(error) => return Err(error),
        };
        let Some(url) = provider.endpoints.revocation_url.clone() else { return Ok(Revocation::NotOffered) };
        let url = url::Url::parse(&url).map_err(|e| Error::Internal(format!("revocation URL: {e}")))?;
        let secret = self.client_secret(&provider).await?;
        let style = provider.spec.map(|s| s.revocation).unwrap_or_default();
        let revoke_with = provider.spec.map(|s| s.revoke_with).unwrap_or_default();
        let tokens = match revoke_with {
            RevokedTokens::FreshAccessToken if tokens.refresh_token.is_some() => {
                match self.refreshed_for_revocation(&provider, secret.clone(), tokens, pending).await? {
                    Some(tokens) => tokens,
                    None => return Ok(Revocation::Revoked),
                }
            }
            _ => tokens,
        };
        let http = provider.http(&self.http);
        for request in revocation_requests(style, revoke_with, &provider, secret.as_ref(), &tokens, &url) {
            let response = http
                .execute(request)
                .await
                .map_err(|error| error.for_provider(&url, &provider.name, "revocation answer"))?;
            let status = response.status().as_u16();
            let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap_or_default();
            let error = body.get("error").and_then(|e| e.as_str()).unwrap_or_default();
            let accepted = match style {
                // RFC 7009 §2.2: an unknown or already revoked token is answered with 200.
                RevocationStyle::Rfc7009 => status == 200 || error == "unsupported_token_type",
                // 404: the grant is already gone.
                RevocationStyle::GithubGrant => status == 204 || status == 404,
                // Slack answers `ok: false` with HTTP 200, and `token_revoked` for a token
                // already revoked. A 401 or `invalid_auth` may be an expired token, whose
                // grant lives on: not the provider's word that it ended.
                RevocationStyle::BearerPost => {
                    (200..300).contains(&status) && body.get("ok") != Some(&serde_json::Value::Bool(false))
                        || error == "token_revoked"
                }
            };
            if !accepted {
                let detail = match error {
                    "" => format!("its revocation endpoint answered HTTP {status}"),
                    code => format!("its revocation endpoint answered {}", crate::error::provider_text(code)),
                };
                return Err(Error::ProviderError { provider: provider.name.clone(), detail });
            }
        }
        Ok(Revocation::Revoked)
    }

    /// The grant's tokens with a live access token, for a provider that revokes by the
    /// access token alone. A rotated refresh token is kept where the queued revocation
    /// reads its tokens. None: the provider says the grant has already ended.
    async fn refreshed_for_revocation(
        &self,
        provider: &ProviderRecord,
        secret: Option<Secret>,
        tokens: TokenSet,
        pending: &PendingRevocation,
    ) -> Result<Option<TokenSet>> {
        let refused = |detail: String| Error::ProviderError { provider: provider.name.clone(), detail };
        let Some(refresh_token) = tokens.refresh_token else { return Ok(Some(tokens)) };
        match refresh_grant(provider, secret, &refresh_token, &self.http).await {
            Ok(grant) => {
                let mut fresh = grant.tokens;
                fresh.refresh_token = fresh.refresh_token.or(Some(refresh_token));
                self.vault.write_tokens(&pending.token_secret_key, &fresh).await?;
                Ok(Some(fresh))
            }
            Err(RefreshRefused::GrantInvalid { .. }) => Ok(None),
            Err(RefreshRefused::ClientRejected { detail }) => Err(refused(detail)),
            Err(RefreshRefused::Failed(error)) => Err(error),
            // Its refresh token may be spent: a later try could only present it again.
            Err(RefreshRefused::Unanswered(error)) => Err(refused(error.to_string())),
        }
    }
}

/// The requests that revoke a grant, in order, with the tokens `revoke_with` names.
fn revocation_requests(
    style: RevocationStyle,
    revoke_with: RevokedTokens,
    provider: &ProviderRecord,
    secret: Option<&Secret>,
    tokens: &TokenSet,
    url: &url::Url,
) -> Vec<oauth2::HttpRequest> {
    let builder = |method: http::Method| {
        let headers = provider.spec.into_iter().flat_map(|s| &s.revocation_headers);
        headers.fold(http::Request::builder().method(method).uri(url.as_str()), |request, (name, value)| {
            request.header(name, value)
        })
    };
    match style {
        RevocationStyle::Rfc7009 => {
            let refresh = tokens.refresh_token.as_ref().map(|token| (token, "refresh_token"));
            let access = (&tokens.access_token, "access_token");
            let sent = match (revoke_with, refresh) {
                (RevokedTokens::RefreshThenAccess, refresh) => refresh.into_iter().chain([access]).collect(),
                (RevokedTokens::RefreshEndsGrant, Some(refresh)) => vec![refresh],
                (RevokedTokens::RefreshEndsGrant | RevokedTokens::FreshAccessToken, _) => vec![access],
            };
            sent.into_iter()
                .map(|(token, hint)| {
                    rfc7009_request(builder(http::Method::POST), provider, secret, token, hint)
                })
                .collect()
        }
        RevocationStyle::GithubGrant => {
            let body = serde_json::json!({ "access_token": tokens.access_token.expose() });
            let mut request = builder(http::Method::DELETE)
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(http::header::ACCEPT, "application/vnd.github+json");
            if let Some(secret) = secret {
                request = request.header(http::header::AUTHORIZATION, basic(&provider.app.client_id, secret));
            }
            vec![request.body(serde_json::to_vec(&body).expect("JSON")).expect("a valid request")]
        }
        RevocationStyle::BearerPost => vec![builder(http::Method::POST)
            .header(http::header::AUTHORIZATION, format!("Bearer {}", tokens.access_token.expose()))
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .expect("a valid request")],
    }
}

/// An RFC 7009 revocation request for one token, with the client authenticated as at
/// the provider's token endpoint.
fn rfc7009_request(
    request: http::request::Builder,
    provider: &ProviderRecord,
    secret: Option<&Secret>,
    token: &Secret,
    hint: &str,
) -> oauth2::HttpRequest {
    let client_id = &provider.app.client_id;
    let json = provider.spec.is_some_and(|s| s.token_request == TokenRequestFormat::Json);
    // Notion's JSON body is `{token}` alone; RFC 7009's form takes the hint.
    let mut fields = vec![("token", token.expose())];
    if !json {
        fields.push(("token_type_hint", hint));
    }
    let mut request = request.header(http::header::ACCEPT, "application/json");
    match (provider.client_auth(), secret) {
        (ClientAuth::Basic, Some(secret)) => {
            request = request.header(http::header::AUTHORIZATION, basic(client_id, secret));
        }
        (ClientAuth::None, _) => fields.push(("client_id", client_id)),
        (_, secret) => {
            fields.push(("client_id", client_id));
            fields.extend(secret.map(|s| ("client_secret", s.expose())));
        }
    }
    // Providers that take JSON at the token endpoint (Notion) take it here too.
    let (content_type, body) = if json {
        let object: serde_json::Map<String, serde_json::Value> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
        ("application/json", serde_json::to_vec(&object).expect("JSON"))
    } else {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(fields);
        ("application/x-www-form-urlencoded", form.finish().into_bytes())
    };
    request.header(http::header::CONTENT_TYPE, content_type).body(body).expect("a valid request")
}

/// The `Authorization: Basic` header of a client.
fn basic(client_id: &str, secret: &Secret) -> String {
    format!("Basic {}", basic_credentials(client_id, secret.expose()))
}

/// RFC 6749 §2.3.1: id and secret form-encoded, joined by a colon, in base64.
fn basic_credentials(client_id: &str, secret: &str) -> String {
    let encode = |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
}
