//! Command-line arguments.

use clap::{Parser, Subcommand};
use grantkeeper_engine::api::AiClient;
use grantkeeper_engine::catalog::ClientAuth;

#[derive(Parser)]
#[command(
    name = "grantkeeper",
    version,
    about = "Keep your online accounts connected and hand fresh tokens to your scripts.",
    after_help = "Environment:\n  GRANTKEEPER_HOME      data directory (default: your user data dir)/grantkeeper\n  GRANTKEEPER_BROWSER   command that opens URLs (else BROWSER, else the system browser)\n\nExit codes: 0 ok, 1 error, 2 usage, 3 needs reauthorization (or more access), 4 keychain unavailable,\n5 provider unreachable, 6 no such connection or provider."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Set up provider apps (your client registrations) and custom providers.
    Providers {
        #[command(subcommand)]
        command: ProvidersCommand,
    },
    /// List what can be connected: integrations by provider, with the access each asks for.
    #[command(after_help = "Example:\n  grantkeeper catalog --json | jq -r '.[].id'")]
    Catalog {
        #[arg(long)]
        json: bool,
    },
    /// Connect an account: sign in at the provider in your browser. With --url, connect
    /// an MCP server or an API guarded by OAuth: no app to register where its server
    /// lets Grantkeeper register itself.
    #[command(
        after_help = "Examples:\n  grantkeeper connect gmail --account ada@example.com\n  grantkeeper connect \"Google Drive\" --name \"Drive – Marketing\"\n  grantkeeper connect \"Company SSO\" --name \"Work account\"\n  grantkeeper connect github --device      # on a machine without a browser\n  grantkeeper connect --url https://mcp.example.com/mcp --name \"Example MCP\""
    )]
    Connect {
        /// Integration (id or name from `grantkeeper catalog`) or custom provider.
        #[arg(required_unless_present = "url", conflicts_with = "url")]
        integration: Option<NameOrId>,
        /// The URL of an MCP server or API to connect (https; http only on this machine).
        #[arg(long)]
        url: Option<String>,
        /// Name for the new connection (default: the integration's name).
        #[arg(long)]
        name: Option<String>,
        /// The account to sign in with (email or login), suggested to the provider.
        #[arg(long, value_name = "HINT")]
        account: Option<String>,
        /// Extra scope to ask for, by short name (repeatable, or several in one value
        /// separated by spaces). With --url: the scopes to ask for instead of those the
        /// server names.
        #[arg(long = "scope", visible_alias = "scopes", value_name = "SCOPE")]
        scopes: Vec<String>,
        #[command(flatten)]
        sign_in: SignInArgs,
    },
    /// Sign in again for a connection; it keeps its id. Only the same account is accepted.
    #[command(
        after_help = "Examples:\n  grantkeeper reconnect \"Work mail\"\n  grantkeeper reconnect GitHub --device"
    )]
    Reconnect {
        /// Connection name or id.
        connection: NameOrId,
        #[command(flatten)]
        sign_in: SignInArgs,
    },
    /// Add the API key of a service (OpenAI, Stripe, ...) as a connection.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check that a connection works: one cheap request with a fresh token or the key.
    #[command(after_help = "Example:\n  grantkeeper test Gmail && echo works")]
    Test {
        /// Connection name or id.
        connection: NameOrId,
        #[arg(long)]
        json: bool,
    },
    /// Give a connection another name; its id stays the same.
    #[command(after_help = "Example:\n  grantkeeper rename \"Google Drive\" \"Drive – Marketing\"")]
    Rename {
        /// Connection name or id.
        connection: NameOrId,
        /// The new name.
        name: String,
    },
    /// Ask for the scopes a "Needs more access" connection lacks, and only those.
    #[command(name = "grant-access", after_help = "Example:\n  grantkeeper grant-access Gmail")]
    GrantAccess {
        /// Connection name or id.
        connection: NameOrId,
        /// Do not open a browser; print the link to open by hand (on another device,
        /// paste back here the address its browser ends on).
        #[arg(long)]
        no_browser: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show the activity log, newest first: a line each with the time, what happened, whom it
    /// concerns, why, and the program a token went to.
    #[command(after_help = "Example:\n  grantkeeper activity --limit 10")]
    Activity {
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// List connections.
    #[command(
        after_help = "Example:\n  grantkeeper list --json | jq -r '.[] | select(.status != \"active\") | .name'"
    )]
    List {
        /// A stable JSON array for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Print a connection's access token and a newline, nothing else; refreshes it first
    /// when it would expire within --min-ttl. CONNECTION is a name or id, or, when only
    /// one connection matches, its integration or a prefix of its name or id.
    #[command(
        after_help = "Example:\n  curl -H \"Authorization: Bearer $(grantkeeper token 'Work account')\" https://api.example.com/me"
    )]
    Token {
        /// Connection name or id.
        connection: NameOrId,
        /// Seconds the token must stay valid.
        #[arg(long, default_value_t = 60, value_name = "SECONDS")]
        min_ttl: u64,
        /// Print {access_token, token_type, expires_at, scopes, account} instead.
        #[arg(long)]
        json: bool,
        /// Fail (exit 3) unless the grant includes this scope (short or full name; repeatable).
        #[arg(long = "require-scope", value_name = "SCOPE", value_parser = clap::builder::NonEmptyStringValueParser::new())]
        require_scopes: Vec<String>,
        #[command(flatten)]
        agent: AgentArgs,
    },
    /// Run a command with a fresh token in an environment variable (never on its
    /// command line); exits with the command's exit code (127: not found, 126: not
    /// executable, 128+N: ended by signal N).
    #[command(
        after_help = "Example:\n  grantkeeper exec Work -- sh -c 'curl -H \"Authorization: Bearer $GRANTKEEPER_TOKEN\" https://api.example.com/me'"
    )]
    Exec {
        /// Connection name or id.
        connection: NameOrId,
        /// The environment variable that carries the token.
        #[arg(long = "env", default_value = "GRANTKEEPER_TOKEN", value_name = "NAME")]
        variable: String,
        /// Seconds the token must stay valid when the command starts.
        #[arg(long, default_value_t = 60, value_name = "SECONDS")]
        min_ttl: u64,
        #[command(flatten)]
        agent: AgentArgs,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// A git credential helper: answers git for the hosts of connected GitHub and
    /// GitLab accounts (github.com, gitlab.com or your own server) with a fresh token.
    #[command(
        name = "git-credential",
        after_help = "Examples (either line):\n  git config --global credential.helper grantkeeper      # runs git-credential-grantkeeper\n  git config --global credential.https://gitlab.com.helper '!grantkeeper git-credential'\n\nWith several accounts on one host, name the account in the remote URL:\n  git clone https://ada@github.com/ada/notes.git"
    )]
    GitCredential {
        /// What git asks: get a credential, store one (ignored), or erase one (git saw it refused).
        operation: GitOperation,
    },
    /// Hand a connection made by URL to AI clients (Claude, VS Code, Cursor).
    Mcp {
        #[command(subcommand)]
        command: McpCommand,
    },
    /// Print a completion script for your shell.
    #[command(
        after_help = "Examples:\n  grantkeeper completions bash > ~/.local/share/bash-completion/completions/grantkeeper\n  grantkeeper completions zsh > ~/.zfunc/_grantkeeper\n  grantkeeper completions fish > ~/.config/fish/completions/grantkeeper.fish"
    )]
    Completions { shell: clap_complete::Shell },
    /// Show each connection's state, account, scopes, expiry and when its sign-in lapses
    /// (GitHub Apps, Spotify); exits 3 when one needs you (Reauthorize, Needs more
    /// access), 5 when one is retrying.
    #[command(after_help = "Example:\n  grantkeeper status || notify-send 'A connection needs you'")]
    Status {
        /// Only this connection (name or id).
        connection: Option<NameOrId>,
        #[arg(long)]
        json: bool,
    },
    /// Refresh a connection's tokens now.
    #[command(after_help = "Example:\n  grantkeeper refresh \"Work mail\"")]
    Refresh {
        /// Connection name or id.
        connection: NameOrId,
        #[arg(long)]
        json: bool,
    },
    /// Remove a connection and the tokens kept for it; the last connection on a grant
    /// also revokes it at the provider.
    #[command(after_help = "Example:\n  grantkeeper remove \"Work mail\"")]
    Remove {
        /// Connection name or id.
        connection: NameOrId,
    },
}

