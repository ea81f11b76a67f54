//! A provider's resources: each name of the catalog ([`fitpipe_catalog`]) that the
//! provider reads, paired with how the provider asks for it. What a name is (scope, default
//! set, tables, what a re-fetch replaces) is declared once in the catalog; a provider's
//! table only says how to fetch it, and a test checks the two agree name for name.

use fitpipe_catalog::{Api, Kind, Read};

/// One daily resource of a provider: its catalog name and how the provider fetches it
/// (`R`, the provider's resource type).
#[derive(Debug, Clone)]
pub struct Spec<R: 'static> {
    /// The catalog name: `--resources` name, and the key of its state and raw folder.
    pub name: &'static str,
    /// What is fetched.
    pub resource: R,
}

/// A spec table row.
pub const fn spec<R>(name: &'static str, resource: R) -> Spec<R> {
    Spec { name, resource }
}

/// The catalog's word on daily resource `name` read by `api`.
pub fn read(api: Api, name: &str) -> Option<Read> {
    fitpipe_catalog::get(Kind::Daily, name).and_then(|t| t.read_by(api))
}

/// The resource a name declares.
pub fn parse<R: Clone>(specs: &'static [Spec<R>], name: &str) -> Option<R> {
    specs
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.resource.clone())
}

/// The name that declares a resource.
pub fn name_of<R: PartialEq>(specs: &'static [Spec<R>], r: &R) -> &'static str {
    specs
        .iter()
        .find(|s| s.resource == *r)
        .map_or("unknown", |s| s.name)
}
