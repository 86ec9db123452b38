//! `grantkeeper`: the terminal face of the engine. stdout carries only what was asked
//! for; messages and errors go to stderr; the exit code says what went wrong.

mod agent;
mod args;
mod exec;
mod git_credential;
mod mcp;
mod output;
mod patience;
mod stdin;

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use std::collections::BTreeMap;

use grantkeeper_engine::api::ConnectOptions;
use grantkeeper_engine::api::NewApiKey;
use grantkeeper_engine::api::{ProviderAppInput, SecretInput};
use grantkeeper_engine::catalog::Catalog;
use grantkeeper_engine::credential::connect::{PendingFlow, SignIn};
use grantkeeper_engine::provider::EndpointOverrides;
use grantkeeper_engine::{
    Config, Connection, Engine, Error, ErrorCode, Keychain, NewProvider, Result, Secret,
};

use args::{ApiKeyArgs, Cli, Command, KeysCommand, McpCommand, ProvidersCommand};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(usage) => exit_on_usage(usage),
    };
    grantkeeper_engine::logging::log_to_stderr("off");
    // One thread is plenty for a command that waits on the keychain, SQLite and the
    // network, and starting worker threads is a measurable share of `token`'s time.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            match flag_for(&error) {
                Some(flag) => eprintln!("grantkeeper: {error} ({flag})"),
                None => eprintln!("grantkeeper: {error}"),
            }
            ExitCode::from(exit_code(&error))
        }
    }
}

/// Ends the program on clap's answer: help and the version as clap prints them; a usage
/// error on stderr with what the person typed made safe to show (clap repeats an unknown
/// value as given, escape sequences and bidirectional overrides included), exit 2.
fn exit_on_usage(usage: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        usage.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        usage.exit()
    }
    let text = usage.render().to_string();
    let lines: Vec<String> =
        text.lines().map(|line| grantkeeper_engine::error::printable(line, 2000)).collect();
    eprintln!("{}", lines.join("\n"));
    std::process::exit(usage.exit_code())
}

/// The option that gives what an error's field names: the engine speaks of fields, as
/// the window's forms show them; on the command line they are options. Only fields
/// that are the same option in every command that takes them.
fn flag_for(error: &Error) -> Option<&'static str> {
    let ErrorCode::InvalidInput = error.code() else { return None };
    Some(match error.field()? {
        "client_id" => "--client-id",
        "client_secret" => "--client-secret-stdin",
        "issuer" => "--issuer",
        "authorize_url" => "--authorize-url",
        "token_url" => "--token-url",
        "revocation_url" => "--revocation-url",
        "userinfo_url" => "--userinfo-url",
        "jwks_url" => "--jwks-url",
        "device_authorization_url" => "--device-authorization-url",
        "base_url" => "--base-url",
        "replace" => "--replace",
        _ => return None,
    })
}

/// Documented exit codes: 3 needs reauthorization, 4 keychain unavailable, 5 provider
/// unreachable, 6 no such connection or provider, 1 anything else (2 is clap's usage).
fn exit_code(error: &Error) -> u8 {
    match error.code() {
        ErrorCode::TokenExpired
        | ErrorCode::NeedsReauthorization
        | ErrorCode::ScopesMissing
        | ErrorCode::ConsentDenied
        | ErrorCode::ConsentTimedOut => 3,
        ErrorCode::KeychainUnavailable => 4,
        ErrorCode::ProviderUnreachable => 5,
        ErrorCode::NotFound => 6,
        _ => 1,
    }
}

