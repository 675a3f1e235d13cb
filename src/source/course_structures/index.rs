//! Which courses are active and which structure each one publishes: MySQL's split course
//! index (Nutmeg and later) or Mongo's `active_versions` (earlier releases).

use anyhow::{anyhow, Result};
use mongodb::bson::oid::ObjectId;

use super::modulestore::ModuleStore;
use super::CourseRef;
use crate::config::{Config, CourseIndexSource};
use crate::source::mysql::MysqlSource;

/// The active courses, and the index rows that could not be used.
#[derive(Debug, Default)]
pub struct CourseIndex {
    /// `mysql` or `mongodb`, for messages.
    pub source: &'static str,
    pub courses: Vec<CourseRef>,
    /// `(course id, reason)`.
    pub invalid: Vec<(String, String)>,
}

/// Reads the configured (or detected) course index. `mysql` is None when no MySQL
/// connection is open; `auto` then reads Mongo.
pub async fn active_courses(
    config: &Config,
    mysql: Option<&MysqlSource>,
    store: &ModuleStore,
) -> Result<CourseIndex> {
    let libraries = config.course_structures.include_libraries;
    let from_mysql = match (config.course_structures.course_index, mysql) {
        (CourseIndexSource::Mongodb, _) | (CourseIndexSource::Auto, None) => None,
        (CourseIndexSource::Mysql, None) => {
            return Err(anyhow!("course_structures.course_index is mysql but no MySQL connection is open"))
        }
        (CourseIndexSource::Mysql, Some(m)) => Some(m.course_index().await?.ok_or_else(|| {
            anyhow!(
                "the course index table split_modulestore_django_splitmodulestorecourseindex does not exist in {} (releases before Nutmeg: set course_structures.course_index = \"mongodb\")",
                m.database()
            )
        })?),
        (CourseIndexSource::Auto, Some(m)) => m.course_index().await?,
    };
    let mut index = CourseIndex::default();
    match from_mysql {
        Some(rows) => {
            index.source = "mysql";
            for (course_id, published, library) in rows {
                let is_library = course_id.starts_with("library-v1:");
                let version = match (is_library, libraries) {
                    (false, _) => published,
                    (true, true) => library,
                    (true, false) => continue,
                };
                // '' means never published (or a library's unused branches).
                if version.is_empty() {
                    continue;
                }
                push(
                    &mut index,
                    &course_id,
                    ObjectId::parse_str(&version).map_err(|_| {
                        anyhow!("its version {version:?} in the course index is not an ObjectId")
                    }),
                );
            }
        }
        None => {
            index.source = "mongodb";
            for (course_id, version) in store.active_versions(libraries).await? {
                push(&mut index, &course_id, version);
            }
        }
    }
    index.courses.sort_by(|a, b| a.course_id.cmp(&b.course_id));
    Ok(index)
}

fn push(index: &mut CourseIndex, course_id: &str, version: Result<ObjectId>) {
    match version.and_then(|v| CourseRef::parse(course_id, v)) {
        Ok(course) => index.courses.push(course),
        Err(e) => index.invalid.push((course_id.to_string(), e.to_string())),
    }
}
