//! Course outlines from the split modulestore: which chapter, subsection and unit each block
//! sits in, its name, its weight, and the scheduling settings it inherits.
//!
//! [`build_rows`] is the whole tree logic and works on plain documents, so it is tested
//! without a server; [`modulestore`] fetches those documents from MongoDB and [`index`]
//! says which courses are active and which structure is published.

use std::collections::{HashMap, HashSet};

use anyhow::{bail, Result};
use mongodb::bson::{oid::ObjectId, Bson, Document};
use serde::Deserialize;

pub mod index;
pub mod modulestore;
pub mod weight;

/// Container types: their display names fill the outline columns of the blocks below them.
const STRUCTURAL: &[&str] = &[
    "course",
    "chapter",
    "sequential",
    "vertical",
    "library_content",
];

/// Blocks Open edX keeps outside the tree on purpose; unreachable, but not orphans.
const DETACHED: &[&str] = &["about", "course_info", "static_tab"];

/// An active course (or legacy library) and the structure its learners see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRef {
    /// `course-v1:Org+Code+Run` (or `library-v1:Org+Code`).
    pub course_id: String,
    pub org: String,
    pub course: String,
    /// Empty for libraries.
    pub run: String,
    /// The published structure's `_id` (the library branch for libraries).
    pub version: ObjectId,
    pub library: bool,
}

impl CourseRef {
    /// Parses a split course or library key and pairs it with its version.
    pub fn parse(course_id: &str, version: ObjectId) -> Result<CourseRef> {
        let (library, rest) = if let Some(rest) = course_id.strip_prefix("course-v1:") {
            (false, rest)
        } else if let Some(rest) = course_id.strip_prefix("library-v1:") {
            (true, rest)
        } else {
            bail!("{course_id:?} is not a split course key (course-v1:Org+Code+Run)");
        };
        let parts: Vec<&str> = rest.split('+').collect();
        let ok = parts.iter().all(|p| !p.is_empty()) && parts.len() == if library { 2 } else { 3 };
        if !ok {
            bail!("{course_id:?} is not a split course key (course-v1:Org+Code+Run)");
        }
        Ok(CourseRef {
            course_id: course_id.to_string(),
            org: parts[0].to_string(),
            course: parts[1].to_string(),
            run: parts.get(2).unwrap_or(&"").to_string(),
            version,
            library,
        })
    }

    /// The usage key of a block; the root is the course key itself, as Panorama writes it.
    pub fn module_location(&self, block_type: &str, block_id: &str, root: bool) -> String {
        if root {
            self.course_id.clone()
        } else if self.library {
            format!(
                "lib-block-v1:{}+{}+type@{block_type}+block@{block_id}",
                self.org, self.course
            )
        } else {
            format!(
                "block-v1:{}+{}+{}+type@{block_type}+block@{block_id}",
                self.org, self.course, self.run
            )
        }
    }
}

/// A `modulestore.structures` document, reduced to the fields the outline needs.
#[derive(Debug, Clone, Deserialize)]
pub struct StructureDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[serde(default)]
    pub root: Option<Vec<String>>,
    #[serde(default)]
    pub blocks: Vec<BlockDoc>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BlockDoc {
    pub block_type: String,
    pub block_id: String,
    #[serde(default)]
    pub definition: Option<Bson>,
    /// Settings explicitly set on the block.
    #[serde(default)]
    pub fields: Document,
    /// Values a library copy carries from its source block, under `fields`.
    #[serde(default)]
    pub defaults: Document,
}

impl BlockDoc {
    /// An explicitly set value: the block's own, else the library source's. `null` counts
    /// as unset, as it does for XBlock fields.
    fn setting(&self, name: &str) -> Option<&Bson> {
        [&self.fields, &self.defaults]
            .into_iter()
            .filter_map(|d| d.get(name))
            .find(|v| !matches!(v, Bson::Null))
    }