impl Command {
    /// Whether the person asked for the sign-in link to be printed rather than opened.
    pub fn prints_sign_in_link(&self) -> bool {
        match self {
            Command::Connect { sign_in, .. } | Command::Reconnect { sign_in, .. } => sign_in.no_browser,
            Command::GrantAccess { no_browser, .. } => *no_browser,
            _ => false,
        }
    }
}

/// How `connect` and `reconnect` sign in, and how they print the connection.
#[derive(clap::Args)]
pub struct SignInArgs {
    /// Do not open a browser; print the link to open by hand (on another device,
    /// paste back here the address its browser ends on).
    #[arg(long)]
    pub no_browser: bool,
    /// Sign in on any device with a code shown here (GitHub, Microsoft, Google TV
    /// clients, GitLab); nothing listens on this machine.
    #[arg(long, conflicts_with = "no_browser")]
    pub device: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum GitOperation {
    Get,
    Store,
    Erase,
}

/// How a command that hands out a token gets it.
#[derive(clap::Args)]
pub struct AgentArgs {
    /// Read the token from the keychain yourself instead of through Grantkeeper's app,
    /// which asks you before a program gets it (also GRANTKEEPER_NO_AGENT=1).
    #[arg(long)]
    pub no_agent: bool,
}

#[derive(Subcommand)]
pub enum McpCommand {
    /// Print what an AI client's configuration needs to use a connection made by URL:
    /// the bridge command with the connection's id, so a rename never breaks it.
    #[command(
        after_help = "Examples:\n  grantkeeper mcp config \"Example MCP\" --client claude-desktop\n  grantkeeper mcp config \"Example MCP\" --client claude-code | sh"
    )]
    Config {
        /// Connection name or id.
        connection: NameOrId,
        /// The AI client.
        #[arg(long, value_parser = ai_client_parser())]
        client: AiClient,
    },
    /// Serve a connection made by URL to an AI client over stdio: every JSON-RPC message
    /// goes to the MCP server with the connection's token, which never reaches the client.
    /// AI clients start this themselves (see `grantkeeper mcp config`). Grantkeeper's app
    /// asks you first whether that AI client may use the connection.
    #[command(
        after_help = "Example:\n  grantkeeper mcp bridge \"Example MCP\"      # what an AI client's configuration runs\n\nExit codes: 0 the client closed stdin, 3 the connection needs you to sign in again\n(`grantkeeper reconnect`) or you denied the AI client, 6 no such connection, 1 it was not\nconnected by URL."
    )]
    Bridge {
        /// Connection name or id.
        connection: NameOrId,
        #[command(flatten)]
        agent: AgentArgs,
    },
    /// Print the client ID metadata document to publish at URL, for distributions that
    /// set GRANTKEEPER_CLIENT_METADATA_URL: servers that take such documents then need no
    /// registration.
    #[command(
        after_help = "Example:\n  grantkeeper mcp client-metadata https://example.org/grantkeeper/client.json > client.json"
    )]
    ClientMetadata {
        /// Where the document will be published (https); it is also the client ID.
        url: String,
    },
}