async fn run(cli: Cli) -> Result<()> {
    if let Command::Completions { shell } = cli.command {
        // Needs neither the data directory nor the keychain.
        return print_completions(shell);
    }
    if let Command::Mcp { command: McpCommand::ClientMetadata { url } } = &cli.command {
        // A document to publish: needs neither the data directory nor the keychain.
        let url = grantkeeper_engine::provider::client_id_document_url("url", "URL", url)?;
        let document = grantkeeper_engine::resource::client_metadata_document(&url);
        return output::line(&serde_json::to_string_pretty(&document).expect("JSON serializes"));
    }
    if let Command::GitCredential { operation: args::GitOperation::Store } = cli.command {
        // Nothing is stored, so neither the data directory nor the keychain is needed.
        std::io::copy(&mut std::io::stdin().take(64 * 1024), &mut std::io::sink()).ok();
        return Ok(());
    }
    let mut config = Config::from_env()?;
    if let Command::Token { connection, min_ttl, json, require_scopes, agent: args::AgentArgs { no_agent } } =
        &cli.command
    {
        let min_ttl = Duration::from_secs(*min_ttl);
        let served = agent::from_running_app(&config.home, connection, min_ttl, require_scopes, *no_agent);
        if let Some(handed) = served.await? {
            return print_token(&handed, *json, min_ttl);
        }
    }
    if let Command::Exec { connection, variable, min_ttl, agent, command } = &cli.command {
        exec::check_variable(variable)?;
        let min_ttl = Duration::from_secs(*min_ttl);
        let served = agent::from_running_app(&config.home, connection, min_ttl, &[], agent.no_agent);
        if let Some(handed) = served.await? {
            return exec::run_with(&handed, min_ttl, variable, command);
        }
    }
    if matches!(
        cli.command,
        Command::Token { .. }
            | Command::Exec { .. }
            | Command::GitCredential { .. }
            | Command::Mcp { command: McpCommand::Bridge { .. } }
    ) {
        // These hand a token to another program as fast as they can (see BENCHMARKS.md).
        Keychain::connect_in_background();
    }
    if cli.command.prints_sign_in_link() {
        config.browser = grantkeeper_engine::oauth::Browser::None;
    }
    let engine = Engine::open(config.clone(), Arc::new(Keychain::new(config.keychain_service.clone())))?;
    run_with_engine(&engine, cli.command).await
}

fn print_token((connection, token): &(Connection, Secret), json: bool, min_ttl: Duration) -> Result<()> {
    output::note_if_short(connection, min_ttl);
    if json {
        output::token_json(connection, token)
    } else {
        output::line(token.expose())
    }
}

fn print_completions(shell: clap_complete::Shell) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "grantkeeper", &mut script);
    output::bytes(&script)
}

/// Runs a command that needs the engine.
async fn run_with_engine(engine: &Arc<Engine>, command: Command) -> Result<()> {
    match command {
        Command::Providers { command } => providers(engine, command).await,
        Command::Catalog { json } => output::catalog(&Catalog::builtin().views(), json),
        Command::Connect { integration, url, name, account, scopes, sign_in } => {
            let options = ConnectOptions { name, account, scopes, device: sign_in.device };
            connect(engine, integration, url, options, sign_in).await
        }
        Command::Keys { command: KeysCommand::Add(args) } => add_api_key(engine, args).await,
        Command::Test { connection, json } => {
            output::check(&engine.test_connection(&connection).await?, json)
        }
        Command::Rename { connection, name } => {
            let renamed = engine.rename_connection(&connection, &name)?;
            eprintln!("Renamed to {}.", renamed.name);
            Ok(())
        }
        Command::GrantAccess { connection, no_browser, json } => {
            let pending = engine.grant_access(&connection).await?;
            finish_sign_in(engine, pending, no_browser, json).await.map(drop)
        }
        Command::Reconnect { connection, sign_in } => {
            let by = if sign_in.device { SignIn::Device } else { SignIn::Browser };
            let pending = engine.reconnect_by(&connection, by).await?;
            finish_sign_in(engine, pending, sign_in.no_browser, sign_in.json).await.map(drop)
        }
        Command::Activity { limit, json } => output::activity(&engine.activity(limit)?, json),
        Command::List { json } => output::connections(&engine.connections()?, json),
        Command::Token { connection, min_ttl, json, require_scopes, agent: args::AgentArgs { no_agent } } => {
            let min_ttl = Duration::from_secs(min_ttl);
            let handed = agent::token(engine, &connection, min_ttl, &require_scopes, no_agent).await?;
            print_token(&handed, json, min_ttl)
        }
        Command::Exec { connection, variable, min_ttl, agent, command } => {
            let min_ttl = Duration::from_secs(min_ttl);
            exec::run(engine, &connection, &variable, min_ttl, agent.no_agent, &command).await
        }
        Command::GitCredential { operation } => git_credential::run(engine, operation).await,
        Command::Mcp { command } => mcp_command(engine, command).await,
        Command::Completions { .. } => unreachable!("answered before the engine opened"),
        Command::Status { connection, json } => status(engine, connection, json),
        Command::Refresh { connection, json } => {
            let refreshing = engine.refresh_now(&connection);
            let note = || {
                format!("Still refreshing “{connection}”: another refresh of it is under way, or its provider is slow.")
            };
            output::connection(&patience::saying_when_slow(refreshing, note).await?, json)
        }
        Command::Remove { connection } => {
            let removing = engine.remove_connection(&connection);
            let note = || {
                format!(
                    "Still removing “{connection}”: a refresh of it is under way, or its provider is slow."
                )
            };
            let removal = patience::saying_when_slow(removing, note).await?;
            eprintln!("{}", output::removal(&removal));
            tidy_up(engine).await;
            Ok(())
        }
    }
}

