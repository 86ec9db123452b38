//! A sign-in finished on another device: its browser is sent back to this machine's
//! loopback address, which it cannot reach, so the person copies that address from its
//! address bar and pastes it here. The address is checked as the listener checks a
//! callback (this sign-in's redirect URI and `state`) before its code is used.

use std::collections::HashMap;

use subtle::ConstantTimeEq;
use tokio::sync::oneshot;
use url::Url;

use crate::{Error, Result};

/// An address the person pasted, and where to say whether it was this sign-in's.
pub(crate) struct PastedAddress {
    pub address: String,
    pub checked: oneshot::Sender<Result<()>>,
}

/// A callback's query parameters, every value of each.
pub(super) fn callback_params(url: &Url) -> HashMap<String, Vec<String>> {
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for (key, value) in url.query_pairs() {
        params.entry(key.into_owned()).or_default().push(value.into_owned());
    }
    params
}

/// Whether the parameters carry this flow's `state`, once.
pub(super) fn is_this_flow(params: &HashMap<String, Vec<String>>, state: &str) -> bool {
    matches!(params.get("state").map(Vec::as_slice),
        Some([given]) if bool::from(given.as_bytes().ct_eq(state.as_bytes())))
}

/// The parameters of `address` when it is this flow's callback: `redirect_uri` with this
/// flow's `state`. An error says what to paste instead; the sign-in goes on waiting.
pub(super) fn pasted_params(
    address: &str,
    redirect_uri: &Url,
    state: &str,
) -> Result<HashMap<String, Vec<String>>> {
    let not_it = || {
        Error::invalid(
            "address",
            format!(
                "That is not where this sign-in sends the browser back to. Paste the whole address \
                 of the page the browser shows after you approve; it begins with {redirect_uri}?"
            ),
        )
    };
    let url = Url::parse(address.trim()).map_err(|_| not_it())?;
    let same_place = url.scheme() == redirect_uri.scheme()
        && url.host_str() == redirect_uri.host_str()
        && url.port_or_known_default() == redirect_uri.port_or_known_default()
        && url.path() == redirect_uri.path();
    if !same_place {
        return Err(not_it());
    }
    let params = callback_params(&url);
    if !is_this_flow(&params, state) {
        return Err(Error::invalid(
            "address",
            "That address belongs to another sign-in. Paste the one this sign-in's link led to.",
        ));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_flow_s_callback_is_taken() {
        let redirect = Url::parse("http://127.0.0.1:43111/callback").unwrap();
        let pasted = |address: &str| pasted_params(address, &redirect, "s1").map_err(|e| e.to_string());
        let params = pasted("  http://127.0.0.1:43111/callback?code=c1&state=s1&iss=x \n").unwrap();
        assert_eq!(params["code"], ["c1"]);
        for elsewhere in [
            "code=c1&state=s1",
            "http://127.0.0.1:43112/callback?code=c1&state=s1",
            "http://localhost:43111/callback?code=c1&state=s1",
            "https://127.0.0.1:43111/callback?code=c1&state=s1",
            "http://127.0.0.1:43111/other?code=c1&state=s1",
        ] {
            assert!(pasted(elsewhere).unwrap_err().contains("not where this sign-in sends"), "{elsewhere}");
        }
        for other in [
            "http://127.0.0.1:43111/callback?code=c1&state=s2",
            "http://127.0.0.1:43111/callback?code=c1&state=s1&state=s1",
        ] {
            assert!(pasted(other).unwrap_err().contains("belongs to another sign-in"), "{other}");
        }
    }
}
