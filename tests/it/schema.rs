use super::*;

#[test]
fn docs_schema_md_is_what_the_code_declares() {
    let r = fitpipe(&["schema"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = repo().join("docs/schema.md");
    if std::env::var_os("FITPIPE_BLESS").is_some() {
        std::fs::write(&path, &r.stdout).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == r.stdout,
        "docs/schema.md is out of date: run `cargo run -- schema > docs/schema.md` (or FITPIPE_BLESS=1 cargo test)"
    );
}
