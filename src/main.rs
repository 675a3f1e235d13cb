//! edlake: Open edX datalake extractor.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use edlake::config::Config;
use edlake::context::Context;
use edlake::daemon;
use edlake::jobs::{check, extract, logs, sync};

#[derive(Parser)]
#[command(name = "edlake", version, about = "Open edX datalake extractor")]
struct Cli {
    /// Config file (default: $EDLAKE_CONFIG, else config/edlake.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Log format on stderr: `text` (default on a terminal) or `json` (one object per line,
    /// default otherwise: containers, cron). Also $EDLAKE_LOG_FORMAT.
    #[arg(long, global = true, value_name = "FORMAT", env = "EDLAKE_LOG_FORMAT")]
    log_format: Option<LogFormat>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Extract the configured MySQL tables, and the course structures when mongodb.url is
    /// set, into the lake.
    Extract {
        /// Only this table (repeatable); must be listed in the config.
        #[arg(long = "table", value_name = "NAME")]
        tables: Vec<String>,
        /// Full extract: every table whole (not only the rows changed since the last run,
        /// which also removes rows deleted in the source), and every course structure, even
        /// those whose published version has not moved.
        #[arg(long)]
        full: bool,
    },
    /// Keep AWS Glue and Athena in step with the lake.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// The daemon: every job on its schedule ([schedule]), with /healthz, /readyz and
    /// /metrics on http.listen, until SIGTERM.
    Run {
        /// Run every job once and exit: 0 if all succeeded, 1 otherwise (for a CronJob).
        #[arg(long)]
        once: bool,
        /// Print each job (on or off, and why), its schedule and its next three fire times
        /// in UTC, then exit 0. Connects to nothing, writes nothing.
        #[arg(long, conflicts_with = "once")]
        dry_run: bool,
    },
    /// Tracking logs: rotate the live file and ship rotated files to the lake.
    Logs {
        #[command(subcommand)]
        command: LogsCommand,
    },
    /// Test every configured endpoint for real (MySQL, the lake, Glue, Athena) and print
    /// the results.
    Check,
    /// Print the effective configuration as TOML, secrets redacted.
    Config,
    /// Import edX research data packages (weekly `{org}-{date}.zip`, their members, daily
    /// event files; encrypted or not) into the lake under lms=<import.lms>.
    Import {
        /// Package files, event files, or directories holding them (walked).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum LogsCommand {
    /// One pass: rotate the live log when due, wait `grace`, ship every settled rotated
    /// file not shipped yet (each line exactly once), delete shipped files after `keep`.
    Ship,
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Create or update the Glue database, tables and partitions and the Athena views from
    /// what the lake holds for this LMS.
    Sync {
        /// Only this table (repeatable); must be listed in the config.
        #[arg(long = "table", value_name = "NAME")]
        tables: Vec<String>,
        /// Read Glue, print the writes that would be made, make none.
        #[arg(long)]
        dry_run: bool,
    },
}

fn main() -> ExitCode {
    one_malloc_arena();
    let cli = Cli::parse();
    let text_on_terminal = init_logging(cli.log_format);
    let long_one_shot = matches!(
        cli.command,
        Command::Extract { .. }
            | Command::Import { .. }
            | Command::Logs {
                command: LogsCommand::Ship
            }
    );
    if text_on_terminal && long_one_shot {
        edlake::progress::enable();
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(&e, 2),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&e.into(), 1),
    };
    let code = runtime.block_on(async move {
        // First, so that a SIGTERM at any moment is handled: in a container edlake is PID 1,
        // which the kernel never kills with an unhandled SIGTERM.
        let stop = match edlake::shutdown::install() {
            Ok(t) => t,
            Err(e) => return fail(&e.into(), 1),
        };
        let ctx = Context::new(stop.clone());
        let daemon = matches!(
            cli.command,
            Command::Run {
                once: false,
                dry_run: false
            }
        );
        let drain = config.drain();
        let work = execute(cli.command, &config, &ctx);
        // The daemon drains its own jobs (and may ship the live log after); every other
        // command gets `schedule.drain` after a stop, then is cancelled.
        let code = match daemon {
            true => Some(work.await),
            false => edlake::shutdown::run_until_stopped(work, &stop, drain).await,
        };
        ctx.close().await;
        if !edlake::shutdown::finish_cleanup(CLEANUP_LIMIT).await {
            tracing::warn!("cleanup still running at exit (a multipart upload abort or a lease release); the bucket's lifecycle rule and lease.ttl cover what it did not finish");
        }
        match edlake::shutdown::received() {
            Some(signal) if !daemon => {
                eprintln!(
                    "error: stopped by signal {signal} before the work was done: what finished is in the lake, nothing partial was published, the next run does the rest"
                );
                ExitCode::from(edlake::shutdown::exit_status(signal))
            }
            _ => code.unwrap_or(ExitCode::from(1)),
        }
    });
    // A job cancelled by a stop may leave work on blocking threads (an encoder noticing its
    // channel closed); it writes only to spool files it removes, so do not wait long.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    code
}