    fn text(&self, name: &str) -> Option<String> {
        match self.setting(name)? {
            Bson::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    fn flag(&self, name: &str) -> Option<bool> {
        match self.setting(name)? {
            Bson::Boolean(b) => Some(*b),
            Bson::Int32(i) => Some(*i != 0),
            Bson::Int64(i) => Some(*i != 0),
            Bson::String(s) => Some(s.eq_ignore_ascii_case("true")),
            _ => None,
        }
    }

    fn children(&self) -> Vec<(String, String)> {
        let Some(Bson::Array(items)) = self.fields.get("children") else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|child| match child {
                Bson::Array(pair) if pair.len() == 2 => {
                    Some((pair[0].as_str()?.to_string(), pair[1].as_str()?.to_string()))
                }
                _ => None,
            })
            .collect()
    }

    pub fn definition_id(&self) -> Option<ObjectId> {
        self.definition.as_ref().and_then(Bson::as_object_id)
    }

    /// Whether the weight must come from the problem's definition.
    pub fn needs_definition(&self) -> bool {
        self.block_type == "problem" && self.setting("weight").is_none()
    }
}

/// What a problem definition's OLX gives, looked up by [`build_rows`].
#[derive(Debug, Clone, PartialEq)]
pub enum DefinitionData {
    Xml(String),
    /// The definition document exists but has no `fields.data` string.
    NoData,
}

/// One output row; `None` is NULL.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockRow {
    pub module_location: String,
    pub parent: Option<String>,
    pub block_type: String,
    pub block_id: String,
    pub display_name: Option<String>,
    pub course_name: Option<String>,
    pub chapter: Option<String>,
    pub sequential: Option<String>,
    pub vertical: Option<String>,
    pub library: Option<String>,
    pub component: Option<String>,
    pub weight: Option<String>,
    /// 1-based place among its parent's children.
    pub position: Option<u32>,
    /// 0 for the root.
    pub depth: Option<u32>,
    pub graded: bool,
    pub format: Option<String>,
    pub start: Option<String>,
    pub due: Option<String>,
    pub visible_to_staff_only: bool,
    pub orphan: bool,
}

/// A course's rows, and what an operator should hear about.
#[derive(Debug, Default)]
pub struct CourseRows {
    pub rows: Vec<BlockRow>,
    /// Unreachable blocks other than the detached kinds (about, course_info, static_tab).
    pub orphans: usize,
    pub warnings: Vec<String>,
}

/// Settings that flow down the tree (xmodule/modulestore/inheritance.py), plus the outline
/// names of the enclosing containers.
#[derive(Debug, Clone, Default)]
struct Inherited {
    course_name: Option<String>,
    chapter: Option<String>,
    sequential: Option<String>,
    vertical: Option<String>,
    library: Option<String>,
    graded: bool,
    format: Option<String>,
    start: Option<String>,
    due: Option<String>,
    visible_to_staff_only: bool,
}

/// A block waiting in the depth-first walk, with what its parent hands down.
struct Visit {
    block: usize,
    parent: Option<String>,
    position: Option<u32>,
    depth: u32,
    inherited: Inherited,
}

