//! A resource declared once: the row of a provider's spec table.

/// One daily resource of a provider: its `--resources` name, what it is (`R`, the
/// provider's resource type), the scope that guards it and whether the default set holds
/// it. Names, the default set, parsing and keys come from the provider's table of these.
#[derive(Debug, Clone)]
pub struct Spec<R: 'static> {
    /// `--resources` name, and the key of its state and raw folder.
    pub name: &'static str,
    /// What is fetched.
    pub resource: R,
    /// The scope (Fitbit) or scope area (Google Health) the API asks for.
    pub scope: &'static str,
    /// In the default set.
    pub default: bool,
}

/// A spec table row.
pub const fn spec<R>(
    name: &'static str,
    resource: R,
    scope: &'static str,
    default: bool,
) -> Spec<R> {
    Spec {
        name,
        resource,
        scope,
        default,
    }
}

/// The names of a spec table, all of them or the default set's.
pub fn names<R>(specs: &'static [Spec<R>], defaults_only: bool) -> Vec<&'static str> {
    specs
        .iter()
        .filter(|s| s.default || !defaults_only)
        .map(|s| s.name)
        .collect()
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
