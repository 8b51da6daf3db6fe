//! Sweeps over every stored secret (channel URLs and signing secrets, secret settings):
//! at start-up, sealing values stored in plaintext before encryption; for `rekey`,
//! re-sealing values sealed under the previous `SECRET_KEY`. Each sweep is one
//! transaction: all of it or nothing.

use sea_orm::{ActiveModelTrait, ActiveValue, DatabaseTransaction, EntityTrait, QueryOrder, Set};

use super::entity::{channel, setting};
use super::secret_box::{SecretBox, SecretError, channel_aad, setting_aad};
use super::{Services, settings};
use crate::AppError;

/// What a sweep found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Plaintext values (from before encryption) now sealed.
    pub sealed_plaintext: usize,
    /// Values sealed under the old key, now under the current one (`rekey`).
    pub resealed: usize,
    /// Values that already open with the current key.
    pub current: usize,
    /// Where values open with no key given, e.g. "通知渠道 #3 url".
    pub unreadable: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{0}")]
    App(#[from] AppError),
    #[error("{0}")]
    Secret(#[from] SecretError),
    /// `rekey` refuses to leave anything unreadable behind: nothing was changed.
    #[error(
        "{} 个值用旧密钥和当前 SECRET_KEY 都无法解密（{}）：没有做任何修改。请确认 --old-secret-key / OLD_SECRET_KEY 是这些值加密时的 SECRET_KEY",
        .0.len(),
        .0.join("、")
    )]
    Unreadable(Vec<String>),
}

impl From<sea_orm::DbErr> for SweepError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::App(error.into())
    }
}

/// What happens to one stored value.
enum Step {
    Keep,
    Write(String),
}

impl SweepReport {
    /// One stored value: plaintext is sealed; sealed values that only `old` opens are
    /// re-sealed; what nothing opens is listed and left as it is.
    fn visit(
        &mut self,
        current: &SecretBox,
        old: Option<&SecretBox>,
        aad: &str,
        stored: &str,
        place: impl FnOnce() -> String,
    ) -> Result<Step, SecretError> {
        if !SecretBox::is_sealed(stored) {
            self.sealed_plaintext += 1;
            return Ok(Step::Write(current.seal(aad, stored)?));
        }
        if current.open(aad, stored).is_ok() {
            self.current += 1;
            return Ok(Step::Keep);
        }
        match old.map(|old| old.open(aad, stored)) {
            Some(Ok(plain)) => {
                self.resealed += 1;
                Ok(Step::Write(current.seal(aad, &plain)?))
            }
            _ => {
                self.unreadable.push(place());
                Ok(Step::Keep)
            }
        }
    }

    pub fn changed(&self) -> usize {
        self.sealed_plaintext + self.resealed
    }
}

/// Start-up: seals every value still stored in plaintext. Values that do not open with
/// the current key are reported, not changed (the server still starts; those channels
/// and settings say what to do).
pub async fn seal_plaintext(services: &Services) -> Result<SweepReport, SweepError> {
    let txn = services.begin_write().await?;
    let report = sweep(&txn, &services.secrets, None).await?;
    txn.commit().await?;
    Ok(report)
}

/// `rekey`: every value sealed under `old` is re-sealed under the current `SECRET_KEY`
/// (plaintext is sealed too). Refuses, changing nothing, when any value opens with
/// neither key. Repeating it changes nothing.
pub async fn rekey(services: &Services, old: &SecretBox) -> Result<SweepReport, SweepError> {
    let txn = services.begin_write().await?;
    let report = sweep(&txn, &services.secrets, Some(old)).await?;
    if !report.unreadable.is_empty() {
        txn.rollback().await?;
        return Err(SweepError::Unreadable(report.unreadable));
    }
    txn.commit().await?;
    Ok(report)
}

async fn sweep(
    txn: &DatabaseTransaction,
    current: &SecretBox,
    old: Option<&SecretBox>,
) -> Result<SweepReport, SweepError> {
    let mut report = SweepReport::default();
    let channels = channel::Entity::find()
        .order_by_asc(channel::Column::Id)
        .all(txn)
        .await?;
    for row in channels {
        let id = row.id;
        let url = report.visit(current, old, &channel_aad("url", id), &row.url, || {
            format!("通知渠道 #{id} url")
        })?;
        let secret = match row.secret.as_deref() {
            Some(secret) => {
                report.visit(current, old, &channel_aad("secret", id), secret, || {
                    format!("通知渠道 #{id} secret")
                })?
            }
            None => Step::Keep,
        };
        if matches!((&url, &secret), (Step::Keep, Step::Keep)) {
            continue;
        }
        let mut model = channel::ActiveModel {
            id: ActiveValue::Unchanged(id),
            ..Default::default()
        };
        if let Step::Write(url) = url {
            model.url = Set(url);
        }
        if let Step::Write(secret) = secret {
            model.secret = Set(Some(secret));
        }
        model.update(txn).await?;
    }
    let settings_rows = setting::Entity::find()
        .order_by_asc(setting::Column::Key)
        .all(txn)
        .await?;
    for row in settings_rows {
        if !settings::is_sealed_key(&row.key) {
            continue;
        }
        // Values are JSON strings; "" means "back to the default" and holds no secret.
        let Ok(value) = serde_json::from_str::<String>(&row.value) else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let step = report.visit(current, old, &setting_aad(&row.key), &value, || {
            format!("设置 {}", row.key)
        })?;
        if let Step::Write(sealed) = step {
            setting::ActiveModel {
                key: ActiveValue::Unchanged(row.key.clone()),
                value: Set(serde_json::to_string(&sealed).map_err(|_| AppError::Internal)?),
                ..Default::default()
            }
            .update(txn)
            .await?;
        }
    }
    Ok(report)
}
