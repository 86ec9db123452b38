//! Long values in the real keychain: kept in parts and read back whole; one longer than
//! an entry may have is refused with nothing written.

use grantkeeper_engine::{Keychain, Secret, SecretStore};
use grantkeeper_test_support::{require_session, secret_tool_keys, unique_keychain_service};

#[test]
fn long_values_are_kept_in_parts_and_too_long_ones_leave_nothing() {
    require_session();
    let service = unique_keychain_service();
    let keychain = Keychain::new(service.clone());
    let long = "t".repeat(5_500);
    keychain.write("long", &Secret::new(long.clone())).unwrap();
    assert_eq!(keychain.read("long").unwrap().unwrap().expose(), long);
    assert_eq!(secret_tool_keys(&service).len(), 7, "the entry naming them and six parts");
    keychain.delete("long").unwrap();
    assert!(secret_tool_keys(&service).is_empty());

    let error = keychain.write("huge", &Secret::new("h".repeat(64_001))).unwrap_err();
    assert!(error.to_string().contains("more than the keychain keeps"), "{error}");
    assert!(secret_tool_keys(&service).is_empty(), "no part left behind");
    assert!(keychain.read("huge").unwrap().is_none());
}

/// A value rewritten shorter (fewer parts, or one entry) leaves none of the parts of the
/// longer one behind.
#[test]
fn a_shorter_value_leaves_none_of_the_longer_ones_parts() {
    require_session();
    let service = unique_keychain_service();
    let keychain = Keychain::new(service.clone());
    keychain.write("token", &Secret::new("a".repeat(3_500))).unwrap();
    assert_eq!(secret_tool_keys(&service).len(), 5, "the entry naming them and four parts");

    let shorter = "b".repeat(1_500);
    keychain.write("token", &Secret::new(shorter.clone())).unwrap();
    assert_eq!(keychain.read("token").unwrap().unwrap().expose(), shorter);
    assert_eq!(secret_tool_keys(&service).len(), 3, "the entry naming them and two parts");

    keychain.write("token", &Secret::new("c".to_owned())).unwrap();
    assert_eq!(keychain.read("token").unwrap().unwrap().expose(), "c");
    assert_eq!(secret_tool_keys(&service), ["token"], "one entry, no part");
}