/// How long a stopping process waits for the cleanup of cancelled work (upload aborts,
/// lease releases) before it exits. With `schedule.drain` (default 7 s) it stays within
/// the 10 s an orchestrator allows by default.
const CLEANUP_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs one command; its exit status.
async fn execute(command: Command, config: &Config, ctx: &Context) -> ExitCode {
    match command {
        Command::Run { dry_run: true, .. } => {
            print!("{}", daemon::dry_run::render(config, chrono::Utc::now()));
            ExitCode::SUCCESS
        }
        Command::Run { once: true, .. } => {
            match daemon::run_once(config, ctx).await.failure_line() {
                None => ExitCode::SUCCESS,
                Some(line) => {
                    eprintln!("error: {line}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Run { once: false, .. } => match daemon::run(config.clone(), ctx).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e, 1),
        },
        Command::Config => match config.to_toml() {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, 1),
        },
        Command::Import { paths } => {
            match edlake::jobs::import::run(config, &paths, &ctx.stop).await {
                Ok(report) => {
                    print!("{}", edlake::jobs::import::render(&report));
                    for f in &report.failures {
                        eprintln!("error: {f}");
                    }
                    if report.is_complete() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => fail(&e, 1),
            }
        }
        Command::Check => {
            let probes = check::run(config).await;
            print!("{}", check::render(&probes));
            if probes.iter().all(|p| p.ok) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::Logs {
            command: LogsCommand::Ship,
        } => {
            let settings = match logs::settings::settings(config) {
                Ok(s) => s,
                Err(e) => return fail(&e, 2),
            };
            match logs::ship(config, &ctx.stop).await {
                Ok(report) => {
                    print!("{}", logs::render(&report, &settings));
                    for w in &report.warnings {
                        eprintln!("warning: {w}");
                    }
                    for f in &report.failures {
                        eprintln!("error: {f}");
                    }
                    if let Some(Err(e)) = &report.catalog {
                        eprintln!("error: table {}: catalog: {e}", logs::TABLE);
                    }
                    if report.is_complete() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => fail(&e, 1),
            }
        }
        Command::Extract { tables, full } => {
            if tables.iter().any(|t| t == logs::TABLE) {
                return fail(
                    &anyhow::anyhow!(
                        "tracking_logs is shipped by `edlake logs ship`, not extracted"
                    ),
                    2,
                );
            }
            // A table name the config does not know is a usage error, like a bad config.
            let selected = match extract::select_tables(config, &tables) {
                Ok(s) => s,
                Err(e) => return fail(&e, 2),
            };
            match extract::run(config, ctx, &selected, full).await {
                Ok(outcomes) => {
                    print!("{}", extract::render(&outcomes));
                    let mut incomplete = false;
                    for o in &outcomes {
                        if let Ok(report) = &o.result {
                            for failure in &report.failures {
                                eprintln!("error: table {}: {failure}", o.table);
                                incomplete = true;
                            }
                        }
                    }
                    let code = report_failures(outcomes.iter().map(|o| (&o.table, &o.result)));
                    if incomplete {
                        ExitCode::from(1)
                    } else {
                        code
                    }
                }
                Err(e) => fail(&e, 1),
            }
        }
        Command::Catalog {
            command: CatalogCommand::Sync { tables, dry_run },
        } => {
            if !config.any_catalog_enabled() {
                return fail(&anyhow::anyhow!("every catalog is disabled: catalog.duckdb = false, and catalog.enabled = false or datalake.url is a local directory (Glue and Athena need an s3:// lake)"), 2);
            }
            let selected = match extract::select_tables(config, &tables) {
                Ok(s) => s,
                Err(e) => return fail(&e, 2),
            };
            match sync::run(config, ctx, &selected, dry_run).await {
                Ok((database_ops, outcomes)) => {
                    print!("{}", sync::render(&database_ops, &outcomes, dry_run));
                    report_failures(outcomes.iter().map(|o| (&o.table, &o.result)))
                }
                Err(e) => fail(&e, 1),
            }
        }
    }
}

/// glibc gives threads that allocate at the same time arenas of their own (up to 8 per
/// core), and each arena keeps what was freed in it. The table encoder threads allocate and
/// free the spool's partition buffers while the async threads allocate rows: with several
/// arenas, peak RSS of a 1M-row extract was 65–75 MB; with one, 51–54 MB, at the same speed
/// (edlake's few threads hardly contend for the allocator). `MALLOC_ARENA_MAX` in the
/// environment still overrides this.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter, and it is called first thing in
        // main, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

/// One `error: table X: …` line per failed table; exit 1 if any failed.
fn report_failures<'a, T: 'a>(
    results: impl Iterator<Item = (&'a String, &'a anyhow::Result<T>)>,
) -> ExitCode {
    let mut failed = false;
    for (table, result) in results {
        if let Err(e) = result {
            // Per-table messages never name their table: this does.
            eprintln!("error: table {table}: {}", one_line(e));
            failed = true;
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

fn fail(e: &anyhow::Error, code: u8) -> ExitCode {
    eprintln!("error: {}", one_line(e));
    ExitCode::from(code)
}

/// Logs go to stderr so stdout carries only results. `EDLAKE_LOG` / `RUST_LOG` filter.
/// Human-readable on a terminal, JSON lines otherwise, unless `format` says. True when
/// the log is text on a terminal: the one place progress bars belong.
fn init_logging(format: Option<LogFormat>) -> bool {
    let filter = std::env::var("EDLAKE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn,aws=warn".into());
    let terminal = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(edlake::progress::Stderr)
        .with_target(false);
    match format.unwrap_or(if terminal {
        LogFormat::Text
    } else {
        LogFormat::Json
    }) {
        LogFormat::Text => {
            builder.with_ansi(terminal).init();
            terminal
        }
        LogFormat::Json => {
            builder.json().flatten_event(true).init();
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn extract_flags_parse() {
        use clap::Parser;
        let cli = super::Cli::try_parse_from([
            "edlake", "extract", "--table", "a", "--table", "b", "--full", "--config", "x.toml",
        ])
        .unwrap();
        assert_eq!(cli.config.as_deref(), Some(std::path::Path::new("x.toml")));
        match cli.command {
            super::Command::Extract { tables, full } => {
                assert_eq!(tables, ["a", "b"]);
                assert!(full);
            }
            _ => panic!("not extract"),
        }
    }
}
