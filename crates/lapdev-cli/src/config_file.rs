//! The stored credentials of `lapdev login`: server URL, token and default
//! organization in `<config dir>/lapdev/config.json` (or `$LAPDEV_CONFIG_DIR/config.json`).
//!
//! The file is written atomically with mode 0600, and a directory this module
//! creates gets mode 0700: it holds a bearer token.

use std::io::Write;
use std::path::{Path, PathBuf};

use lapdev_api::{ApiTokenId, OrganizationName, Username};
use serde::{Deserialize, Serialize};

use crate::client::{ServerUrl, Token};

const FILE_NAME: &str = "config.json";

/// What `lapdev login` remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Credentials {
    pub(crate) server: ServerUrl,
    pub(crate) token: Token,
    /// The token's id, to revoke it at logout; absent for a token given with `--token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token_id: Option<ApiTokenId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) username: Option<Username>,
    /// The organization commands act in when `--org` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) organization: Option<OrganizationName>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigFileError {
    #[error("no config directory on this system: set LAPDEV_CONFIG_DIR")]
    NoConfigDir,
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a valid lapdev config file ({reason}): fix or delete it, then run `lapdev login`"
    )]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The location of the credentials file.
#[derive(Debug, Clone)]
pub(crate) struct ConfigFile {
    dir: PathBuf,
}

impl ConfigFile {
    /// `override_dir` is `--config-dir` / `LAPDEV_CONFIG_DIR`.
    pub(crate) fn locate(override_dir: Option<&Path>) -> Result<Self, ConfigFileError> {
        let dir = match override_dir {
            Some(dir) => dir.to_owned(),
            None => dirs::config_dir()
                .ok_or(ConfigFileError::NoConfigDir)?
                .join("lapdev"),
        };
        Ok(Self { dir })
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// The stored credentials, or `None` when nobody is logged in.
    pub(crate) fn load(&self) -> Result<Option<Credentials>, ConfigFileError> {
        let path = self.path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(ConfigFileError::Read { path, source }),
        };
        // serde_json's message can quote the input: keep the token out of it.
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ConfigFileError::Invalid {
                path,
                reason: format!("{:?} at line {}", e.classify(), e.line()).to_lowercase(),
            })
    }

    /// Replaces the stored credentials (atomically, mode 0600).
    pub(crate) fn save(&self, credentials: &Credentials) -> Result<(), ConfigFileError> {
        let path = self.path();
        let write_err = |source| ConfigFileError::Write {
            path: path.clone(),
            source,
        };
        create_private_dir(&self.dir).map_err(write_err)?;
        let mut text = serde_json::to_string_pretty(credentials).expect("credentials serialize");
        text.push('\n');
        let tmp = self
            .dir
            .join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
        let written =
            write_private(&tmp, text.as_bytes()).and_then(|()| std::fs::rename(&tmp, &path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(write_err)
    }

    /// Forgets the stored credentials. Returns whether there were any.
    pub(crate) fn remove(&self) -> Result<bool, ConfigFileError> {
        let path = self.path();
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(ConfigFileError::Write { path, source }),
        }
    }
}

/// Creates `dir` (and parents) with mode 0700 if it does not exist. An
/// existing directory keeps its mode: it may be one the user chose.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes a new file readable only by its owner (mode 0600 on Unix).
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Credentials {
        Credentials {
            server: "http://127.0.0.1:8080".parse().unwrap(),
            token: "lpd_secret".parse().unwrap(),
            token_id: None,
            username: Some(Username::parse("alice").unwrap()),
            organization: Some(OrganizationName::parse("acme").unwrap()),
        }
    }

    #[test]
    fn save_load_remove_round_trip_with_private_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let file = ConfigFile::locate(Some(&tmp.path().join("nested/lapdev"))).unwrap();
        assert_eq!(file.load().unwrap(), None);

        file.save(&sample()).unwrap();
        file.save(&sample()).unwrap(); // replacing works too
        assert_eq!(file.load().unwrap(), Some(sample()));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file.path()), 0o600);
            assert_eq!(mode(&tmp.path().join("nested/lapdev")), 0o700);
        }

        assert!(file.remove().unwrap());
        assert!(!file.remove().unwrap());
        assert_eq!(file.load().unwrap(), None);
    }

    #[test]
    fn a_broken_file_is_reported_without_its_contents() {
        let tmp = tempfile::tempdir().unwrap();
        let file = ConfigFile::locate(Some(tmp.path())).unwrap();
        std::fs::write(
            file.path(),
            r#"{"server": "http://x", "token": 12, "lpd_secret"#,
        )
        .unwrap();
        let err = file.load().unwrap_err().to_string();
        assert!(!err.contains("lpd_secret"), "{err}");
        assert!(err.contains("not a valid lapdev config file"), "{err}");
    }
}