/// Rebuilds the course tree from its root and `children` (the block list is unordered) and
/// returns one row per block, in outline order, then the unreachable blocks.
///
/// `definitions` holds the OLX of the problems that [`BlockDoc::needs_definition`]; a
/// problem whose definition is missing or unparsable gets an empty weight and a warning.
pub fn build_rows(
    course: &CourseRef,
    structure: &StructureDoc,
    definitions: &HashMap<ObjectId, DefinitionData>,
) -> Result<CourseRows> {
    let mut by_key: HashMap<(&str, &str), usize> = HashMap::with_capacity(structure.blocks.len());
    let mut out = CourseRows::default();
    for (i, b) in structure.blocks.iter().enumerate() {
        match by_key.entry((&b.block_type, &b.block_id)) {
            std::collections::hash_map::Entry::Occupied(_) => out.warnings.push(format!(
                "block {} appears twice in structure {}; the first copy is used",
                course.module_location(&b.block_type, &b.block_id, false),
                structure.id
            )),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i);
            }
        }
    }
    let (root_type, root_id) = match structure.root.as_deref() {
        Some([t, id]) => (t.as_str(), id.as_str()),
        _ if course.library => ("library", "library"),
        _ => ("course", "course"),
    };
    let Some(&root) = by_key.get(&(root_type, root_id)) else {
        bail!(
            "structure {} has no root block {root_type}/{root_id}",
            structure.id
        );
    };
    out.rows.reserve(structure.blocks.len());
    // Set when a block is queued, so a block listed under two parents is taken once.
    let mut visited = vec![false; structure.blocks.len()];
    visited[root] = true;
    // Depth-first, children in their stored order.
    let mut stack = vec![Visit {
        block: root,
        parent: None,
        position: None,
        depth: 0,
        inherited: Inherited::default(),
    }];
    while let Some(Visit {
        block: i,
        parent,
        position,
        depth,
        inherited,
    }) = stack.pop()
    {
        let block = &structure.blocks[i];
        let is_root = i == root;
        let row = block_row(
            course,
            block,
            is_root,
            parent,
            position,
            Some(depth),
            &inherited,
            definitions,
            &mut out.warnings,
        );
        let location = row.module_location.clone();
        let down = pass_down(block, &row, inherited);
        let children = block.children();
        for (n, (child_type, child_id)) in children.iter().enumerate().rev() {
            match by_key.get(&(child_type.as_str(), child_id.as_str())) {
                Some(&c) if visited[c] => {
                    out.warnings.push(format!(
                        "block {} is listed under more than one parent; kept under the first",
                        course.module_location(child_type, child_id, false)
                    ));
                }
                Some(&c) => {
                    visited[c] = true;
                    stack.push(Visit {
                        block: c,
                        parent: Some(location.clone()),
                        position: Some(n as u32 + 1),
                        depth: depth + 1,
                        inherited: down.clone(),
                    })
                }
                None => out.warnings.push(format!(
                    "block {location} lists child {} that is not in the structure",
                    course.module_location(child_type, child_id, false)
                )),
            }
        }
        out.rows.push(row);
    }
    let course_name = out.rows.first().and_then(|r| r.display_name.clone());
    let detached = Inherited {
        course_name,
        ..Default::default()
    };
    for (i, block) in structure.blocks.iter().enumerate() {
        if visited[i] {
            continue;
        }
        if !DETACHED.contains(&block.block_type.as_str()) {
            out.orphans += 1;
        }
        let mut row = block_row(
            course,
            block,
            false,
            None,
            None,
            None,
            &detached,
            definitions,
            &mut out.warnings,
        );
        row.orphan = true;
        out.rows.push(row);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn block_row(
    course: &CourseRef,
    block: &BlockDoc,
    is_root: bool,
    parent: Option<String>,
    position: Option<u32>,
    depth: Option<u32>,
    inherited: &Inherited,
    definitions: &HashMap<ObjectId, DefinitionData>,
    warnings: &mut Vec<String>,
) -> BlockRow {
    let module_location = course.module_location(&block.block_type, &block.block_id, is_root);
    let display_name = block.text("display_name");
    let leaf = block.children().is_empty();
    let component = (leaf && !STRUCTURAL.contains(&block.block_type.as_str()))
        .then(|| display_name.clone())
        .flatten();
    let weight = if block.block_type == "problem" {
        problem_weight(block, &module_location, definitions, warnings)
    } else {
        None
    };
    BlockRow {
        parent,
        block_type: block.block_type.clone(),
        block_id: block.block_id.clone(),
        course_name: if is_root {
            display_name.clone()
        } else {
            inherited.course_name.clone()
        },
        display_name,
        chapter: inherited.chapter.clone(),
        sequential: inherited.sequential.clone(),
        vertical: inherited.vertical.clone(),
        library: inherited.library.clone(),
        component,
        weight,
        position,
        depth,
        graded: block.flag("graded").unwrap_or(inherited.graded),
        format: block.text("format").or_else(|| inherited.format.clone()),
        start: block
            .setting("start")
            .and_then(datetime_text)
            .or_else(|| inherited.start.clone()),
        due: block
            .setting("due")
            .and_then(datetime_text)
            .or_else(|| inherited.due.clone()),
        // Effective visibility: a staff-only container hides everything inside it.
        visible_to_staff_only: inherited.visible_to_staff_only
            || block.flag("visible_to_staff_only").unwrap_or(false),
        orphan: false,
        module_location,
    }
}

/// What a block hands to its children: the inherited settings as resolved on it, and its
/// name in the outline column of its type.
fn pass_down(block: &BlockDoc, row: &BlockRow, mut inherited: Inherited) -> Inherited {
    let name = row.display_name.clone();
    match block.block_type.as_str() {
        "course" | "library" => inherited.course_name = name,
        "chapter" => inherited.chapter = name,
        "sequential" => inherited.sequential = name,
        "vertical" => inherited.vertical = name,
        "library_content" => inherited.library = name,
        _ => {}
    }
    inherited.graded = row.graded;
    inherited.format = row.format.clone();
    inherited.start = row.start.clone();
    inherited.due = row.due.clone();
    inherited.visible_to_staff_only = row.visible_to_staff_only;
    inherited
}

/// An explicit weight wins (0 included); otherwise the problem's inputs are counted in its
/// OLX, as capa computes the maximum score.
fn problem_weight(
    block: &BlockDoc,
    location: &str,
    definitions: &HashMap<ObjectId, DefinitionData>,
    warnings: &mut Vec<String>,
) -> Option<String> {
    if let Some(explicit) = block.setting("weight") {
        return match explicit {
            Bson::Int32(i) => Some(i.to_string()),
            Bson::Int64(i) => Some(i.to_string()),
            Bson::Double(f) if f.is_finite() => Some(number_text(*f)),
            Bson::String(s) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
                Some(number_text(s.trim().parse().unwrap_or_default()))
            }
            other => {
                warnings.push(format!(
                    "problem {location} has an unusable weight {other}; weight left empty"
                ));
                None
            }
        };
    }
    let definition = block.definition_id();
    match definition.and_then(|id| definitions.get(&id)) {
        Some(DefinitionData::Xml(xml)) => match weight::count_inputs(xml) {
            Ok(n) => Some(n.to_string()),
            Err(e) => {
                warnings.push(format!(
                    "problem {location}: malformed OLX in definition {} ({e}); weight left empty",
                    definition.map(|d| d.to_hex()).unwrap_or_default()
                ));
                None
            }
        },
        Some(DefinitionData::NoData) => {
            warnings.push(format!(
                "problem {location}: definition {} has no OLX; weight left empty",
                definition.map(|d| d.to_hex()).unwrap_or_default()
            ));
            None
        }
        None => {
            warnings.push(format!(
                "problem {location}: definition {} not found in modulestore.definitions; weight left empty",
                definition.map(|d| d.to_hex()).unwrap_or_else(|| "(none)".into())
            ));
            None
        }
    }
}

