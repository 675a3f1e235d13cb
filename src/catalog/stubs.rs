//! Test doubles of the catalog's backends that enforce what the emulator does not: Glue's
//! batch limits, its paging, per-partition errors, and Athena's FAILED queries.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Result};
use async_trait::async_trait;

use super::api::{
    AthenaApi, GlueApi, GluePartition, PartitionFailure, PartitionPage, PartitionSpec, Polling,
    QueryState, QueryStatus, TableDefinition, MAX_CREATE_BATCH, MAX_DELETE_BATCH, MAX_UPDATE_BATCH,
    VIRTUAL_VIEW,
};

#[derive(Default)]
pub struct GlueState {
    pub databases: Vec<String>,
    pub tables: HashMap<String, TableDefinition>,
    pub partitions: HashMap<String, BTreeMap<Vec<String>, GluePartition>>,
    pub calls: BTreeMap<&'static str, u64>,
}

/// An in-memory Glue with AWS's limits: ≤ 100 partitions per create/update, ≤ 25 per
/// delete, `page_size` partitions per GetPartitions page.
pub struct StubGlue {
    pub state: Mutex<GlueState>,
    pub page_size: usize,
    /// Partition values containing this string are refused with InvalidInputException.
    pub refuse: Option<String>,
}

impl StubGlue {
    pub fn new(page_size: usize) -> StubGlue {
        StubGlue {
            state: Mutex::new(GlueState::default()),
            page_size,
            refuse: None,
        }
    }

    pub fn count(&self, op: &'static str) {
        *self.state.lock().unwrap().calls.entry(op).or_default() += 1;
    }

    pub fn calls(&self, op: &'static str) -> u64 {
        self.state
            .lock()
            .unwrap()
            .calls
            .get(op)
            .copied()
            .unwrap_or(0)
    }

    pub fn total_calls(&self) -> u64 {
        self.state.lock().unwrap().calls.values().sum()
    }

    pub fn writes(&self) -> u64 {
        let s = self.state.lock().unwrap();
        s.calls
            .iter()
            .filter(|(k, _)| !k.starts_with("Get") && **k != "GetDatabase")
            .map(|(_, v)| v)
            .sum()
    }

    pub fn reset_calls(&self) {
        self.state.lock().unwrap().calls.clear();
    }

    pub fn partition_values(&self, table: &str) -> Vec<Vec<String>> {
        self.state
            .lock()
            .unwrap()
            .partitions
            .get(table)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn partition(&self, table: &str, values: &[String]) -> GluePartition {
        self.state.lock().unwrap().partitions[table][values].clone()
    }

    pub fn put_view(&self, name: &str) {
        self.state.lock().unwrap().tables.insert(
            name.into(),
            TableDefinition {
                table_type: VIRTUAL_VIEW.into(),
                columns: vec![],
                partition_keys: vec![],
                location: String::new(),
                serde_library: String::new(),
                serde_parameters: BTreeMap::new(),
                parameters: BTreeMap::new(),
            },
        );
    }

    pub fn insert_partition(&self, table: &str, p: GluePartition) {
        self.state
            .lock()
            .unwrap()
            .partitions
            .entry(table.into())
            .or_default()
            .insert(p.values.clone(), p);
    }
}

pub fn to_glue(def: &TableDefinition, p: &PartitionSpec) -> GluePartition {
    GluePartition {
        values: p.values.clone(),
        location: p.location.clone(),
        columns: def.columns.clone(),
        serde_library: def.serde_library.clone(),
    }
}

#[async_trait]
impl GlueApi for StubGlue {
    async fn database_exists(&self, database: &str) -> Result<bool> {
        self.count("GetDatabase");
        Ok(self
            .state
            .lock()
            .unwrap()
            .databases
            .contains(&database.to_string()))
    }

    async fn create_database(&self, database: &str) -> Result<()> {
        self.count("CreateDatabase");
        self.state
            .lock()
            .unwrap()
            .databases
            .push(database.to_string());
        Ok(())
    }

    async fn get_table(&self, _db: &str, table: &str) -> Result<Option<TableDefinition>> {
        self.count("GetTable");
        Ok(self.state.lock().unwrap().tables.get(table).cloned())
    }

    async fn create_table(&self, _db: &str, table: &str, def: &TableDefinition) -> Result<()> {
        self.count("CreateTable");
        let mut s = self.state.lock().unwrap();
        if s.tables.contains_key(table) {
            bail!("AlreadyExistsException");
        }
        s.tables.insert(table.into(), def.clone());
        Ok(())
    }

    async fn update_table(&self, _db: &str, table: &str, def: &TableDefinition) -> Result<()> {
        self.count("UpdateTable");
        let mut s = self.state.lock().unwrap();
        if !s.tables.contains_key(table) {
            bail!("EntityNotFoundException");
        }
        s.tables.insert(table.into(), def.clone());
        Ok(())
    }