/// What earlier commands left to do, done here too: where no app runs (a server, a
/// CLI-only install) nothing else would. Revocations an earlier removal queued are tried
/// again, bounded so that a provider still down cannot hold `remove` up (what is not
/// done stays queued), and keychain entries a killed command left unused are deleted.
async fn tidy_up(engine: &Engine) {
    match tokio::time::timeout(Duration::from_secs(30), engine.retry_due_revocations()).await {
        Ok(Ok(retried)) => {
            retried.iter().for_each(|earlier| eprintln!("{}", output::earlier_removal(earlier)))
        }
        Ok(Err(error)) => eprintln!("grantkeeper: could not retry earlier revocations: {error}"),
        Err(_) => eprintln!(
            "grantkeeper: earlier revocations are still being tried; the rest wait for the next try."
        ),
    }
    if let Err(error) = engine.delete_stale_secrets().await {
        eprintln!("grantkeeper: could not delete keychain entries nothing uses: {error}");
    }
}

/// `connect --url`: what will happen is said before the browser opens.
async fn connect_url(engine: &Arc<Engine>, url: &str, options: ConnectOptions) -> Result<PendingFlow> {
    eprintln!("{}\n", output::resource_plan(&engine.plan_url(url, &options.scopes).await?));
    engine.connect_url(url, options).await
}

/// `mcp bridge`, and `mcp config`: the snippet on stdout, where it goes on stderr.
async fn mcp_command(engine: &Arc<Engine>, command: McpCommand) -> Result<()> {
    match command {
        McpCommand::Bridge { connection, agent } => mcp::bridge(engine, &connection, agent.no_agent).await,
        McpCommand::Config { connection, client } => {
            // The bridge is this very program; a client needs its absolute path.
            let program = std::env::current_exe()
                .map_err(|e| Error::Internal(format!("cannot tell where grantkeeper is installed: {e}")))?;
            let config = engine.ai_client_config(&connection, client, &program.to_string_lossy())?;
            eprintln!("Put this in {}:", config.place);
            output::line(&config.snippet)
        }
        McpCommand::ClientMetadata { .. } => unreachable!("answered before the engine opened"),
    }
}

async fn add_api_key(engine: &Engine, args: ApiKeyArgs) -> Result<()> {
    let fields = api_key_fields(&args.integration, args.fields)?;
    let input = NewApiKey {
        name: args.name,
        fields,
        base_url: args.base_url,
        check: !args.no_check,
        replace: args.replace,
    };
    output::connection(&engine.add_api_key(&args.integration, input).await?, args.json)
}

/// The fields of an API key: the NAME=VALUE pairs given, and the key itself from stdin.
fn api_key_fields(integration: &str, fields: Vec<String>) -> Result<BTreeMap<String, SecretInput>> {
    let mut values = BTreeMap::new();
    for field in fields {
        let Some((id, value)) = field.split_once('=') else {
            // Not quoted back: what was meant as a VALUE may be a secret.
            return Err(Error::invalid(
                "fields",
                "--field takes NAME=VALUE, for example account_sid=AC0123.".to_owned(),
            ));
        };
        if values.insert(id.trim().to_owned(), value.into()).is_some() {
            return Err(Error::invalid(
                "fields",
                format!(
                    "--field {} is given twice; give each field once.",
                    grantkeeper_engine::error::printable(id.trim(), 100)
                ),
            ));
        }
    }
    let token_field = Catalog::builtin()
        .integration(integration)
        .and_then(|(_, spec)| spec.api_key.as_ref())
        .map(|key| key.token_field.clone());
    if let Some(token_field) = token_field {
        if values.contains_key(&token_field) {
            return Err(Error::invalid(
                "fields",
                "Give the key on stdin (--key-stdin), never as an argument.",
            ));
        }
        values.insert(token_field, read_secret_from_stdin("key")?.as_str().into());
    }
    Ok(values)
}

