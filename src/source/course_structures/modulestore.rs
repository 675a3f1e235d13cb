//! The split modulestore in MongoDB: structures and definitions, always fetched by `_id` in
//! batches (`$in`), never one query per block.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use futures::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, Document};
use mongodb::error::{Error as MongoError, ErrorKind};
use mongodb::options::ClientOptions;
use mongodb::{Client, Database};

use super::{DefinitionData, StructureDoc};
use crate::config::Config;

/// Definition ids per `$in` query.
const DEFINITION_BATCH: usize = 500;

pub struct ModuleStore {
    client: Client,
    db: Database,
    endpoint: String,
}

impl ModuleStore {
    /// Connects and pings, so an unreachable server or bad credentials fail here with one
    /// clear line.
    pub async fn connect(config: &Config) -> Result<ModuleStore> {
        let endpoint = endpoint(config);
        let secrets = mongodb_secrets(config);
        let scrub = |text: String| -> String {
            secrets
                .iter()
                .fold(text, |t, s| t.replace(s.as_str(), "REDACTED"))
        };
        let mut options = ClientOptions::parse(config.mongodb.url.expose())
            .await
            .map_err(|e| {
                anyhow!(
                    "invalid configuration: mongodb.url is not a valid MongoDB URI ({})",
                    scrub(e.kind.to_string())
                )
            })?;
        let password = match &config.mongodb.password_file {
            Some(file) => Some(
                std::fs::read_to_string(file)
                    .map_err(|e| {
                        anyhow!(
                            "cannot read mongodb.password_file {}: {e} (check the secret mount)",
                            file.display()
                        )
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
            ),
            None => config
                .mongodb
                .password
                .as_ref()
                .map(|p| p.expose().to_string()),
        };
        if let Some(password) = password {
            match options.credential.as_mut() {
                Some(credential) if credential.username.is_some() => {
                    credential.password = Some(password)
                }
                _ => bail!("invalid configuration: a MongoDB password is set but mongodb.url names no user (mongodb://user@host:27017/)"),
            }
        }
        let timeout = Duration::from_secs(config.mongodb.connect_timeout_secs);
        options.server_selection_timeout = Some(timeout);
        options.connect_timeout = Some(timeout);
        options.app_name = Some("edlake".into());
        let client = Client::with_options(options).map_err(|e| {
            anyhow!(
                "invalid configuration: mongodb.url: {}",
                scrub(e.kind.to_string())
            )
        })?;
        let db = client.database(&config.mongodb.database);
        let store = ModuleStore {
            client,
            db,
            endpoint,
        };
        store.ping().await?;
        Ok(store)
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub async fn ping(&self) -> Result<()> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(|e| anyhow!(describe_error(&e, &self.endpoint)))?;
        Ok(())
    }

    /// Active courses from `modulestore.active_versions` (releases before Nutmeg):
    /// `(course key, published structure id)`; legacy libraries when asked, with their
    /// library branch. A branch that is there but not an ObjectId is an error for that
    /// course alone (the course is still listed, so the lake keeps what it has of it).
    pub async fn active_versions(
        &self,
        include_libraries: bool,
    ) -> Result<Vec<(String, Result<ObjectId>)>> {
        let filter = if include_libraries {
            doc! { "$or": [
                { "versions.published-branch": { "$exists": true } },
                { "versions.library": { "$exists": true } },
            ] }
        } else {
            doc! { "versions.published-branch": { "$exists": true } }
        };
        let mut cursor = self
            .db
            .collection::<Document>("modulestore.active_versions")
            .find(filter)
            .projection(doc! { "org": 1, "course": 1, "run": 1, "versions": 1 })
            .await
            .map_err(|e| self.error(e, "reading modulestore.active_versions"))?;
        let mut out = Vec::new();
        while let Some(d) = cursor
            .try_next()
            .await
            .map_err(|e| self.error(e, "reading modulestore.active_versions"))?
        {
            let text = |k: &str| d.get_str(k).unwrap_or_default().to_string();
            let (org, course, run) = (text("org"), text("course"), text("run"));
            let versions = d.get_document("versions").ok();
            let branch = |k: &str| {
                versions.and_then(|v| v.get(k)).map(|b| match b {
                    Bson::ObjectId(id) => Ok(*id),
                    other => Err(anyhow!(
                        "its {k} {other} in modulestore.active_versions is not an ObjectId"
                    )),
                })
            };
            if let Some(v) = branch("published-branch") {
                out.push((format!("course-v1:{org}+{course}+{run}"), v));
            } else if let (true, Some(v)) = (include_libraries, branch("library")) {
                out.push((format!("library-v1:{org}+{course}"), v));
            }
        }
        Ok(out)
    }

    /// The structures with these ids (missing ids are simply absent from the result), with
    /// only the fields the outline needs: problem `markdown`, usually most of a structure,
    /// never leaves the server.
    pub async fn structures(&self, ids: &[ObjectId]) -> Result<Vec<StructureDoc>> {
        let projection = doc! {
            "root": 1,
            "blocks.block_type": 1,
            "blocks.block_id": 1,
            "blocks.definition": 1,
            "blocks.fields.display_name": 1,
            "blocks.fields.children": 1,
            "blocks.fields.start": 1,
            "blocks.fields.due": 1,
            "blocks.fields.graded": 1,
            "blocks.fields.format": 1,
            "blocks.fields.weight": 1,
            "blocks.fields.visible_to_staff_only": 1,
            "blocks.defaults.display_name": 1,
            "blocks.defaults.start": 1,
            "blocks.defaults.due": 1,
            "blocks.defaults.graded": 1,
            "blocks.defaults.format": 1,
            "blocks.defaults.weight": 1,
            "blocks.defaults.visible_to_staff_only": 1,
        };
        let context = "reading modulestore.structures";
        let cursor = self
            .db
            .collection::<StructureDoc>("modulestore.structures")
            .find(doc! { "_id": { "$in": ids } })
            .projection(projection)
            // A structure can be several MB: few per reply keeps memory flat.
            .batch_size(4)
            .await
            .map_err(|e| self.error(e, context))?;
        cursor
            .try_collect()
            .await
            .map_err(|e| self.error(e, context))
    }

    /// The OLX (`fields.data`) of these definitions, fetched in batches.
    pub async fn definitions(&self, ids: &[ObjectId]) -> Result<HashMap<ObjectId, DefinitionData>> {
        let context = "reading modulestore.definitions";
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(DEFINITION_BATCH) {
            let mut cursor = self
                .db
                .collection::<Document>("modulestore.definitions")
                .find(doc! { "_id": { "$in": chunk } })
                .projection(doc! { "fields.data": 1 })
                .await
                .map_err(|e| self.error(e, context))?;
            while let Some(d) = cursor
                .try_next()
                .await
                .map_err(|e| self.error(e, context))?
            {
                let Ok(id) = d.get_object_id("_id") else {
                    continue;
                };
                let data = match d.get_document("fields").ok().and_then(|f| f.get("data")) {
                    Some(Bson::String(xml)) => DefinitionData::Xml(xml.clone()),
                    _ => DefinitionData::NoData,
                };
                out.insert(id, data);
            }
        }
        Ok(out)
    }

    pub async fn shutdown(self) {
        self.client.shutdown().await;
    }

    fn error(&self, e: MongoError, context: &str) -> anyhow::Error {
        let message = format!("{} ({context})", describe_error(&e, &self.endpoint));
        match e.kind.as_ref() {
            ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. } => {
                anyhow::Error::new(ConnectionLost(message))
            }
            _ => anyhow!(message),
        }
    }
}

/// Whether the error means the server cannot be used at all (as opposed to one query or
/// document failing): the run stops instead of failing every course the same way.
pub fn is_connection_error(e: &anyhow::Error) -> bool {
    e.downcast_ref::<ConnectionLost>().is_some()
}

/// Marker wrapped around errors that mean MongoDB is gone.
#[derive(Debug)]
pub struct ConnectionLost(pub String);

impl std::fmt::Display for ConnectionLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectionLost {}

/// One operator-facing line for a MongoDB failure. Driver messages never carry the
/// password.
pub fn describe_error(e: &MongoError, endpoint: &str) -> String {
    match e.kind.as_ref() {
        ErrorKind::ServerSelection { .. } | ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. } => {
            format!("cannot reach MongoDB at {endpoint}: {} (check mongodb.url and that the server is up)", first_line(&e.kind.to_string()))
        }
        ErrorKind::Authentication { message, .. } => format!(
            "MongoDB at {endpoint} refused the credentials: {message} (check the user, the password and authSource in mongodb.url)"
        ),
        ErrorKind::Command(c) => format!(
            "MongoDB at {endpoint} answered error {} {}: {}",
            c.code, c.code_name, c.message
        ),
        _ => format!("MongoDB at {endpoint}: {}", first_line(&e.kind.to_string())),
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

fn mongodb_secrets(config: &Config) -> Vec<String> {
    let mut out: Vec<String> = config
        .mongodb
        .password
        .iter()
        .map(|p| p.expose().to_string())
        .collect();
    // The URL's own password, however it is percent-encoded.
    if let Some((_, rest)) = config.mongodb.url.expose().split_once("://") {
        let authority = rest.split('/').next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if let Some((_, pw)) = userinfo.split_once(':') {
                if !pw.is_empty() {
                    out.push(pw.to_string());
                }
            }
        }
    }
    out
}

/// `host:port[,host:port…]/database` of the MongoDB URL, safe to print: the hosts as the
/// driver's own URI parser reads them (a host list, or the `mongodb+srv://` name).
pub fn endpoint(config: &Config) -> String {
    use mongodb::options::{ConnectionString, HostInfo};
    let hosts = match ConnectionString::parse(config.mongodb.url.expose()) {
        Ok(uri) => match uri.host_info {
            HostInfo::HostIdentifiers(hosts) => hosts
                .iter()
                .map(|h| h.to_string())
                .collect::<Vec<_>>()
                .join(","),
            HostInfo::DnsRecord(name) => name,
            _ => "<unknown host>".into(),
        },
        Err(_) => "<unparseable mongodb.url>".into(),
    };
    format!("{hosts}/{}", config.mongodb.database)
}