    async fn get_partitions(
        &self,
        _db: &str,
        table: &str,
        expression: &str,
        next_token: Option<String>,
    ) -> Result<PartitionPage> {
        self.count("GetPartitions");
        let lms = expression
            .strip_prefix("lms = '")
            .and_then(|e| e.strip_suffix('\''))
            .expect("filtered by lms")
            .replace("''", "'");
        let s = self.state.lock().unwrap();
        let all: Vec<GluePartition> = s
            .partitions
            .get(table)
            .map(|p| p.values().filter(|p| p.values[0] == lms).cloned().collect())
            .unwrap_or_default();
        let start: usize = next_token.map(|t| t.parse().unwrap()).unwrap_or(0);
        let end = (start + self.page_size).min(all.len());
        Ok(PartitionPage {
            partitions: all[start..end].to_vec(),
            next_token: (end < all.len()).then(|| end.to_string()),
        })
    }

    async fn batch_create_partition(
        &self,
        _db: &str,
        table: &str,
        def: &TableDefinition,
        partitions: &[PartitionSpec],
    ) -> Result<Vec<PartitionFailure>> {
        self.count("BatchCreatePartition");
        if partitions.len() > MAX_CREATE_BATCH {
            bail!("ValidationException: more than 100 partitions");
        }
        let mut s = self.state.lock().unwrap();
        let existing = s.partitions.entry(table.into()).or_default();
        let mut failures = Vec::new();
        for p in partitions {
            if let Some(bad) = &self.refuse {
                if p.values.iter().any(|v| v.contains(bad.as_str())) {
                    failures.push(PartitionFailure {
                        values: p.values.clone(),
                        code: "InvalidInputException".into(),
                        message: "bad value".into(),
                    });
                    continue;
                }
            }
            if existing.contains_key(&p.values) {
                failures.push(PartitionFailure {
                    values: p.values.clone(),
                    code: "AlreadyExistsException".into(),
                    message: "Partition already exists.".into(),
                });
                continue;
            }
            existing.insert(p.values.clone(), to_glue(def, p));
        }
        Ok(failures)
    }

    async fn batch_update_partition(
        &self,
        _db: &str,
        table: &str,
        def: &TableDefinition,
        partitions: &[PartitionSpec],
    ) -> Result<Vec<PartitionFailure>> {
        self.count("BatchUpdatePartition");
        if partitions.len() > MAX_UPDATE_BATCH {
            bail!("ValidationException: more than 100 entries");
        }
        let mut s = self.state.lock().unwrap();
        let existing = s.partitions.entry(table.into()).or_default();
        for p in partitions {
            existing.insert(p.values.clone(), to_glue(def, p));
        }
        Ok(vec![])
    }

    async fn batch_delete_partition(
        &self,
        _db: &str,
        table: &str,
        values: &[Vec<String>],
    ) -> Result<Vec<PartitionFailure>> {
        self.count("BatchDeletePartition");
        if values.len() > MAX_DELETE_BATCH {
            bail!("ValidationException: more than 25 partitions");
        }
        let mut s = self.state.lock().unwrap();
        let existing = s.partitions.entry(table.into()).or_default();
        for v in values {
            existing.remove(v);
        }
        Ok(vec![])
    }
}

/// Athena that answers each status poll from a script (then SUCCEEDED) and records queries.
#[derive(Default)]
pub struct StubAthena {
    pub script: Mutex<VecDeque<QueryStatus>>,
    pub queries: Mutex<Vec<String>>,
    pub stopped: Mutex<Vec<String>>,
}

impl StubAthena {
    pub fn scripted(states: &[(QueryState, Option<&str>)]) -> StubAthena {
        let a = StubAthena::default();
        *a.script.lock().unwrap() = states
            .iter()
            .map(|(state, reason)| QueryStatus {
                state: *state,
                reason: reason.map(str::to_string),
            })
            .collect();
        a
    }

    pub fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

#[async_trait]
impl AthenaApi for StubAthena {
    async fn start_query(&self, sql: &str) -> Result<String> {
        let mut q = self.queries.lock().unwrap();
        q.push(sql.to_string());
        Ok(format!("q{}", q.len()))
    }

    async fn query_status(&self, _id: &str) -> Result<QueryStatus> {
        Ok(self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(QueryStatus {
                state: QueryState::Succeeded,
                reason: None,
            }))
    }

    async fn stop_query(&self, id: &str) -> Result<()> {
        self.stopped.lock().unwrap().push(id.to_string());
        Ok(())
    }
}

/// Polling fast enough for tests; a stuck query times out in 200 ms.
pub fn polling() -> Polling {
    Polling {
        first: Duration::from_millis(1),
        max: Duration::from_millis(2),
        timeout: Duration::from_millis(200),
    }
}
