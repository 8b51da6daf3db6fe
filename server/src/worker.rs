//! The reminder worker: apalis-cron inside the server process, used only as a tick. All the
//! hard parts (ticks missed while down, two processes, daylight saving) are handled by the
//! tick itself, which computes what became due since the last completed tick and records it
//! in the database under a unique key; see `app::ssr::reminders`.

use std::future::Future;
use std::str::FromStr;

use apalis::prelude::{Data, WorkerBuilder};
use apalis_cron::{CronScheduler, Tick};
use app::ssr::Services;
use app::ssr::reminders;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn on_tick(_tick: Tick, services: Data<Services>) -> Result<(), BoxError> {
    match reminders::run_tick(&services).await {
        Ok(_) => Ok(()),
        Err(error) => {
            tracing::warn!(%error, "reminder tick failed; the next tick retries");
            Err(error.to_string().into())
        }
    }
}

/// Ticks every `tick_seconds` (a divisor of 60, on the second) until `shutdown` completes.
pub async fn run(
    services: Services,
    tick_seconds: u32,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let expression = format!("*/{tick_seconds} * * * * *");
    let schedule = cron::Schedule::from_str(&expression)
        .map_err(|error| anyhow::anyhow!("bad tick schedule {expression}: {error}"))?;
    // One tick at once, before the first cron tick, so a restart catches up immediately.
    if let Err(error) = reminders::run_tick(&services).await {
        tracing::warn!(%error, "first reminder tick failed; the next tick retries");
    }
    let worker = WorkerBuilder::new("reminders")
        .backend(CronScheduler::new(schedule))
        .data(services)
        .build(on_tick);
    tracing::info!(every_seconds = tick_seconds, "reminder worker started");
    worker
        .run_until(async move {
            shutdown.await;
            Ok::<(), std::io::Error>(())
        })
        .await
        .map_err(|error| anyhow::anyhow!("the reminder worker failed: {error}"))?;
    tracing::info!("reminder worker stopped");
    Ok(())
}
