//! [`AthenaApi`] on the AWS SDK, and waiting for a query's final state.

use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use async_trait::async_trait;
use aws_sdk_athena::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_athena::types::{
    QueryExecutionContext, QueryExecutionState, ResultConfiguration, WorkGroupState,
};
use aws_sdk_athena::Client;

use crate::aws::Endpoint;
use crate::catalog::api::{AthenaApi, Polling, QueryState, QueryStatus};

pub struct SdkAthena {
    client: Client,
    endpoint: Endpoint,
    workgroup: String,
    output: Option<String>,
    database: String,
}

impl SdkAthena {
    pub fn new(
        (client, endpoint): (Client, Endpoint),
        workgroup: &str,
        output: Option<&str>,
        database: &str,
    ) -> Self {
        SdkAthena {
            client,
            endpoint,
            workgroup: workgroup.to_string(),
            output: output.map(str::to_string),
            database: database.to_string(),
        }
    }

    /// Errors unless the workgroup exists and is enabled.
    pub async fn check_workgroup(&self) -> Result<()> {
        let out = self
            .client
            .get_work_group()
            .work_group(&self.workgroup)
            .send()
            .await
            .map_err(|e| anyhow!(self.describe("GetWorkGroup", &self.workgroup, &e)))?;
        let Some(workgroup) = out.work_group() else {
            bail!(
                "Athena workgroup {} does not exist (create it or set catalog.athena_workgroup)",
                self.workgroup
            );
        };
        match workgroup.state() {
            Some(WorkGroupState::Disabled) => bail!(
                "Athena workgroup {} is disabled (enable it or set catalog.athena_workgroup)",
                self.workgroup
            ),
            _ => Ok(()),
        }
    }
}

impl SdkAthena {
    fn describe<E, R>(&self, operation: &str, target: &str, err: &SdkError<E, R>) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        super::sdk::describe_sdk_error(&self.endpoint, "athena", operation, target, err)
    }
}

#[async_trait]
impl AthenaApi for SdkAthena {
    async fn start_query(&self, sql: &str) -> Result<String> {
        let mut req = self
            .client
            .start_query_execution()
            .query_string(sql)
            .work_group(&self.workgroup)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .database(&self.database)
                    .build(),
            );
        if let Some(output) = &self.output {
            req = req.result_configuration(
                ResultConfiguration::builder()
                    .output_location(output)
                    .build(),
            );
        }
        let out = req.send().await.map_err(|e| {
            anyhow!(self.describe(
                "StartQueryExecution",
                &format!("in workgroup {}", self.workgroup),
                &e
            ))
        })?;
        out.query_execution_id()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("Athena returned no query execution id"))
    }

    async fn query_status(&self, id: &str) -> Result<QueryStatus> {
        let out = self
            .client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| anyhow!(self.describe("GetQueryExecution", id, &e)))?;
        let status = out.query_execution().and_then(|q| q.status());
        let state = match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Succeeded) => QueryState::Succeeded,
            Some(QueryExecutionState::Failed) => QueryState::Failed,
            Some(QueryExecutionState::Cancelled) => QueryState::Cancelled,
            Some(QueryExecutionState::Running) => QueryState::Running,
            _ => QueryState::Queued,
        };
        let reason = status.and_then(|s| {
            s.athena_error()
                .and_then(|e| e.error_message())
                .or(s.state_change_reason())
                .map(str::to_string)
        });
        Ok(QueryStatus { state, reason })
    }

    async fn stop_query(&self, id: &str) -> Result<()> {
        self.client
            .stop_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| anyhow!(self.describe("StopQueryExecution", id, &e)))?;
        Ok(())
    }
}

/// Starts `sql` and polls with growing intervals until SUCCEEDED (Ok), FAILED or CANCELLED
/// (an error with Athena's reason), or the timeout (the query is stopped, then an error).
/// A query may go RUNNING → QUEUED again on transient errors; only final states end the wait.
pub async fn wait_for(
    athena: &dyn AthenaApi,
    sql: &str,
    purpose: &str,
    polling: Polling,
) -> Result<()> {
    let id = athena.start_query(sql).await?;
    let started = Instant::now();
    let mut interval = polling.first;
    loop {
        let status = athena.query_status(&id).await?;
        match status.state {
            QueryState::Succeeded => return Ok(()),
            QueryState::Failed | QueryState::Cancelled => bail!(
                "Athena query {id} {purpose} {}: {}",
                if status.state == QueryState::Failed {
                    "FAILED"
                } else {
                    "was CANCELLED"
                },
                status.reason.as_deref().unwrap_or("no reason given")
            ),
            QueryState::Queued | QueryState::Running => {}
        }
        if started.elapsed() >= polling.timeout {
            let _ = athena.stop_query(&id).await;
            bail!(
                "Athena query {id} {purpose} did not finish within {} s and was stopped (raise catalog.athena_timeout_secs)",
                polling.timeout.as_secs()
            );
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 3 / 2).min(polling.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::stubs::{polling, StubAthena};

    #[tokio::test]
    async fn queries_survive_requeueing_and_time_out_with_a_stop() {
        let athena = StubAthena::scripted(&[
            (QueryState::Running, None),
            (QueryState::Queued, None),
            (QueryState::Running, None),
        ]);
        wait_for(&athena, "SELECT 1", "probing", polling())
            .await
            .unwrap();

        let athena = StubAthena::scripted(&[(QueryState::Cancelled, Some("user cancelled"))]);
        let err = wait_for(&athena, "SELECT 1", "probing", polling())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("was CANCELLED: user cancelled"), "{err}");

        let forever: Vec<_> = (0..10_000).map(|_| (QueryState::Running, None)).collect();
        let athena = StubAthena::scripted(&forever);
        let err = wait_for(&athena, "SELECT 1", "probing", polling())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("did not finish within"), "{err}");
        assert_eq!(athena.stopped.lock().unwrap().as_slice(), ["q1"]);
    }
}
