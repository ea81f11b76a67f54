//! Token store: one file per provider and user in the config folder, 0600, written
//! atomically (temporary file, sync, rename), with an inter-process lock per user so two
//! runs never refresh the same single-use refresh token at once.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use oauth2::{AccessToken, RefreshToken};
use serde::{Deserialize, Serialize};

use crate::IngestError;

/// A user's tokens. The secrets live in oauth2's newtypes, whose `Debug` is redacted.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Provider name (`fitbit-web-api`).
    pub provider: String,
    /// The provider's user id.
    pub user_id: String,
    /// Bearer token.
    pub access_token: AccessToken,
    /// Refresh token (single use at Fitbit).
    pub refresh_token: Option<RefreshToken>,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The user's IANA zone, from the profile, when known.
    pub timezone: Option<String>,
    /// When the refresh token stops working, where the provider says so (Google's
    /// Testing status: 7 days after consent).
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// When the provider last refused these tokens (revoked or ended), if it did: set by
    /// the run that met the refusal, cleared by a new `fitpipe auth`.
    pub refused_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    provider: String,
    user_id: String,
    access_token: String,
    refresh_token: Option<String>,
    expires_at: DateTime<Utc>,
    scope: String,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refused_at: Option<DateTime<Utc>>,
}

/// The folder holding token files.
#[derive(Debug, Clone)]
pub struct TokenStore {
    dir: PathBuf,
}

/// Holds a user's refresh lock until dropped.
#[derive(Debug)]
pub struct UserLock {
    _file: File,
}

impl TokenStore {
    /// A store in `<config>/tokens`.
    pub fn new(config_dir: &Path) -> Self {
        Self {
            dir: config_dir.join("tokens"),
        }
    }

    /// Where the account's pace log is (what its quota spent, across restarts): beside
    /// the tokens folder, in `pace/`.
    pub fn pace_log(&self, provider: &str, user: &str) -> PathBuf {
        self.dir
            .parent()
            .unwrap_or(&self.dir)
            .join("pace")
            .join(format!("{provider}-{user}.log"))
    }

    fn path(&self, provider: &str, user: &str) -> PathBuf {
        self.dir.join(format!("{provider}-{user}.json"))
    }

    /// Loads a user's tokens.
    pub fn load(&self, provider: &str, user: &str) -> Result<Option<Tokens>, IngestError> {
        let path = self.path(provider, user);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(IngestError::io("read", &path, e)),
        };
        let d: OnDisk = serde_json::from_str(&text).map_err(|e| IngestError::Store {
            path: path.clone(),
            message: format!("not a fitpipe token file ({e}); run `fitpipe auth` again"),
        })?;
        Ok(Some(Tokens {
            provider: d.provider,
            user_id: d.user_id,
            access_token: AccessToken::new(d.access_token),
            refresh_token: d.refresh_token.map(RefreshToken::new),
            expires_at: d.expires_at,
            scope: d.scope,
            timezone: d.timezone,
            refresh_expires_at: d.refresh_expires_at,
            refused_at: d.refused_at,
        }))
    }

    /// Every stored user of a provider (or of all providers with `None`).
    pub fn users(&self, provider: Option<&str>) -> Result<Vec<Tokens>, IngestError> {
        let mut out = Vec::new();
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return Ok(out);
        };
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            let Some((prov, user)) = stem.rsplit_once('-') else {
                continue;
            };
            if provider.is_some_and(|p| p != prov) {
                continue;
            }
            if let Some(t) = self.load(prov, user)? {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Saves tokens atomically with mode 0600.
    pub fn save(&self, t: &Tokens) -> Result<(), IngestError> {
        fs::create_dir_all(&self.dir).map_err(|e| IngestError::io("create", &self.dir, e))?;
        restrict_dir(&self.dir);
        let path = self.path(&t.provider, &t.user_id);
        let body = serde_json::to_vec_pretty(&OnDisk {
            provider: t.provider.clone(),
            user_id: t.user_id.clone(),
            access_token: t.access_token.secret().clone(),
            refresh_token: t.refresh_token.as_ref().map(|r| r.secret().clone()),
            expires_at: t.expires_at,
            scope: t.scope.clone(),
            timezone: t.timezone.clone(),
            refresh_expires_at: t.refresh_expires_at,
            refused_at: t.refused_at,
        })
        .expect("token file serialises");
        write_private(&path, &body)
    }

    fn secret_path(&self, provider: &str, user: &str) -> PathBuf {
        self.dir.join(format!("{provider}-{user}.secret"))
    }

    /// Keeps the OAuth client secret that authorised a user (mode 0600, written
    /// atomically), so later runs (cron) need nothing but the command.
    pub fn save_secret(
        &self,
        provider: &str,
        user: &str,
        secret: &oauth2::ClientSecret,
    ) -> Result<(), IngestError> {
        fs::create_dir_all(&self.dir).map_err(|e| IngestError::io("create", &self.dir, e))?;
        restrict_dir(&self.dir);
        write_private(
            &self.secret_path(provider, user),
            secret.secret().as_bytes(),
        )
    }

    /// The client secret kept for a user, if any.
    pub fn load_secret(
        &self,
        provider: &str,
        user: &str,
    ) -> Result<Option<oauth2::ClientSecret>, IngestError> {
        let path = self.secret_path(provider, user);
        match fs::read_to_string(&path) {
            Ok(s) if !s.trim().is_empty() => Ok(Some(oauth2::ClientSecret::new(s.trim().into()))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(IngestError::io("read", &path, e)),
        }
    }

    /// Deletes a user's tokens (and the client secret kept with them).
    pub fn remove(&self, provider: &str, user: &str) -> Result<(), IngestError> {
        let _ = fs::remove_file(self.secret_path(provider, user));
        let path = self.path(provider, user);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(IngestError::io("remove", &path, e))
            }
            _ => Ok(()),
        }
    }

    /// Takes the user's refresh lock (blocks until the other holder is done).
    pub fn lock_user(&self, provider: &str, user: &str) -> Result<UserLock, IngestError> {
        fs::create_dir_all(&self.dir).map_err(|e| IngestError::io("create", &self.dir, e))?;
        let path = self.dir.join(format!("{provider}-{user}.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| IngestError::io("open", &path, e))?;
        file.lock().map_err(|e| IngestError::io("lock", &path, e))?;
        Ok(UserLock { _file: file })
    }
}

/// Writes `bytes` to `path` atomically, readable by the owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), IngestError> {
    write_private_with(path, |w| w.write_all(bytes))
}

/// Writes what `fill` writes to `path` atomically (a temporary file, synced, renamed),
/// readable by the owner only.
pub fn write_private_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), IngestError> {
    let dir = path.parent().expect("files live in a folder");
    fs::create_dir_all(dir).map_err(|e| IngestError::io("create", dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| IngestError::io("create a temporary file in", dir, e))?;
    // tempfile creates files 0600 on Unix; the rename keeps the mode.
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut w).map_err(|e| IngestError::io("write", path, e))?;
        w.flush().map_err(|e| IngestError::io("write", path, e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| IngestError::io("sync", path, e))?;
    tmp.persist(path)
        .map_err(|e| IngestError::io("rename into place", path, e.error))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn restrict_dir(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    }
}