/// An AI client by its name (claude-desktop, claude-code, vscode, cursor), as the engine
/// spells it.
fn ai_client_parser() -> impl clap::builder::TypedValueParser<Value = AiClient> {
    use clap::builder::TypedValueParser;
    use strum::VariantArray;
    let names: Vec<&'static str> = AiClient::VARIANTS.iter().map(|client| client.as_ref()).collect();
    clap::builder::PossibleValuesParser::new(names)
        .map(|name| name.parse::<AiClient>().expect("one of the possible values"))
}

#[derive(Subcommand)]
pub enum ProvidersCommand {
    /// Add a custom provider by issuer (OpenID discovery) or by authorize and token URLs.
    #[command(
        after_help = "Examples:\n  grantkeeper providers add --name \"Company SSO\" --issuer https://sso.example.com --client-id grantkeeper\n  printf %s \"$SECRET\" | grantkeeper providers add --name Acme --authorize-url https://acme.example/oauth/authorize \\\n      --token-url https://acme.example/oauth/token --client-id abc --client-secret-stdin --scopes \"read write\""
    )]
    Add(AddProviderArgs),
    /// Create or change the provider app of a provider (built-in id such as `google`,
    /// or a custom provider). Options left out keep their value; an empty URL returns
    /// to the provider's own endpoint.
    #[command(
        after_help = "Examples:\n  printf %s \"$SECRET\" | grantkeeper providers set google --client-id 123.apps.googleusercontent.com --client-secret-stdin\n  grantkeeper providers set github --base-url https://github.example.com\n  grantkeeper providers set microsoft --client-id 0000-... --tenant contoso.onmicrosoft.com\n  grantkeeper providers set slack --enabled false"
    )]
    Set(ProviderAppArgs),
    /// List provider apps.
    #[command(after_help = "Example:\n  grantkeeper providers list")]
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a provider app (and a custom provider with it).
    #[command(
        after_help = "Examples:\n  grantkeeper providers remove slack\n  grantkeeper providers remove \"Company SSO\" --with-connections"
    )]
    Remove {
        /// Provider id or name.
        provider: NameOrId,
        /// Also remove the connections that use it.
        #[arg(long)]
        with_connections: bool,
    },
}

