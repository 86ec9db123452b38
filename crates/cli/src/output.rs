//! What the CLI prints on stdout: a short human form, or stable JSON with `--json`.

use std::io::Write;
use std::time::Duration;

use grantkeeper_engine::api::CatalogIntegration;
use grantkeeper_engine::api::CheckResult;
use grantkeeper_engine::api::{ClientIdentity, Removal, ResourcePlan, Revocation};
use grantkeeper_engine::{ActivityEvent, Connection, ConnectionStatus, Error, Provider, Result, Timestamp};
use serde::Serialize;

pub fn line(text: &str) -> Result<()> {
    bytes(format!("{text}\n").as_bytes())
}

/// Output as it is; a reader that went away (`| head -1`) is not an error.
pub fn bytes(data: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(data).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Internal(format!("stdout: {error}")))
        }
        _ => Ok(()),
    }
}

/// Says on stderr when the token handed out lasts less than `--min-ttl` asked: the
/// provider's tokens last no longer, and asking again at once would not help.
pub fn note_if_short(connection: &Connection, min_ttl: Duration) {
    let Some(expires_at) = connection.expires_at else { return };
    let left = (expires_at - Timestamp::now()).whole_seconds().max(0);
    if u64::try_from(left).is_ok_and(|left| left < min_ttl.as_secs()) {
        eprintln!(
            "grantkeeper: this token of “{}” expires in {left} s, sooner than --min-ttl {}: {}'s tokens last no longer.",
            connection.name,
            min_ttl.as_secs(),
            connection.provider
        );
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    line(&serde_json::to_string_pretty(value).map_err(|e| Error::Internal(e.to_string()))?)
}

pub fn connection(connection: &Connection, as_json: bool) -> Result<()> {
    if as_json {
        return json(connection);
    }
    line(&describe(connection))
}

pub fn connections(connections: &[Connection], as_json: bool) -> Result<()> {
    if as_json {
        return json(connections);
    }
    if connections.is_empty() {
        eprintln!("No connections yet. See what can be connected with `grantkeeper catalog`.");
    }
    connections.iter().try_for_each(|c| line(&describe(c)))
}

fn describe(c: &Connection) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        c.name,
        c.status.as_ref(),
        c.account.as_deref().unwrap_or("-"),
        c.provider,
        c.scopes.join(" "),
        c.id
    )
}

pub fn providers(providers: &[Provider], as_json: bool) -> Result<()> {
    if as_json {
        return json(providers);
    }
    providers.iter().try_for_each(|p| {
        let secret = match (&p.client_secret_last4, p.client_secret_set) {
            (Some(last4), _) => format!("•••• {last4}"),
            (None, true) => "client secret ••••".to_owned(),
            (None, false) => "no client secret".to_owned(),
        };
        let state = if p.enabled { "enabled" } else { "disabled" };
        line(&format!(
            "{}\t{}\t{state}\tclient {}\t{secret}\tauth {}\tredirect {}\t{}",
            p.name,
            p.issuer.as_deref().unwrap_or(&p.endpoints.authorize_url),
            p.client_id,
            p.client_auth.name(),
            p.app_setup.redirect_uri.as_deref().unwrap_or_default(),
            p.id
        ))?;
        if let Some(file) = &p.supplied_from {
            line(&format!("\tprovided by your organisation ({file})"))?;
        }
        previous_addresses_note(p);
        Ok(())
    })
}

/// Connections signed in before the provider app's site or endpoints changed.
fn previous_addresses_note(provider: &Provider) {
    for name in &provider.on_previous_addresses {
        eprintln!(
            "“{name}” keeps using {}'s previous address until you reconnect it: `grantkeeper reconnect \"{name}\"`.",
            provider.name
        );
    }
}

/// Integrations grouped by provider, each with what it may do in plain words.
pub fn catalog(integrations: &[CatalogIntegration], as_json: bool) -> Result<()> {
    if as_json {
        return json(integrations);
    }
    let mut groups: Vec<(&str, Vec<&CatalogIntegration>)> = Vec::new();
    for integration in integrations {
        let group = integration.provider_name.as_deref().unwrap_or("API keys");
        match groups.iter_mut().find(|(name, _)| *name == group) {
            Some((_, members)) => members.push(integration),
            None => groups.push((group, vec![integration])),
        }
    }
    for (group, members) in groups {
        line(group)?;
        for integration in members {
            line(&format!("  {:<20} {} — {}", integration.id, integration.name, integration.description))?;
            for scope in &integration.scopes {
                line(&format!("  {:<20}   • {}", "", scope.description))?;
            }
        }
    }
    Ok(())
}

pub fn activity(events: &[ActivityEvent], as_json: bool) -> Result<()> {
    if as_json {
        return json(events);
    }
    events.iter().try_for_each(|e| {
        let kind = e.kind.as_ref();
        line(&format!(
            "{}\t{}\t{}\t{}\t{}",
            e.at,
            kind,
            e.subject.as_deref().unwrap_or("-"),
            e.detail.as_deref().unwrap_or(""),
            e.program.as_deref().unwrap_or("")
        ))
    })
}

