//! `dingding-attendance healthcheck`: for container HEALTHCHECKs in images without curl.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::HealthcheckArgs;

pub fn run(args: &HealthcheckArgs) -> ExitCode {
    let url = match &args.url {
        Some(url) => url.clone(),
        None => {
            // Only HOST and PORT matter here; the rest is the server's business.
            if let Err(error) = crate::config::load_dot_env(std::path::Path::new(".env")) {
                eprintln!("unhealthy: {error}");
                return ExitCode::FAILURE;
            }
            let var = |name: &str| {
                std::env::var(name)
                    .ok()
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
            };
            let port = var("PORT").unwrap_or_else(|| "5000".to_owned());
            format!(
                "http://{}:{port}/api/health",
                probe_host(var("HOST").as_deref())
            )
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

/// The address to reach a server listening on `host`: a wildcard listens on loopback too.
fn probe_host(host: Option<&str>) -> String {
    match host.map(str::parse::<std::net::IpAddr>) {
        Some(Ok(ip)) if ip.is_unspecified() => "127.0.0.1".to_owned(),
        Some(Ok(std::net::IpAddr::V6(ip))) => format!("[{ip}]"),
        Some(Ok(ip)) => ip.to_string(),
        _ => "127.0.0.1".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::probe_host;

    #[test]
    fn wildcard_hosts_are_probed_on_loopback() {
        assert_eq!(probe_host(None), "127.0.0.1");
        assert_eq!(probe_host(Some("0.0.0.0")), "127.0.0.1");
        assert_eq!(probe_host(Some("::")), "127.0.0.1");
        assert_eq!(probe_host(Some("10.1.2.3")), "10.1.2.3");
        assert_eq!(probe_host(Some("::1")), "[::1]");
    }
}