async fn providers(engine: &Arc<Engine>, command: ProvidersCommand) -> Result<()> {
    match command {
        ProvidersCommand::Add(args) => {
            let client_secret = client_secret_from_stdin(args.client_secret_stdin)?;
            let client_given = client_secret.is_some();
            let provider = engine
                .add_provider(NewProvider {
                    name: args.name,
                    issuer: args.issuer,
                    authorize_url: args.authorize_url,
                    token_url: args.token_url,
                    client_id: args.client_id,
                    client_secret: client_secret.as_deref().map(Into::into),
                    client_auth: args.client_auth,
                    scopes: args.scopes.into_iter().collect(),
                })
                .await
                .map_err(|e| secret_from_stdin(e, client_given))?;
            output::providers(&[provider], args.json)
        }
        ProvidersCommand::Set(args) => {
            let client_secret = client_secret_from_stdin(args.client_secret_stdin)?;
            let client_given = client_secret.is_some();
            let input = ProviderAppInput {
                client_id: args.client_id,
                client_secret: client_secret.as_deref().map(Into::into),
                client_auth: args.client_auth,
                enabled: args.enabled,
                site: args.base_url.or(args.tenant),
                endpoints: EndpointOverrides {
                    authorize_url: args.authorize_url,
                    token_url: args.token_url,
                    revocation_url: args.revocation_url,
                    userinfo_url: args.userinfo_url,
                    jwks_url: args.jwks_url,
                    device_authorization_url: args.device_authorization_url,
                },
            };
            let provider = engine
                .set_provider_app(&args.provider, input)
                .await
                .map_err(|e| secret_from_stdin(e, client_given))?;
            output::providers(&[provider], args.json)
        }
        ProvidersCommand::List { json } => output::providers(&engine.providers()?, json),
        ProvidersCommand::Remove { provider, with_connections } => {
            let (name, removals) = engine.remove_provider(&provider, with_connections).await?;
            removals.iter().for_each(|removal| eprintln!("{}", output::removal(removal)));
            eprintln!("Removed the provider app of {name}.");
            Ok(())
        }
    }
}

/// Prints the connections' state and exits with what `status_exit_code` says.
fn status(engine: &Engine, connection: Option<args::NameOrId>, json: bool) -> Result<()> {
    let connections = match connection {
        Some(key) => vec![engine.connection(&key)?],
        None => engine.connections()?,
    };
    output::status(&connections, json)?;
    match status_exit_code(&connections) {
        0 => Ok(()),
        code => std::process::exit(code.into()),
    }
}

/// `status`: 3 when a connection needs the person, else 5 when one is retrying, else 0.
fn status_exit_code(connections: &[grantkeeper_engine::Connection]) -> u8 {
    use grantkeeper_engine::ConnectionStatus::{NeedsMoreAccess, Reauthorize, Retrying};
    if connections.iter().any(|c| matches!(c.status, Reauthorize | NeedsMoreAccess)) {
        3
    } else if connections.iter().any(|c| c.status == Retrying) {
        5
    } else {
        0
    }
}

/// `connect`: an integration or a URL, signed in, and which of the scopes asked for
/// with --scope the provider left out (unticked on its consent page, or unknown to it).
async fn connect(
    engine: &Arc<Engine>,
    integration: Option<args::NameOrId>,
    url: Option<String>,
    options: ConnectOptions,
    sign_in: args::SignInArgs,
) -> Result<()> {
    let asked = options.scopes.clone();
    let pending = match (url, integration) {
        (Some(url), _) => connect_url(engine, &url, options).await?,
        (None, integration) => engine.connect(integration.as_deref().unwrap_or_default(), options).await?,
    };
    let connection = finish_sign_in(engine, pending, sign_in.no_browser, sign_in.json).await?;
    let left_out = engine.scopes_not_granted(&connection.id, &asked)?;
    if !left_out.is_empty() {
        let (provider, name) = (&connection.provider, &connection.name);
        eprintln!("Note: {provider} did not grant {}; “{name}” has the rest.", left_out.join(", "));
    }
    Ok(())
}

