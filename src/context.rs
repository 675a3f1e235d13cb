//! What the jobs of one process share: the stop token of the command (or of the daemon
//! job), and one MySQL pool. The daemon runs jobs at the same time; each opening its own
//! pool would let them hold more than `mysql.max_connections` connections to the
//! production database together, so the pool is made once, on first use, and every job
//! takes a connection slot from it (docs/operations.md, "What a run does to MySQL").

use std::sync::Arc;

use anyhow::Result;
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::source::mysql::MysqlSource;

#[derive(Clone)]
pub struct Context {
    /// Cancelled when the process is stopping: no new unit of work starts after it.
    pub stop: CancellationToken,
    mysql: Arc<OnceCell<Arc<MysqlSource>>>,
}

impl Context {
    pub fn new(stop: CancellationToken) -> Context {
        Context {
            stop,
            mysql: Arc::new(OnceCell::new()),
        }
    }

    /// The same pool under another stop token (the daemon's last log pass runs after the
    /// stop, with a token of its own).
    pub fn with_stop(&self, stop: CancellationToken) -> Context {
        Context {
            stop,
            mysql: self.mysql.clone(),
        }
    }

    /// The process's MySQL pool, connected on first use; a failed connect is retried by
    /// the next caller.
    pub async fn mysql(&self, config: &Config) -> Result<Arc<MysqlSource>> {
        self.mysql
            .get_or_try_init(|| async { MysqlSource::connect(config).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// Closes the pool, if one was opened: the process is about to end.
    pub async fn close(&self) {
        if let Some(source) = self.mysql.get() {
            source.close().await;
        }
    }
}
