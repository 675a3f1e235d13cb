//! The AWS backend of the catalog: [`GlueCatalog`] keeps Glue tables, partitions and Athena
//! views in step with an S3 lake through [`GlueApi`](crate::catalog::GlueApi) and
//! [`AthenaApi`](crate::catalog::AthenaApi), backed by the AWS SDK (client.rs, athena.rs)
//! with the clients' shared configuration and error text (sdk.rs). Views are the model of
//! [`crate::catalog::view`] rendered in Trino's SQL.

pub mod athena;
pub mod client;
pub mod engine;
pub mod sdk;

pub use athena::SdkAthena;
pub use client::SdkGlue;
pub use engine::GlueCatalog;
pub use sdk::sdk_clients;