/// `providers add`: a custom provider and its provider app.
#[derive(clap::Args)]
pub struct AddProviderArgs {
    #[arg(long)]
    pub name: String,
    /// Issuer URL; endpoints are found by OpenID discovery.
    #[arg(long, conflicts_with_all = ["authorize_url", "token_url"], required_unless_present = "authorize_url")]
    pub issuer: Option<String>,
    #[arg(long, requires = "token_url")]
    pub authorize_url: Option<String>,
    #[arg(long, requires = "authorize_url")]
    pub token_url: Option<String>,
    #[arg(long)]
    pub client_id: String,
    /// Read the client secret from stdin (never pass secrets as arguments).
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// How the token endpoint takes the client ID and secret: HTTP Basic, the request
    /// body, or none (a public client). Default: what the server's metadata lists, else basic.
    #[arg(long, value_name = "basic|post|none")]
    pub client_auth: Option<ClientAuth>,
    /// Space-separated scopes to request.
    #[arg(long, default_value = "openid email offline_access")]
    pub scopes: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// `providers set`: what to change in a provider app; what is left out is kept.
#[derive(clap::Args)]
pub struct ProviderAppArgs {
    /// Provider id or name.
    pub provider: NameOrId,
    #[arg(long)]
    pub client_id: Option<String>,
    /// Read the client secret from stdin (never pass secrets as arguments).
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// How the token endpoint takes the client ID and secret: HTTP Basic, the request
    /// body, or none (a public client).
    #[arg(long, value_name = "basic|post|none")]
    pub client_auth: Option<ClientAuth>,
    /// Self-hosted server (GitHub Enterprise Server, GitLab); empty for the default.
    #[arg(long, value_name = "URL", conflicts_with = "tenant")]
    pub base_url: Option<String>,
    /// Microsoft tenant id or domain; empty for the default.
    #[arg(long)]
    pub tenant: Option<String>,
    #[arg(long, value_name = "URL")]
    pub authorize_url: Option<String>,
    #[arg(long, value_name = "URL")]
    pub token_url: Option<String>,
    #[arg(long, value_name = "URL")]
    pub revocation_url: Option<String>,
    /// The identity endpoint (OpenID userinfo or the provider's "who am I").
    #[arg(long, value_name = "URL")]
    pub userinfo_url: Option<String>,
    /// The keys that sign the provider's ID tokens (JWKS), for OpenID providers.
    #[arg(long, value_name = "URL")]
    pub jwks_url: Option<String>,
    /// The device authorization endpoint (RFC 8628), for `connect --device`.
    #[arg(long, value_name = "URL")]
    pub device_authorization_url: Option<String>,
    #[arg(long, value_name = "true|false")]
    pub enabled: Option<bool>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Save an API key; it is checked with the service first unless --no-check.
    #[command(
        after_help = "Examples:\n  printf %s \"$OPENAI_API_KEY\" | grantkeeper keys add openai --key-stdin\n  printf %s \"$TWILIO_AUTH_TOKEN\" | grantkeeper keys add twilio --field account_sid=AC0123 --key-stdin\n  printf %s \"$NEW_KEY\" | grantkeeper keys add openai --replace OpenAI --key-stdin"
    )]
    Add(ApiKeyArgs),
}

/// `keys add`: an API key and where it goes.
#[derive(clap::Args)]
pub struct ApiKeyArgs {
    /// Integration id or name (`grantkeeper catalog` lists the API-key services).
    pub integration: NameOrId,
    /// Read the key from stdin (keys never go on the command line).
    #[arg(long, required = true)]
    pub key_stdin: bool,
    /// A non-secret field such as `account_sid=AC...` (repeatable).
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
    /// Name for the connection (default: the service's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Another address for the service's API (a region or a compatible service).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Save without checking the key with the service.
    #[arg(long)]
    pub no_check: bool,
    /// Replace the key of this connection; it keeps its id and name.
    #[arg(long, value_name = "CONNECTION", conflicts_with = "name")]
    pub replace: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// What names a connection, an integration or a provider on the command line: a name,
/// an id, or a prefix of one. A blank one is a usage error (exit 2), not a search.
#[derive(Clone, Debug)]
pub struct NameOrId(String);

impl std::str::FromStr for NameOrId {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().is_empty() {
            return Err("give a name or an id, as `grantkeeper list` or `grantkeeper catalog` shows them");
        }
        Ok(NameOrId(text.to_owned()))
    }
}

impl std::ops::Deref for NameOrId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for NameOrId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command a person can run shows at least one example in its --help.
    #[test]
    fn every_command_has_an_example() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name());
            if command.has_subcommands() {
                for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
                    walk(sub, &path, missing);
                }
            } else if !command.get_after_help().is_some_and(|h| h.to_string().contains("Example")) {
                missing.push(path);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no example in --help of: {missing:?}");
    }
}