/// Tells the person where to sign in, waits for the flow, prints the connection.
async fn finish_sign_in(
    engine: &Arc<Engine>,
    pending: PendingFlow,
    no_browser: bool,
    json: bool,
) -> Result<Connection> {
    if let Some(code) = &pending.started.user_code {
        eprintln!(
            "On any device, open this page and enter the code {code}:\n\n  {}\n",
            pending.started.authorize_url
        );
    } else if no_browser {
        eprintln!("Open this link in a browser to sign in:\n\n  {}\n", pending.started.authorize_url);
    } else if let Some(error) = &pending.started.browser_error {
        eprintln!(
            "The browser could not be opened ({error}). Open this link in a browser to sign in:\n\n  {}\n",
            pending.started.authorize_url
        );
    } else {
        eprintln!(
            "Finish signing in in your browser. If it did not open, visit:\n\n  {}\n",
            pending.started.authorize_url
        );
    }
    let mut pasted = match pending.started.user_code {
        Some(_) => None,
        None => {
            eprintln!(
                "Signing in on another device? Its browser cannot come back to this machine: once you \
                 approve, copy the address of the page it shows and paste it here."
            );
            Some(stdin::lines())
        }
    };
    eprintln!("Waiting for you to finish (Ctrl-C cancels)…");
    let flow_id = pending.started.flow_id.clone();
    let mut outcome = pending.outcome;
    let connection = loop {
        tokio::select! {
            result = &mut outcome => {
                break result.map_err(|_| Error::Internal("the sign-in ended unexpectedly".into()))??
            }
            _ = tokio::signal::ctrl_c() => {
                engine.cancel_flow(&flow_id)?;
                let kept = outcome.await.map_err(|_| Error::FlowCancelled)??;
                // Approved before Ctrl-C came: keeping it is never cut short halfway.
                eprintln!(
                    "The sign-in was already approved when you pressed Ctrl-C, so it was kept. \
                     If you did not want it: grantkeeper remove \"{}\"",
                    kept.name
                );
                break kept;
            }
            line = async { pasted.as_mut()?.recv().await }, if pasted.is_some() => match line {
                Some(Ok(line)) if line.trim().is_empty() => {}
                Some(Err(why)) => eprintln!("grantkeeper: skipped {why}."),
                // Not this sign-in's address: say why, and go on waiting.
                Some(Ok(line)) => match engine.answer_flow(&flow_id, &line).await {
                    Err(error @ Error::InvalidInput { .. }) => eprintln!("grantkeeper: {error}"),
                    _ => pasted = None,
                },
                None => pasted = None,
            },
        }
    };
    output::connection(&connection, json)?;
    Ok(connection)
}

/// An error about a client secret none was given for, with how this command takes one.
fn secret_from_stdin(error: Error, given: bool) -> Error {
    match error {
        Error::InvalidInput { field: Some(field), message } if field == "client_secret" && !given => {
            Error::InvalidInput {
                field: Some(field),
                message: format!("{message} Pipe it in with --client-secret-stdin."),
            }
        }
        other => other,
    }
}

/// The client secret from stdin, when `--client-secret-stdin` asked for it.
fn client_secret_from_stdin(asked: bool) -> Result<Option<String>> {
    asked.then(|| read_secret_from_stdin("client secret")).transpose()
}

/// Reads a secret (`what`: "client secret", "key") from stdin, so it never appears in
/// a process argument or the shell history.
fn read_secret_from_stdin(what: &str) -> Result<String> {
    let field = if what == "key" { "key" } else { "client_secret" };
    let text = stdin::read_whole(std::io::stdin(), field, &format!("the {what}"))?;
    let secret = text.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        return Err(Error::invalid(field, format!("Stdin was empty; pipe the {what} in.")));
    }
    Ok(secret)
}
