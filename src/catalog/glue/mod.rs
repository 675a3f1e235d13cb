//! The AWS backend of the catalog: [`GlueApi`](crate::catalog::GlueApi) and
//! [`AthenaApi`](crate::catalog::AthenaApi) on the AWS SDK (client.rs, athena.rs), the
//! clients' shared configuration and error text (sdk.rs), and the Athena view SQL
//! (view.rs).

pub mod athena;
pub mod client;
pub mod sdk;
pub mod view;

pub use athena::SdkAthena;
pub use client::SdkGlue;
pub use sdk::sdk_clients;
