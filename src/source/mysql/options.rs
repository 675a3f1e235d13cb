//! `[mysql]` resolved: connection options with the password from its highest-priority
//! source, and the endpoint and database as they may be printed.

use std::str::FromStr;

use anyhow::{Context, Result};

use crate::config::Config;

/// Connection options with the password resolved from its highest-priority source.
pub fn connect_options(config: &Config) -> Result<sqlx::mysql::MySqlConnectOptions> {
    let mut options = sqlx::mysql::MySqlConnectOptions::from_str(config.mysql.url.expose())
        .map_err(|_| anyhow::anyhow!("invalid configuration: mysql.url could not be parsed as mysql://user:password@host:port/database"))?;
    if let Some(password) = &config.mysql.password {
        options = options.password(password.expose());
    }
    if let Some(file) = &config.mysql.password_file {
        let password = std::fs::read_to_string(file).with_context(|| {
            format!(
                "cannot read mysql.password_file {} (check the secret mount)",
                file.display()
            )
        })?;
        options = options.password(password.trim_end_matches(['\r', '\n']));
    }
    // A whole-table scan is slow by nature; sqlx would warn about every one.
    use sqlx::ConnectOptions;
    Ok(options
        .charset("utf8mb4")
        .log_statements(log::LevelFilter::Debug)
        .log_slow_statements(log::LevelFilter::Off, std::time::Duration::from_secs(3600)))
}

/// `host:port/database` of the MySQL URL, safe to print.
pub fn endpoint_of(config: &Config) -> String {
    match url::Url::parse(config.mysql.url.expose()) {
        Ok(u) => format!(
            "{}:{}{}",
            u.host_str().unwrap_or("localhost"),
            u.port().unwrap_or(3306),
            u.path()
        ),
        Err(_) => "<unparseable mysql.url>".into(),
    }
}

pub fn database_of(config: &Config) -> String {
    url::Url::parse(config.mysql.url.expose())
        .map(|u| u.path().trim_matches('/').to_string())
        .unwrap_or_default()
}
