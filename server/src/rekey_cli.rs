//! `rekey`: after `SECRET_KEY` changed, re-encrypts every stored secret (robot URLs and
//! signing secrets, secret settings) from the previous key to the current one, in one
//! transaction. A value that opens with neither key stops it with nothing changed.

use std::sync::Arc;

use anyhow::bail;
use app::ssr::SystemClock;
use app::ssr::secret_box::SecretBox;
use app::ssr::secret_store;

use crate::cli::RekeyArgs;
use crate::config::{Config, DEVELOPMENT_SECRET_KEY};
use crate::{db, startup};

fn old_key(args: &RekeyArgs) -> anyhow::Result<String> {
    if args.from_development_key {
        return Ok(DEVELOPMENT_SECRET_KEY.to_owned());
    }
    // Read after the configuration loaded .env, so OLD_SECRET_KEY may live there too.
    let key = args
        .old_secret_key
        .clone()
        .or_else(|| std::env::var("OLD_SECRET_KEY").ok())
        .map(|key| key.trim().to_owned())
        .filter(|key| !key.is_empty());
    match key {
        Some(key) => Ok(key),
        None => bail!(
            "the previous SECRET_KEY is needed: set OLD_SECRET_KEY (or pass --old-secret-key; \
             --from-development-key when SECRET_KEY used to be unset); nothing was changed"
        ),
    }
}

pub async fn run(config: &Config, args: &RekeyArgs) -> anyhow::Result<()> {
    let old = old_key(args)?;
    if old == config.secret_key.expose() {
        bail!(
            "OLD_SECRET_KEY is the current SECRET_KEY: set SECRET_KEY to the new key first; \
             nothing was changed"
        );
    }
    let database = db::open(config).await?;
    let services = startup::build_services(config, database.clone(), Arc::new(SystemClock))?;
    let outcome = secret_store::rekey(&services, &SecretBox::from_secret_key(&old)).await;
    database.close().await.ok();
    let report = outcome.map_err(|error| anyhow::anyhow!("{error}"))?;
    println!(
        "已用当前 SECRET_KEY 重新加密 {} 个值（旧密钥加密 {} 个，原为明文 {} 个），{} 个已是当前密钥 / \
         re-encrypted {} value(s) with the current SECRET_KEY ({} from the old key, {} from plaintext), {} already current",
        report.changed(),
        report.resealed,
        report.sealed_plaintext,
        report.current,
        report.changed(),
        report.resealed,
        report.sealed_plaintext,
        report.current,
    );
    tracing::info!(
        resealed = report.resealed,
        sealed_plaintext = report.sealed_plaintext,
        current = report.current,
        "rekey"
    );
    Ok(())
}
