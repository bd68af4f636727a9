//! What every command that opens the vault shares: where the vault is, unlocking it (with
//! the passphrase, the recovery key, or the duress passphrase: the same path), and creating
//! one.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::secret::Passphrase;
use crate::switch::alarm::open_vault;
use crate::vault::keyslots::KdfParams;
use crate::vault::{self, Unlock, Vault};

use super::passphrase::{self, Source};
use super::{UsageError, switch, words};

/// What every command may need: where the vault is and how to unlock it.
pub(super) struct Session {
    pub(super) dir: PathBuf,
    pub(super) passphrase: Source,
    pub(super) recovery_key_file: Option<PathBuf>,
}

pub(super) fn default_vault_dir() -> Result<PathBuf> {
    let base = dirs::data_dir().ok_or_else(|| UsageError(words::t("no-data-dir")))?;
    Ok(base.join("posbon").join("vault"))
}

fn dir_text(ctx: &Session) -> String {
    ctx.dir.display().to_string()
}

/// Opens the vault with the recovery key file or the passphrase; returns the passphrase too
/// when one was used (backups may be sealed with it).
pub(super) fn unlock(ctx: &Session) -> Result<(Vault, Option<Passphrase>)> {
    if !vault::exists(&ctx.dir) {
        return Err(vault::VaultError::NotFound(ctx.dir.clone()).into());
    }
    let (result, passphrase) = match &ctx.recovery_key_file {
        Some(path) => {
            let key = passphrase::from_file(path)?;
            (open_vault(&ctx.dir, Unlock::RecoveryKey(&key)), None)
        }
        None => {
            let passphrase = ctx.passphrase.read(&words::t("prompt-passphrase"))?;
            (
                open_vault(&ctx.dir, Unlock::Passphrase(&passphrase)),
                Some(passphrase),
            )
        }
    };
    let (vault, notices) =
        result.with_context(|| words::with("cannot-open-vault", &[("dir", &dir_text(ctx))]))?;
    super::zone::use_vault_zone(&vault);
    if let Some(notices) = notices {
        switch::send_unlock_notices(notices);
    }
    let notices: Vec<String> = vault.notices().iter().map(super::said::notice).collect();
    for notice in counted(&notices) {
        eprintln!("posbon: {notice}");
    }
    Ok((vault, passphrase))
}

/// `lines` with repeats folded into one line and a count: every command run under the
/// duress passphrase is an unlock, and four of them in a minute read better as "4 times".
pub(super) fn counted<S: AsRef<str>>(lines: &[S]) -> Vec<String> {
    let mut folded: Vec<(String, usize)> = Vec::new();
    for line in lines {
        match folded.iter_mut().find(|(seen, _)| seen == line.as_ref()) {
            Some((_, count)) => *count += 1,
            None => folded.push((line.as_ref().to_string(), 1)),
        }
    }
    folded
        .into_iter()
        .map(|(line, count)| match count {
            1 => line,
            n => words::count("times", "count", n as i64, &[("line", &line)]),
        })
        .collect()
}

pub(super) fn init(ctx: &Session, insecure_fast_kdf: bool) -> Result<()> {
    if vault::exists(&ctx.dir) {
        return Err(vault::VaultError::AlreadyExists(ctx.dir.clone()).into());
    }
    let passphrase = ctx
        .passphrase
        .read_new(&words::t("prompt-new-passphrase"))?;
    create(ctx, &passphrase, insecure_fast_kdf)
}

pub(super) fn create(
    ctx: &Session,
    passphrase: &Passphrase,
    insecure_fast_kdf: bool,
) -> Result<()> {
    let kdf = if insecure_fast_kdf {
        eprintln!("posbon: {}", words::t("insecure-fast-kdf"));
        KdfParams::INSECURE_FAST
    } else {
        KdfParams::INTERACTIVE
    };
    Vault::create(&ctx.dir, passphrase, kdf)
        .with_context(|| words::with("cannot-create-vault", &[("dir", &dir_text(ctx))]))?;
    eprintln!(
        "{}",
        words::with("created-vault", &[("dir", &dir_text(ctx))])
    );
    if let Some(warning) = vault::keyslots::erasure_warning(&ctx.dir) {
        eprintln!("posbon: {}", super::said::notice(&warning));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_lines_are_folded_with_a_count_in_first_seen_order() {
        let lines = ["a", "b", "a", "a", "c"];
        assert_eq!(super::counted(&lines), ["a (3 times)", "b", "c"]);
        assert!(super::counted::<&str>(&[]).is_empty());
    }
}
