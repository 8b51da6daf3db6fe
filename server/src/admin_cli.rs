//! `create-admin`: creates an admin or resets a user's password and makes them admin.
//! The password comes from `--password-stdin`, `ADMIN_PASSWORD`, or a prompt (typed twice,
//! never echoed); weak passwords are refused.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use anyhow::{Context, bail};
use app::ssr::SystemClock;
use app::ssr::bootstrap::{self, CreateAdminOutcome};

use crate::cli::CreateAdminArgs;
use crate::config::Config;
use crate::{db, startup};

fn read_password(args: &CreateAdminArgs, config: &Config) -> anyhow::Result<String> {
    if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        if password.is_empty() {
            bail!("--password-stdin: standard input was empty");
        }
        return Ok(password);
    }
    if let Some(password) = &config.admin_password {
        return Ok(password.expose().to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no password given: pipe it with --password-stdin, set ADMIN_PASSWORD, or run in a terminal to be prompted"
        );
    }
    let first =
        rpassword::prompt_password(format!("新密码 / new password for {}: ", args.username))
            .context("cannot read the password")?;
    let second =
        rpassword::prompt_password("再次输入 / repeat: ").context("cannot read the password")?;
    if first != second {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

pub async fn run(config: &Config, args: &CreateAdminArgs) -> anyhow::Result<()> {
    let password = read_password(args, config)?;
    let database = db::open(config).await?;
    let services = startup::build_services(config, database.clone(), Arc::new(SystemClock))?;
    let outcome = bootstrap::create_admin(&services, &args.username, &password)
        .await
        .map_err(|error| anyhow::anyhow!("{error}; nothing was changed"))?;
    database.close().await.ok();
    match outcome {
        CreateAdminOutcome::Created => {
            println!(
                "已创建管理员 {} / created admin {}",
                args.username.trim(),
                args.username.trim()
            );
        }
        CreateAdminOutcome::Reset => println!(
            "已重置 {0} 的密码并设为启用的管理员，其所有会话已结束 / {0}: password reset, now an active admin, signed out everywhere",
            args.username.trim()
        ),
    }
    Ok(())
}
