//! The config folder: `config.toml` (client id, redirect URI, API base; a client secret
//! only if the person put it there or typed it at the prompt) and `tokens/`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::env;
use crate::hint;

/// Per-provider settings in `config.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub redirect_uri: Option<String>,
    pub api_base: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub providers: BTreeMap<String, ProviderConfig>,
}

pub const DEFAULT_REDIRECT: &str = "http://127.0.0.1:8080/";

/// The config folder.
pub fn dir() -> anyhow::Result<PathBuf> {
    if let Some(d) = env::get(env::CONFIG_DIR) {
        return Ok(PathBuf::from(d));
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("fitpipe"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".config").join("fitpipe")),
        None => Err(hint(
            "cannot find a config folder: HOME is not set",
            format!(
                "set `{}` to a folder for fitpipe's config and tokens",
                env::CONFIG_DIR
            ),
        )),
    }
}

impl Config {
    pub fn load() -> anyhow::Result<Config> {
        let path = dir()?.join("config.toml");
        match std::fs::read_to_string(&path) {
            Ok(t) => toml::from_str(&t).map_err(|e| {
                hint(
                    format!("`{}` is not valid: {e}", path.display()),
                    "fix or delete the file, then run `fitpipe auth` again",
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("reading `{}`", path.display())),
        }
    }

    pub fn save(&self) -> anyhow::Result<()> {
        let path = dir()?.join("config.toml");
        let text = toml::to_string(self).context("encoding config")?;
        fitpipe_ingest::store::write_private(&path, text.as_bytes())?;
        Ok(())
    }

    pub fn provider(&self, name: &str) -> ProviderConfig {
        self.providers.get(name).cloned().unwrap_or_default()
    }
}