/// A float as plain decimal text (never exponent notation), integers without `.0`.
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// A settings date as `YYYY-MM-DD HH:MM:SS.ffffff` UTC. Split stores dates as BSON dates or
/// as the ISO strings XBlock's `Date.to_json` writes.
pub fn datetime_text(value: &Bson) -> Option<String> {
    let dt = match value {
        Bson::DateTime(dt) => *dt,
        Bson::String(s) => {
            let s = s.trim();
            // Older releases write naive UTC, without an offset.
            mongodb::bson::DateTime::parse_rfc3339_str(s)
                .or_else(|_| mongodb::bson::DateTime::parse_rfc3339_str(format!("{s}Z")))
                .ok()?
        }
        _ => return None,
    };
    let text = dt.try_to_rfc3339_string().ok()?;
    // `2024-01-02T03:04:05Z` or `…05.123Z`.
    let text = text.trim_end_matches('Z').replacen('T', " ", 1);
    let (seconds, fraction) = text.split_once('.').unwrap_or((&text, ""));
    Some(format!("{seconds}.{fraction:0<6}"))
}

/// Problems of `structure` whose weight needs their definition.
pub fn definitions_needed(structure: &StructureDoc) -> HashSet<ObjectId> {
    structure
        .blocks
        .iter()
        .filter(|b| b.needs_definition())
        .filter_map(BlockDoc::definition_id)
        .collect()
}

#[cfg(test)]
mod tests;