/// What connecting a URL will do, in lines for stderr before the browser opens.
pub fn resource_plan(plan: &ResourcePlan) -> String {
    let scopes = match plan.scopes.is_empty() {
        true => "the server's default access".to_owned(),
        false => plan.scopes.join(" "),
    };
    let identity = match &plan.identity {
        ClientIdentity::ProviderApp { provider, client_id } => {
            format!("with your provider app of {provider} (client ID {client_id})")
        }
        ClientIdentity::Supplied { client_id, file } => {
            format!("with the app your organisation provides for this server (client ID {client_id}, from {file})")
        }
        ClientIdentity::Registered { client_id, registered_at } => {
            format!("with the registration it made there on {registered_at} (client ID {client_id})")
        }
        ClientIdentity::MetadataDocument { url } => format!("with its client ID metadata document ({url})"),
        ClientIdentity::WillRegister { .. } => {
            "by registering itself there as a native app (nothing for you to register)".to_owned()
        }
        ClientIdentity::NoneAvailable => "— it offers no registration, so this will fail".to_owned(),
    };
    format!(
        "{} is guarded by {}.\nAsking for: {scopes}\nGrantkeeper identifies itself {identity}.",
        plan.resource, plan.authorization_server
    )
}

/// What happened to a removed connection's grant, in a sentence for stderr.
pub fn removal(removal: &Removal) -> String {
    let name = &removal.name;
    let provider = &removal.provider;
    match removal.revocation {
        Revocation::StillInUse => format!("Removed {name}. Its sign-in stays: other connections use it."),
        Revocation::Revoked => format!("Removed {name} and revoked its access at {provider}."),
        Revocation::NotOffered => {
            format!("Removed {name}. {provider} offers no way to revoke access from here; remove it in your account settings there.")
        }
        Revocation::TokensMissing => format!(
            "Removed {name}. Its tokens were gone from the keychain, so its access could not be revoked; remove it in your account settings at {provider}."
        ),
        Revocation::WillRetry => format!(
            "Removed {name}. {} It is tried again while the Grantkeeper app runs, and at your next `grantkeeper remove`.",
            removal.detail.as_deref().unwrap_or_default()
        ),
        Revocation::Refused => format!("Removed {name}. {}", removal.detail.as_deref().unwrap_or_default()),
    }
}

/// What became of a revocation an earlier removal left queued, tried again.
pub fn earlier_removal(removal: &Removal) -> String {
    let (name, provider) = (&removal.name, &removal.provider);
    let detail = removal.detail.as_deref().unwrap_or_default();
    match removal.revocation {
        Revocation::Revoked => format!("Revoked the access of {name}, removed earlier, at {provider}."),
        Revocation::WillRetry => {
            format!("{name}, removed earlier: its access is still to be revoked. {detail}")
        }
        _ => format!("{name}, removed earlier: {detail}"),
    }
}

pub fn check(result: &CheckResult, as_json: bool) -> Result<()> {
    if as_json {
        return json(result);
    }
    if let Some(status) = result.limited {
        return line(&format!(
            "{} works, with limited permissions: {} took it but refused this request (HTTP {status}).",
            result.connection, result.url
        ));
    }
    match &result.account {
        Some(account) => {
            line(&format!("{} works: {} answered for {account}.", result.connection, result.url))
        }
        None => line(&format!("{} works: {} accepted it.", result.connection, result.url)),
    }
}

/// `token --json`: the token with what a script needs to use it.
pub fn token_json(connection: &Connection, token: &grantkeeper_engine::Secret) -> Result<()> {
    json(&serde_json::json!({
        "access_token": token.expose(),
        "token_type": "Bearer",
        "expires_at": connection.expires_at,
        "scopes": connection.scopes,
        "account": connection.account,
    }))
}

/// `status`: one line per connection, with what needs doing.
pub fn status(connections: &[Connection], as_json: bool) -> Result<()> {
    if as_json {
        return json(connections);
    }
    if connections.is_empty() {
        eprintln!("No connections yet. See what can be connected with `grantkeeper catalog`.");
    }
    connections.iter().try_for_each(|c| {
        let expiry = c.expires_at.map_or("no expiry".to_owned(), |at| format!("expires {at}"));
        let mut text = format!(
            "{}\t{}\t{}\t{}\t{}",
            c.name,
            c.status.as_ref(),
            c.account.as_deref().unwrap_or("-"),
            expiry,
            c.scopes.join(" ")
        );
        if let Some(reason) = &c.status_reason {
            text.push_str(&format!("\t{reason}"));
        }
        if !c.missing_scopes.is_empty() {
            text.push_str(&format!("\tmissing: {} (grantkeeper grant-access)", c.missing_scopes.join(" ")));
        }
        // Refreshing does not extend it (GitHub Apps, Spotify): only a reconnect does,
        // which a connection in Reauthorize needs now anyway.
        let lapses =
            c.refresh_token_expires_at.as_ref().filter(|_| c.status != ConnectionStatus::Reauthorize);
        if let Some(at) = lapses {
            text.push_str(&format!("\tsign-in lapses {at} (grantkeeper reconnect before then)"));
        }
        line(&text)
    })
}
