//! Catalog templates: text with `{field}` placeholders, filled from a JSON answer
//! (`{owner.user.id}`) or from API-key fields. Shared with build.rs.

/// The `{field}` names in a template; None when the braces do not pair up. Used by
/// the catalog checks (build.rs and tests).
#[cfg_attr(not(test), allow(dead_code))]
pub fn template_fields(template: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return None;
        }
        let close = rest[open..].find('}')? + open;
        let name = &rest[open + 1..close];
        if name.is_empty() || name.contains('{') {
            return None;
        }
        fields.push(name.to_owned());
        rest = &rest[close + 1..];
    }
    Some(fields)
}

/// The template with every field replaced by `value_of(field)`, in one pass (a value
/// is never read as a template); None when a field has no value.
pub fn fill(template: &str, value_of: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        out.push_str(&rest[..open]);
        out.push_str(&value_of(&rest[open + 1..close])?);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// A scalar at a dotted path of a JSON document, as text; None for missing, null,
/// empty or structured values.
pub fn json_field(document: &serde_json::Value, path: &str) -> Option<String> {
    let value = path.split('.').try_fold(document, |node, key| node.get(key))?;
    match value {
        serde_json::Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_nested_fields_once() {
        let doc = serde_json::json!({"owner": {"user": {"id": "u1"}}, "team": 7, "odd": "{team}"});
        let value = |f: &str| json_field(&doc, f);
        assert_eq!(fill("{owner.user.id}@{team}", value).as_deref(), Some("u1@7"));
        assert_eq!(fill("{odd}", value).as_deref(), Some("{team}"));
        assert_eq!(fill("{missing}", value), None);
        assert_eq!(template_fields("a{b}c{d.e}"), Some(vec!["b".into(), "d.e".into()]));
        assert_eq!(template_fields("a}b{"), None);
    }
}
