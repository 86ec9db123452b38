//! Refuses to build with a catalog that does not parse or validate, listing every
//! problem, so catalog mistakes are found by the author rather than by a person.

#[path = "src/catalog/schema.rs"]
#[allow(dead_code)]
mod schema;
#[path = "src/catalog/template.rs"]
#[allow(dead_code)]
mod template;
#[path = "src/catalog/validate.rs"]
#[allow(dead_code)]
mod validate;

fn main() {
    println!("cargo::rerun-if-changed=catalog.toml");
    println!("cargo::rerun-if-changed=src/catalog/schema.rs");
    println!("cargo::rerun-if-changed=src/catalog/validate.rs");
    println!("cargo::rerun-if-changed=src/catalog/template.rs");
    let text = std::fs::read_to_string("catalog.toml").expect("crates/engine/catalog.toml is readable");
    let catalog: schema::CatalogFile = match toml::from_str(&text) {
        Ok(catalog) => catalog,
        Err(error) => panic!("crates/engine/catalog.toml does not parse:\n{error}"),
    };
    let problems = validate::problems(&catalog);
    if !problems.is_empty() {
        panic!("crates/engine/catalog.toml has {} problem(s):\n  {}", problems.len(), problems.join("\n  "));
    }
    // The binary reads the catalog as JSON: parsing it is several times cheaper than
    // TOML, on every start of `grantkeeper token`. Written from the TOML value, so the
    // order of providers and integrations is kept.
    let value: toml::Value = toml::from_str(&text).expect("parsed above");
    let json = serde_json::to_string(&value).expect("a TOML value is JSON");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("catalog.json"), json).expect("OUT_DIR is writable");
}
