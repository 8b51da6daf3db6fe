//! `dingding-attendance healthcheck`: for container HEALTHCHECKs in images without curl.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::HealthcheckArgs;

pub fn run(args: &HealthcheckArgs) -> ExitCode {
    let url = match &args.url {
        Some(url) => url.clone(),
        None => {
            // Only PORT matters here; the rest of the configuration is the server's business.
            let _ = dotenvy::dotenv();
            let port = std::env::var("PORT").ok().filter(|p| !p.trim().is_empty());
            let port = port.as_deref().unwrap_or("5000").trim().to_owned();
            format!("http://127.0.0.1:{port}/api/health")
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("unhealthy: cannot start runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let timeout = Duration::from_secs(args.timeout.max(1));
    match runtime.block_on(crate::probe::get(&url, timeout)) {
        Ok(response) if response.status == 200 => {
            println!("healthy: {}", response.body.trim());
            ExitCode::SUCCESS
        }
        Ok(response) => {
            eprintln!(
                "unhealthy: {url} answered {}: {}",
                response.status,
                response.body.trim()
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("unhealthy: {url}: {error}");
            ExitCode::FAILURE
        }
    }
}
