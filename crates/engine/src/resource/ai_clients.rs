//! Configuration snippets for AI clients: each launches `grantkeeper mcp bridge` with the
//! connection's id (a rename never breaks it), in the file format that client reads.

use crate::api::{AiClient, AiClientConfig, Connection};
use crate::{Engine, Error, Result};

impl Engine {
    /// The snippet for `client` to use the connection `key` through the bridge started as
    /// `program` (the `grantkeeper` command's absolute path).
    pub fn ai_client_config(&self, key: &str, client: AiClient, program: &str) -> Result<AiClientConfig> {
        let connection = self.connection(key)?;
        if connection.resource.is_none() {
            return Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "“{}” was not connected by URL, so there is no MCP server to hand to an AI client. Connect one with `grantkeeper connect --url URL`.",
                    connection.name
                ),
            });
        }
        let others: Vec<String> = self
            .connections()?
            .iter()
            .filter(|c| c.id != connection.id)
            .map(|c| name_as_key(&c.name))
            .collect();
        Ok(config_for(&connection, &server_key(&connection, &others), client, program))
    }
}

fn config_for(connection: &Connection, key: &str, client: AiClient, program: &str) -> AiClientConfig {
    let args = ["mcp", "bridge", connection.id.as_str()];
    let stdio = serde_json::json!({ "command": program, "args": args });
    let typed = serde_json::json!({ "type": "stdio", "command": program, "args": args });
    let json = |root: &str, server: serde_json::Value| {
        serde_json::to_string_pretty(&serde_json::json!({ root: { key: server } })).expect("JSON serializes")
    };
    let (place, snippet) = match client {
        AiClient::ClaudeDesktop => (
            "claude_desktop_config.json (Settings → Developer → Edit Config), merged into mcpServers",
            json("mcpServers", stdio),
        ),
        AiClient::ClaudeCode => (
            "a terminal, in your project (add --scope user for all projects)",
            format!("claude mcp add --transport stdio {key} -- {} {}", shell_word(program), args.join(" ")),
        ),
        AiClient::Vscode => ("the workspace's .vscode/mcp.json, merged into servers", json("servers", typed)),
        AiClient::Cursor => (
            "~/.cursor/mcp.json (or the project's .cursor/mcp.json), merged into mcpServers",
            json("mcpServers", stdio),
        ),
    };
    AiClientConfig { client, place: place.to_owned(), snippet }
}

/// The name the client's configuration gives the server: the connection's name as
/// clients accept one. Where that is nothing (a name in another script) or another
/// connection's too ("Work MCP" and "work-mcp"), whose snippet it would replace, the
/// start of the connection's id tells them apart.
fn server_key(connection: &Connection, others: &[String]) -> String {
    let key = name_as_key(&connection.name);
    let short_id: String = connection.id.chars().take(8).collect();
    match key.as_str() {
        "" => format!("grantkeeper-{short_id}"),
        taken if others.iter().any(|other| other == taken) => format!("{key}-{short_id}"),
        _ => key,
    }
}

/// Lowercase letters, digits and dashes, as every client accepts in a server's name.
fn name_as_key(name: &str) -> String {
    let mut key = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            'a'..='z' | '0'..='9' => key.push(c),
            _ if !key.is_empty() && !key.ends_with('-') => key.push('-'),
            _ => {}
        }
    }
    key.trim_end_matches('-').to_owned()
}

/// A path as one shell word: quoted unless it is plain.
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:".contains(c);
    match text.chars().all(plain) {
        true => text.to_owned(),
        false => format!("'{}'", text.replace('\'', r"'\''")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    fn example() -> Connection {
        Connection {
            id: "conn-1".into(),
            name: "Example MCP".into(),
            integration: "p".into(),
            integration_name: "https://mcp.example.com/mcp".into(),
            provider: "https://mcp.example.com/mcp".into(),
            provider_id: "p".into(),
            status: crate::api::ConnectionStatus::Active,
            status_reason: None,
            account: None,
            scopes: Vec::new(),
            missing_scopes: Vec::new(),
            expires_at: None,
            last_refreshed_at: None,
            created_at: Timestamp::parse("2026-12-05T00:00:00Z").unwrap(),
            refresh_token_expires_at: None,
            shared_with: Vec::new(),
            resource: Some("https://mcp.example.com/mcp".into()),
            consent: crate::api::ConsentPolicy::default(),
            used_by: Vec::new(),
            last_handed_out_at: None,
            details: Default::default(),
        }
    }

    #[test]
    fn each_client_gets_its_own_format() {
        let connection = example();
        let vscode: serde_json::Value = serde_json::from_str(
            &config_for(&connection, "example-mcp", AiClient::Vscode, "/usr/bin/grantkeeper").snippet,
        )
        .unwrap();
        assert_eq!(
            vscode,
            serde_json::json!({ "servers": { "example-mcp": {
                "type": "stdio", "command": "/usr/bin/grantkeeper", "args": ["mcp", "bridge", "conn-1"]
            } } })
        );
        let desktop: serde_json::Value = serde_json::from_str(
            &config_for(&connection, "example-mcp", AiClient::ClaudeDesktop, "/g").snippet,
        )
        .unwrap();
        assert_eq!(desktop["mcpServers"]["example-mcp"]["args"][2], "conn-1");
        assert_eq!(
            config_for(&connection, "example-mcp", AiClient::ClaudeCode, "/opt/my apps/grantkeeper").snippet,
            "claude mcp add --transport stdio example-mcp -- '/opt/my apps/grantkeeper' mcp bridge conn-1"
        );
    }

    #[test]
    fn server_keys_and_shell_words() {
        let named = |name: &str| Connection { id: "0123abcd-ef".into(), name: name.into(), ..example() };
        assert_eq!(server_key(&named("Example MCP (work)"), &[]), "example-mcp-work");
        assert_eq!(server_key(&named("localhost:3000"), &[]), "localhost-3000");
        assert_eq!(server_key(&named("→→"), &[]), "grantkeeper-0123abcd");
        assert_eq!(server_key(&named("名前"), &[]), "grantkeeper-0123abcd");
        let others = [name_as_key("work-mcp")];
        assert_eq!(server_key(&named("Work MCP"), &others), "work-mcp-0123abcd");
        assert_eq!(shell_word("/usr/bin/grantkeeper"), "/usr/bin/grantkeeper");
        assert_eq!(shell_word("/home/a b/it's"), r"'/home/a b/it'\''s'");
    }
}
