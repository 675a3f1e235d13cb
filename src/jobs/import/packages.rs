//! One weekly package: every member decrypted and checked whole into a scratch directory,
//! then encoded into lake files there; only when the whole package has been read is any of
//! it published. A wrong key, a truncated file, an unknown table or a malformed row fails
//! the package with one line naming the file, and nothing of it reaches the lake.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::tables::{self, TableModel};
use crate::config::Config;
use crate::encode;
use crate::jobs::extract::course_structures as structures;
use crate::lake::Layout;
use crate::privacy::Pseudonymizer;
use crate::source::research_package::inputs::Package;
use crate::source::research_package::records::RecordReader;
use crate::source::research_package::{read_error, schema, structure, Member};
use crate::store::Payload;

/// Tables a package may hold that the lake takes (edX's exporter writes these and a few
/// more: forum, wiki and team tables, which edlake does not import). Anything else named
/// like a table file is an unknown table: an error, so a new export format is noticed.
pub const TABLES: &[&str] = &[
    "auth_user",
    "auth_userprofile",
    "student_courseenrollment",
    "certificates_generatedcertificate",
    "courseware_studentmodule",
    "user_id_map",
    "student_anonymoususerid",
    "grades_persistentcoursegrade",
    "grades_persistentsubsectiongrade",
    "student_courseaccessrole",
    "user_api_usercoursetag",
    "course_groups_cohortmembership",
    "teams",
    "teams_membership",
    "student_languageproficiency",
    "wiki_article",
    "wiki_articlerevision",
    "django_comment_client_role_users",
    "credit_crediteligibility",
];

/// A course structure member: its course (the file name's), its file name and its JSON.
pub type StructureJson = (String, String, Vec<u8>);

/// A package member decrypted into the scratch directory.
pub struct Plain {
    pub course: String,
    pub table: String,
    pub name: String,
    pub path: PathBuf,
    pub header: Vec<String>,
}

/// What a package publishes, per course.
#[derive(Default)]
pub struct Prepared {
    pub courses: BTreeMap<String, CourseFiles>,
    pub rows: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct CourseFiles {
    /// Lake key → the file to put there.
    pub files: Vec<(String, Payload)>,
    /// Staged per-learner files: key → file.
    pub staged: Vec<(String, Payload)>,
}

/// Decrypts every table member of `package` into `scratch` (gpg vouches for a file only at
/// its end) and reads its header; course structures are read whole and returned with
/// their course.
pub fn decrypt_all(
    package: &Package,
    scratch: &Path,
    gnupghome: Option<&Path>,
) -> Result<(Vec<Plain>, Vec<StructureJson>)> {
    let mut plain = Vec::new();
    let mut structures = Vec::new();
    for (n, member) in package.members()?.into_iter().enumerate() {
        let mut input = member.open(scratch, gnupghome)?;
        match &member.member {
            Member::Table { course, table, .. } => {
                if !TABLES.contains(&table.as_str()) {
                    bail!("{}: unknown table {table} (edlake imports {}); remove the file or report the new export format", member.name, TABLES.join(", "));
                }
                let path = scratch.join(format!("plain-{n}.tsv"));
                let mut out = std::fs::File::create(&path)?;
                std::io::copy(&mut input, &mut out).map_err(|e| read_error(&member.name, e))?;
                drop(out);
                // Its header now (the run's columns need every header); its rows when it is
                // encoded, which also comes before anything is published.
                let reader =
                    RecordReader::new(BufReader::new(std::fs::File::open(&path)?), &member.name)?;
                plain.push(Plain {
                    course: course.clone(),
                    table: table.clone(),
                    name: member.name.clone(),
                    path,
                    header: reader.header().to_vec(),
                });
            }
            Member::CourseStructure { course, .. } => {
                let mut json = Vec::new();
                input
                    .read_to_end(&mut json)
                    .map_err(|e| read_error(&member.name, e))?;
                structures.push((course.clone(), member.name.clone(), json));
            }
            _ => {}
        }
    }
    Ok((plain, structures))
}

/// Encodes a package's decrypted members with the run's table models into lake files.
#[allow(clippy::too_many_arguments)]
pub fn encode_package(
    config: &Config,
    layout: &Layout,
    models: &BTreeMap<String, TableModel>,
    plain: &[Plain],
    structures_json: &[StructureJson],
    scratch: &Path,
    pseudonyms: Option<&Pseudonymizer>,
    staging_dir: &str,
) -> Result<Prepared> {
    let mut prepared = Prepared::default();
    for member in plain {
        let model = &models[&member.table];
        let format = config.format_of(&model.config);
        let file = std::fs::File::open(&member.path)?;
        let mut reader = RecordReader::new(BufReader::new(file), &member.name)?;
        let course = prepared.courses.entry(member.course.clone()).or_default();
        if schema::learner_key(&member.table).is_some() {
            let out = tempfile::Builder::new()
                .prefix("staged-")
                .tempfile_in(scratch)?
                .into_temp_path()
                .keep()?;
            let rows = tables::stage_learners(model, &mut reader, pseudonyms, &out)?;
            *prepared.rows.entry(member.table.clone()).or_default() += rows;
            course.staged.push((
                format!("{staging_dir}{}/{}.tsv.gz", member.table, member.course),
                Payload::File(out),
            ));
            continue;
        }
        let dir = tempfile::tempdir_in(scratch)?;
        let mut spool = tables::spool(model, encode::format(format), dir.path());
        let rows = tables::encode_records(model, &mut reader, pseudonyms, &mut spool, |_, _| true)?;
        *prepared.rows.entry(member.table.clone()).or_default() += rows;
        for part in tables::finish_to_files(spool, scratch)? {
            let key = format!(
                "{}{}.{}.{}",
                layout.partition_dir(&member.table, &model.partition_by, &part.values),
                member.table,
                member.course,
                format.extension()
            );
            course.files.push((key, part.payload));
        }
    }
    let format = config.format_of(&structures::table_config(config));
    for (course, name, json) in structures_json {
        // An outline edlake cannot read (an old-style `i4x://` course) costs that course its
        // outline only, not the package its tables.
        let (course_ref, rows) = match structure::rows_of_export(json, name) {
            Ok(parsed) => parsed,
            Err(e) => {
                tracing::warn!("course structure skipped: {e:#}");
                continue;
            }
        };
        for w in &rows.warnings {
            tracing::warn!(course = %course_ref.course_id, "{w}");
        }
        let bytes = structures::encode_rows(encode::format(format), &course_ref, &rows.rows)?;
        *prepared.rows.entry(structures::TABLE.into()).or_default() += rows.rows.len() as u64;
        let key = layout.object_key(
            structures::TABLE,
            &["course_id".to_string()],
            &[Some(course_ref.course_id.clone())],
            format.extension(),
        );
        prepared
            .courses
            .entry(course.clone())
            .or_default()
            .files
            .push((key, Payload::Bytes(bytes)));
    }
    Ok(prepared)
}

/// The tables a package's members name.
pub fn tables_of(plain: &[Plain]) -> BTreeSet<String> {
    plain.iter().map(|p| p.table.clone()).collect()
}
