//! [`GlueApi`] on the AWS SDK.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};
use async_trait::async_trait;
use aws_sdk_glue::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_glue::types::{
    BatchUpdatePartitionRequestEntry, Column, DatabaseInput, PartitionInput, PartitionValueList,
    SerDeInfo, StorageDescriptor, Table, TableInput,
};
use aws_sdk_glue::Client;

use crate::aws::Endpoint;

use crate::catalog::api::{
    io_formats, CatalogColumn, GlueApi, GluePartition, PartitionFailure, PartitionPage,
    PartitionSpec, TableDefinition, PARTITION_PAGE_SIZE,
};

pub struct SdkGlue {
    pub(super) client: Client,
    pub(super) endpoint: Endpoint,
}

impl SdkGlue {
    fn describe<E, R>(&self, operation: &str, target: &str, err: &SdkError<E, R>) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        super::sdk::describe_sdk_error(&self.endpoint, "glue", operation, target, err)
    }
}

fn is_not_found<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error().and_then(|e| e.code()) == Some("EntityNotFoundException")
}

fn glue_column(c: &CatalogColumn) -> Result<Column> {
    // Glue comments stop at 255 characters; long ENUM lists are cut to the base type, all
    // the view needs.
    let comment = if c.mysql_type.len() <= 255 {
        c.mysql_type.clone()
    } else {
        c.mysql_type
            .split(['(', ' '])
            .next()
            .unwrap_or_default()
            .to_string()
    };
    Ok(Column::builder()
        .name(&c.name)
        .r#type(&c.glue_type)
        .comment(comment)
        .build()?)
}

fn storage_descriptor(def: &TableDefinition, location: &str) -> Result<StorageDescriptor> {
    let columns = def
        .columns
        .iter()
        .map(glue_column)
        .collect::<Result<Vec<_>>>()?;
    Ok(StorageDescriptor::builder()
        .set_columns(Some(columns))
        .location(location)
        .input_format(io_formats(&def.serde_library).0)
        .output_format(io_formats(&def.serde_library).1)
        .compressed(false)
        .serde_info(
            SerDeInfo::builder()
                .serialization_library(&def.serde_library)
                .set_parameters(Some(def.serde_parameters.clone().into_iter().collect()))
                .build(),
        )
        .build())
}

