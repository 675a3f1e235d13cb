//! A package's course structure (`…-course_structure-{site}-analytics.json`, written by
//! edx-platform's `dump_course_structure`): one JSON object keyed by block usage id, each
//! `{"category", "children": [usage ids], "metadata": {the block's own settings}}`. It is
//! turned into the split modulestore's shape, so the `course_structures` rows come from the
//! same tree logic ([`build_rows`]) as a self-hosted site's.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use mongodb::bson::{self, oid::ObjectId, Bson, Document};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::source::course_structures::{build_rows, BlockDoc, CourseRef, CourseRows, StructureDoc};

/// The rows of one exported course structure (`json`, the file's content) and its course.
/// Problems without an explicit `weight` get NULL: the export carries no OLX to count
/// their inputs from.
pub fn rows_of_export(json: &[u8], name: &str) -> Result<(CourseRef, CourseRows)> {
    let blocks: serde_json::Map<String, Value> =
        serde_json::from_slice(json).with_context(|| format!("{name}: not a JSON object"))?;
    let mut root = None;
    let mut docs = Vec::with_capacity(blocks.len());
    for (usage_id, block) in &blocks {
        let (block_type, block_id) = usage_parts(usage_id)
            .with_context(|| format!("{name}: block {usage_id:?} is not a usage key"))?;
        let category = block
            .get("category")
            .and_then(Value::as_str)
            .unwrap_or(block_type);
        let mut fields = match block.get("metadata") {
            Some(Value::Object(m)) => {
                bson::to_document(m).with_context(|| format!("{name}: metadata of {usage_id}"))?
            }
            _ => Document::new(),
        };
        let children: Vec<Bson> = block
            .get("children")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(usage_parts)
            .map(|(t, id)| Bson::Array(vec![Bson::String(t.into()), Bson::String(id.into())]))
            .collect();
        fields.insert("children", children);
        if category == "course" {
            root = Some((
                usage_id.as_str(),
                block_type.to_string(),
                block_id.to_string(),
            ));
        }
        docs.push(BlockDoc {
            block_type: category.to_string(),
            block_id: block_id.to_string(),
            definition: None,
            fields,
            defaults: Document::new(),
        });
    }
    let Some((root_usage, root_type, root_id)) = root else {
        bail!("{name}: no block of category course");
    };
    let course_id = course_id_of(root_usage).with_context(|| {
        format!("{name}: the course block {root_usage:?} names no course-v1 course")
    })?;
    // A stable stand-in for the modulestore's structure id: the content's own hash.
    let digest = Sha256::digest(json);
    let mut id = [0u8; 12];
    id.copy_from_slice(&digest[..12]);
    let course = CourseRef::parse(&course_id, ObjectId::from_bytes(id))?;
    let structure = StructureDoc {
        id: course.version,
        root: Some(vec![root_type, root_id]),
        blocks: docs,
    };
    let mut rows = build_rows(&course, &structure, &HashMap::new())?;
    // No OLX in a package: an unweighted problem's NULL weight is expected, not news.
    rows.warnings.retain(|w| !w.contains("definition"));
    Ok((course, rows))
}

/// `block-v1:Org+C+R+type@chapter+block@abc` → (`chapter`, `abc`).
fn usage_parts(usage_id: &str) -> Option<(&str, &str)> {
    let rest = usage_id.split_once("+type@")?.1;
    let (block_type, block_id) = rest.split_once("+block@")?;
    (!block_type.is_empty() && !block_id.is_empty()).then_some((block_type, block_id))
}

/// `block-v1:Org+C+R+type@course+block@course` → `course-v1:Org+C+R`.
fn course_id_of(usage_id: &str) -> Option<String> {
    let key = usage_id.strip_prefix("block-v1:")?.split_once("+type@")?.0;
    Some(format!("course-v1:{key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exported_outline_gives_the_same_rows_as_the_modulestore() {
        let base = "block-v1:DelftX+EX101x+2T2026+type@";
        let json = serde_json::json!({
            format!("{base}course+block@course"): {"category": "course", "children": [format!("{base}chapter+block@c1")], "metadata": {"display_name": "A \"quoted\" course", "start": "2026-01-05T00:00:00Z"}},
            format!("{base}chapter+block@c1"): {"category": "chapter", "children": [format!("{base}sequential+block@s1")], "metadata": {"display_name": "Week 1"}},
            format!("{base}sequential+block@s1"): {"category": "sequential", "children": [format!("{base}vertical+block@v1")], "metadata": {"display_name": "Lesson", "graded": true, "format": "Homework"}},
            format!("{base}vertical+block@v1"): {"category": "vertical", "children": [format!("{base}problem+block@p1"), format!("{base}problem+block@p2")], "metadata": {"display_name": "Unit"}},
            format!("{base}problem+block@p1"): {"category": "problem", "children": [], "metadata": {"display_name": "P1", "weight": 2.0}},
            format!("{base}problem+block@p2"): {"category": "problem", "children": [], "metadata": {"display_name": "P2"}},
        });
        let bytes = serde_json::to_vec(&json).unwrap();
        let (course, rows) = rows_of_export(&bytes, "x.json").unwrap();
        assert_eq!(course.course_id, "course-v1:DelftX+EX101x+2T2026");
        assert!(rows.warnings.is_empty(), "{:?}", rows.warnings);
        type Outline = (String, Option<String>, Option<String>, Option<String>, bool);
        let got: Vec<Outline> = rows
            .rows
            .iter()
            .map(|r| {
                (
                    r.module_location.clone(),
                    r.chapter.clone(),
                    r.vertical.clone(),
                    r.weight.clone(),
                    r.graded,
                )
            })
            .collect();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            got,
            [
                (
                    "course-v1:DelftX+EX101x+2T2026".to_string(),
                    None,
                    None,
                    None,
                    false
                ),
                (format!("{base}chapter+block@c1"), None, None, None, false),
                (
                    format!("{base}sequential+block@s1"),
                    s("Week 1"),
                    None,
                    None,
                    true
                ),
                (
                    format!("{base}vertical+block@v1"),
                    s("Week 1"),
                    None,
                    None,
                    true
                ),
                (
                    format!("{base}problem+block@p1"),
                    s("Week 1"),
                    s("Unit"),
                    s("2"),
                    true
                ),
                (
                    format!("{base}problem+block@p2"),
                    s("Week 1"),
                    s("Unit"),
                    None,
                    true
                ),
            ]
        );
        assert_eq!(
            rows.rows[0].course_name.as_deref(),
            Some("A \"quoted\" course")
        );
        let err = rows_of_export(b"[1]", "y.json").unwrap_err().to_string();
        assert!(err.starts_with("y.json: not a JSON object"), "{err}");
    }
}