fn table_input(name: &str, def: &TableDefinition) -> Result<TableInput> {
    let keys = def
        .partition_keys
        .iter()
        .map(|k| Ok(Column::builder().name(k).r#type("string").build()?))
        .collect::<Result<Vec<_>>>()?;
    Ok(TableInput::builder()
        .name(name)
        .table_type(&def.table_type)
        .set_parameters(Some(def.parameters.clone().into_iter().collect()))
        // Athena needs the list even when it is empty.
        .set_partition_keys(Some(keys))
        .storage_descriptor(storage_descriptor(def, &def.location)?)
        .build()?)
}

fn partition_input(def: &TableDefinition, p: &PartitionSpec) -> Result<PartitionInput> {
    Ok(PartitionInput::builder()
        .set_values(Some(p.values.clone()))
        .storage_descriptor(storage_descriptor(def, &p.location)?)
        .build())
}

fn catalog_columns(columns: &[Column]) -> Vec<CatalogColumn> {
    columns
        .iter()
        .map(|c| {
            CatalogColumn::typed(
                c.name(),
                c.r#type().unwrap_or("string"),
                c.comment().unwrap_or_default(),
            )
        })
        .collect()
}

fn definition(t: &Table) -> TableDefinition {
    let sd = t.storage_descriptor();
    let serde = sd.and_then(|sd| sd.serde_info());
    let to_map =
        |m: Option<&std::collections::HashMap<String, String>>| -> BTreeMap<String, String> {
            m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
    TableDefinition {
        table_type: t.table_type().unwrap_or_default().to_string(),
        columns: sd
            .map(|sd| catalog_columns(sd.columns()))
            .unwrap_or_default(),
        partition_keys: t
            .partition_keys()
            .iter()
            .map(|k| k.name().to_ascii_lowercase())
            .collect(),
        location: sd
            .and_then(|sd| sd.location())
            .unwrap_or_default()
            .to_string(),
        serde_library: serde
            .and_then(|s| s.serialization_library())
            .unwrap_or_default()
            .to_string(),
        serde_parameters: to_map(serde.and_then(|s| s.parameters())),
        parameters: to_map(t.parameters()),
    }
}

fn failure(
    values: &[String],
    detail: Option<&aws_sdk_glue::types::ErrorDetail>,
) -> PartitionFailure {
    PartitionFailure {
        values: values.to_vec(),
        code: detail
            .and_then(|d| d.error_code())
            .unwrap_or("UnknownError")
            .to_string(),
        message: detail
            .and_then(|d| d.error_message())
            .unwrap_or_default()
            .to_string(),
    }
}

#[async_trait]
impl GlueApi for SdkGlue {
    async fn database_exists(&self, database: &str) -> Result<bool> {
        match self.client.get_database().name(database).send().await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(anyhow!(self.describe("GetDatabase", database, &e))),
        }
    }

    async fn create_database(&self, database: &str) -> Result<()> {
        let input = DatabaseInput::builder()
            .name(database)
            .description("Open edX datalake (edlake)")
            .build()?;
        match self
            .client
            .create_database()
            .database_input(input)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Created meanwhile by another process: fine.
            Err(e)
                if e.as_service_error().and_then(|s| s.code())
                    == Some("AlreadyExistsException") =>
            {
                Ok(())
            }
            Err(e) => Err(anyhow!(self.describe("CreateDatabase", database, &e))),
        }
    }

    async fn get_table(&self, database: &str, table: &str) -> Result<Option<TableDefinition>> {
        match self
            .client
            .get_table()
            .database_name(database)
            .name(table)
            .send()
            .await
        {
            Ok(out) => Ok(out.table().map(definition)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(anyhow!(self.describe(
                "GetTable",
                &format!("{database}.{table}"),
                &e
            ))),
        }
    }

    async fn create_table(&self, database: &str, table: &str, def: &TableDefinition) -> Result<()> {
        self.client
            .create_table()
            .database_name(database)
            .table_input(table_input(table, def)?)
            .send()
            .await
            .map_err(|e| {
                anyhow!(self.describe("CreateTable", &format!("{database}.{table}"), &e))
            })?;
        Ok(())
    }

    async fn update_table(&self, database: &str, table: &str, def: &TableDefinition) -> Result<()> {
        self.client
            .update_table()
            .database_name(database)
            .table_input(table_input(table, def)?)
            // Table versions count against a quota; edlake's history is the lake's.
            .skip_archive(true)
            .send()
            .await
            .map_err(|e| {
                anyhow!(self.describe("UpdateTable", &format!("{database}.{table}"), &e))
            })?;
        Ok(())
    }

    async fn get_partitions(
        &self,
        database: &str,
        table: &str,
        expression: &str,
        next_token: Option<String>,
    ) -> Result<PartitionPage> {
        let out = self
            .client
            .get_partitions()
            .database_name(database)
            .table_name(table)
            .expression(expression)
            .max_results(PARTITION_PAGE_SIZE)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| {
                anyhow!(self.describe("GetPartitions", &format!("{database}.{table}"), &e))
            })?;
        Ok(PartitionPage {
            partitions: out
                .partitions()
                .iter()
                .map(|p| {
                    let sd = p.storage_descriptor();
                    GluePartition {
                        values: p.values().to_vec(),
                        location: sd
                            .and_then(|sd| sd.location())
                            .unwrap_or_default()
                            .to_string(),
                        columns: sd
                            .map(|sd| catalog_columns(sd.columns()))
                            .unwrap_or_default(),
                        serde_library: sd
                            .and_then(|sd| sd.serde_info())
                            .and_then(|s| s.serialization_library())
                            .unwrap_or_default()
                            .to_string(),
                    }
                })
                .collect(),
            next_token: out.next_token().map(str::to_string),
        })
    }

    async fn batch_create_partition(
        &self,
        database: &str,
        table: &str,
        def: &TableDefinition,
        partitions: &[PartitionSpec],
    ) -> Result<Vec<PartitionFailure>> {
        let inputs = partitions
            .iter()
            .map(|p| partition_input(def, p))
            .collect::<Result<Vec<_>>>()?;
        let out = self
            .client
            .batch_create_partition()
            .database_name(database)
            .table_name(table)
            .set_partition_input_list(Some(inputs))
            .send()
            .await
            .map_err(|e| {
                anyhow!(self.describe("BatchCreatePartition", &format!("{database}.{table}"), &e))
            })?;
        Ok(out
            .errors()
            .iter()
            .map(|e| failure(e.partition_values(), e.error_detail()))
            .collect())
    }

    async fn batch_update_partition(
        &self,
        database: &str,
        table: &str,
        def: &TableDefinition,
        partitions: &[PartitionSpec],
    ) -> Result<Vec<PartitionFailure>> {
        let entries = partitions
            .iter()
            .map(|p| {
                Ok(BatchUpdatePartitionRequestEntry::builder()
                    .set_partition_value_list(Some(p.values.clone()))
                    .partition_input(partition_input(def, p)?)
                    .build()?)
            })
            .collect::<Result<Vec<_>>>()?;
        let out = self
            .client
            .batch_update_partition()
            .database_name(database)
            .table_name(table)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| {
                anyhow!(self.describe("BatchUpdatePartition", &format!("{database}.{table}"), &e))
            })?;
        Ok(out
            .errors()
            .iter()
            .map(|e| failure(e.partition_value_list(), e.error_detail()))
            .collect())
    }

    async fn batch_delete_partition(
        &self,
        database: &str,
        table: &str,
        values: &[Vec<String>],
    ) -> Result<Vec<PartitionFailure>> {
        let list = values
            .iter()
            .map(|v| {
                Ok(PartitionValueList::builder()
                    .set_values(Some(v.clone()))
                    .build()?)
            })
            .collect::<Result<Vec<_>>>()?;
        let out = self
            .client
            .batch_delete_partition()
            .database_name(database)
            .table_name(table)
            .set_partitions_to_delete(Some(list))
            .send()
            .await
            .map_err(|e| {
                anyhow!(self.describe("BatchDeletePartition", &format!("{database}.{table}"), &e))
            })?;
        Ok(out
            .errors()
            .iter()
            .map(|e| failure(e.partition_values(), e.error_detail()))
            .collect())
    }
}
