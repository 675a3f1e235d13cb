use std::collections::HashMap;

use mongodb::bson::{self, doc, oid::ObjectId, Bson, Document};

use super::*;

fn course() -> CourseRef {
    CourseRef::parse(
        "course-v1:UnivCafé+Barista101+Run:1",
        ObjectId::parse_str("65a000000000000000000001").unwrap(),
    )
    .unwrap()
}

fn block(t: &str, id: &str, fields: Document) -> Document {
    doc! { "block_type": t, "block_id": id, "definition": ObjectId::new(), "fields": fields }
}

fn kids(list: &[(&str, &str)]) -> Bson {
    Bson::Array(
        list.iter()
            .map(|(t, id)| {
                Bson::Array(vec![
                    Bson::String(t.to_string()),
                    Bson::String(id.to_string()),
                ])
            })
            .collect(),
    )
}

fn structure(blocks: Vec<Document>) -> StructureDoc {
    bson::from_document(doc! {
        "_id": ObjectId::parse_str("65a000000000000000000001").unwrap(),
        "root": ["course", "course"],
        "blocks": blocks,
    })
    .unwrap()
}

fn date(s: &str) -> Bson {
    Bson::DateTime(bson::DateTime::parse_rfc3339_str(s).unwrap())
}

/// A small course, blocks deliberately out of order.
fn sample() -> Vec<Document> {
    vec![
        block("problem", "p2", doc! { "display_name": "Q2", "weight": 0 }),
        block("html", "h1", doc! { "display_name": "Intro text" }),
        block(
            "vertical",
            "v2",
            doc! { "display_name": "Unit 2", "children": kids(&[("problem", "p2"), ("library_content", "lc")]) },
        ),
        block(
            "chapter",
            "ch2",
            doc! { "display_name": "Week 2", "visible_to_staff_only": true, "children": kids(&[]) },
        ),
        block(
            "course",
            "course",
            doc! {
                "display_name": "Barista 101",
                "start": date("2025-01-06T09:00:00Z"),
                "children": kids(&[("chapter", "ch1"), ("chapter", "ch2")]),
            },
        ),
        block(
            "sequential",
            "s1",
            doc! {
                "display_name": "Homework 1", "graded": true, "format": "Homework",
                "due": "2025-02-01T23:59:00Z",
                "children": kids(&[("vertical", "v1"), ("vertical", "v2")]),
            },
        ),
        block(
            "chapter",
            "ch1",
            doc! { "display_name": "Week 1", "children": kids(&[("sequential", "s1")]) },
        ),
        block(
            "vertical",
            "v1",
            doc! { "display_name": "Unit 1", "children": kids(&[("html", "h1"), ("problem", "p1"), ("video", "vid")]) },
        ),
        block(
            "problem",
            "p1",
            doc! { "display_name": "Q1", "weight": 2.5, "due": date("2025-03-01T00:00:00.123Z") },
        ),
        block(
            "video",
            "vid",
            doc! { "display_name": "Lecture", "start": "2025-01-10T00:00:00" },
        ),
        block(
            "library_content",
            "lc",
            doc! { "display_name": "Random pick", "children": kids(&[("problem", "lp")]) },
        ),
        doc! { "block_type": "problem", "block_id": "lp", "definition": ObjectId::new(),
        "fields": {}, "defaults": { "display_name": "From the library", "weight": 1 } },
        block("about", "overview", doc! {}),
        block("html", "lost", doc! { "display_name": "Orphan" }),
    ]
}

fn by_id(rows: &CourseRows) -> HashMap<&str, &BlockRow> {
    rows.rows.iter().map(|r| (r.block_id.as_str(), r)).collect()
}

#[test]
fn the_tree_is_rebuilt_from_the_root_in_outline_order() {
    let rows = build_rows(&course(), &structure(sample()), &HashMap::new()).unwrap();
    let order: Vec<&str> = rows.rows.iter().map(|r| r.block_id.as_str()).collect();
    assert_eq!(
        order,
        [
            "course", "ch1", "s1", "v1", "h1", "p1", "vid", "v2", "p2", "lc", "lp", "ch2",
            "overview", "lost"
        ]
    );
    let r = by_id(&rows);
    // The root's location is the course key, as Panorama writes it.
    assert_eq!(
        r["course"].module_location,
        "course-v1:UnivCafé+Barista101+Run:1"
    );
    assert_eq!(r["course"].parent, None);
    assert_eq!(r["course"].depth, Some(0));
    assert_eq!(r["course"].course_name.as_deref(), Some("Barista 101"));
    assert_eq!(
        r["p1"].module_location,
        "block-v1:UnivCafé+Barista101+Run:1+type@problem+block@p1"
    );
    assert_eq!(
        r["p1"].parent.as_deref(),
        Some("block-v1:UnivCafé+Barista101+Run:1+type@vertical+block@v1")
    );
    assert_eq!(
        r["ch1"].parent.as_deref(),
        Some("course-v1:UnivCafé+Barista101+Run:1")
    );
    // Outline columns hold the enclosing containers' names (never the block's own).
    let p1 = r["p1"];
    assert_eq!(
        (
            p1.course_name.as_deref(),
            p1.chapter.as_deref(),
            p1.sequential.as_deref(),
            p1.vertical.as_deref()
        ),
        (
            Some("Barista 101"),
            Some("Week 1"),
            Some("Homework 1"),
            Some("Unit 1")
        )
    );
    assert_eq!(r["ch1"].chapter, None);
    assert_eq!(r["s1"].chapter.as_deref(), Some("Week 1"));
    assert_eq!(r["lp"].library.as_deref(), Some("Random pick"));
    assert_eq!(r["lp"].vertical.as_deref(), Some("Unit 2"));
    // Components are the leaves that are not containers.
    assert_eq!(p1.component.as_deref(), Some("Q1"));
    assert_eq!(r["v1"].component, None);
    assert_eq!(
        r["ch2"].component, None,
        "an empty chapter is still a container"
    );
    // Position among siblings (1-based) and depth.
    assert_eq!(
        (r["h1"].position, r["p1"].position, r["vid"].position),
        (Some(1), Some(2), Some(3))
    );
    assert_eq!((r["ch2"].position, r["lp"].depth), (Some(2), Some(5)));
}

#[test]
fn settings_are_inherited_down_the_tree() {
    let rows = build_rows(&course(), &structure(sample()), &HashMap::new()).unwrap();
    let r = by_id(&rows);
    // start flows from the course; a block's own value wins (naive strings are UTC).
    assert_eq!(r["h1"].start.as_deref(), Some("2025-01-06 09:00:00.000000"));
    assert_eq!(
        r["vid"].start.as_deref(),
        Some("2025-01-10 00:00:00.000000")
    );
    // due, graded and the assignment type flow from the subsection.
    assert_eq!(r["p2"].due.as_deref(), Some("2025-02-01 23:59:00.000000"));
    assert_eq!(r["p1"].due.as_deref(), Some("2025-03-01 00:00:00.123000"));
    assert!(r["p2"].graded && r["lp"].graded && !r["ch1"].graded);
    assert_eq!(r["lp"].format.as_deref(), Some("Homework"));
    assert_eq!(r["course"].due, None);
    // A staff-only chapter hides itself only here (it has no children), not its sibling.
    assert!(r["ch2"].visible_to_staff_only);
    assert!(!r["ch1"].visible_to_staff_only);
}

#[test]
fn staff_only_applies_to_everything_below() {
    let mut blocks = sample();
    for b in blocks.iter_mut() {
        if b.get_str("block_id") == Ok("s1") {
            b.get_document_mut("fields")
                .unwrap()
                .insert("visible_to_staff_only", true);
        }
        if b.get_str("block_id") == Ok("p1") {
            // An explicit false below a staff-only container does not make it visible.
            b.get_document_mut("fields")
                .unwrap()
                .insert("visible_to_staff_only", false);
        }
    }
    let rows = build_rows(&course(), &structure(blocks), &HashMap::new()).unwrap();
    let r = by_id(&rows);
    assert!(r["p1"].visible_to_staff_only && r["lp"].visible_to_staff_only);
    assert!(!r["ch1"].visible_to_staff_only);
}

#[test]
fn orphans_are_exported_and_counted_detached_blocks_are_not_counted() {
    let rows = build_rows(&course(), &structure(sample()), &HashMap::new()).unwrap();
    let r = by_id(&rows);
    assert_eq!(
        rows.orphans, 1,
        "only `lost`; `about` is detached by design"
    );
    assert!(r["lost"].orphan && r["overview"].orphan);
    assert_eq!(
        (
            r["lost"].parent.as_ref(),
            r["lost"].depth,
            r["lost"].position
        ),
        (None, None, None)
    );
    assert_eq!(r["lost"].course_name.as_deref(), Some("Barista 101"));
    assert!(!r["p1"].orphan);
}

#[test]
fn weights_explicit_zero_wins_otherwise_inputs_are_counted() {
    let mut blocks = sample();
    let xml_def = ObjectId::new();
    let bad_def = ObjectId::new();
    let gone_def = ObjectId::new();
    let empty_def = ObjectId::new();
    blocks.push(doc! { "block_type": "problem", "block_id": "counted", "definition": xml_def, "fields": { "weight": Bson::Null } });
    blocks.push(
        doc! { "block_type": "problem", "block_id": "bad", "definition": bad_def, "fields": {} },
    );
    blocks.push(
        doc! { "block_type": "problem", "block_id": "gone", "definition": gone_def, "fields": {} },
    );
    blocks.push(doc! { "block_type": "problem", "block_id": "empty", "definition": empty_def, "fields": {} });
    let s = structure(blocks);
    let needed = definitions_needed(&s);
    assert_eq!(
        needed.len(),
        4,
        "explicit weights need no definition: {needed:?}"
    );
    let mut defs = HashMap::new();
    defs.insert(xml_def, DefinitionData::Xml("<problem><!-- <textline/> --><stringresponse><textline/></stringresponse><numericalresponse><textline/></numericalresponse></problem>".into()));
    defs.insert(
        bad_def,
        DefinitionData::Xml("<problem><stringresponse></problem>".into()),
    );
    defs.insert(empty_def, DefinitionData::NoData);
    let rows = build_rows(&course(), &s, &defs).unwrap();
    let r = by_id(&rows);
    assert_eq!(r["p2"].weight.as_deref(), Some("0"), "explicit 0 wins");
    assert_eq!(r["p1"].weight.as_deref(), Some("2.5"));
    assert_eq!(r["lp"].weight.as_deref(), Some("1"), "library default");
    assert_eq!(r["lp"].display_name.as_deref(), Some("From the library"));
    assert_eq!(r["counted"].weight.as_deref(), Some("2"));
    assert_eq!(r["h1"].weight, None, "only problems have a weight");
    for id in ["bad", "gone", "empty"] {
        assert_eq!(r[id].weight, None, "{id}");
        let location = format!("block-v1:UnivCafé+Barista101+Run:1+type@problem+block@{id}");
        assert!(
            rows.warnings.iter().any(|w| w.contains(&location)),
            "a warning names {location}: {:?}",
            rows.warnings
        );
    }
}

#[test]
fn broken_links_are_reported_not_fatal() {
    let mut blocks = sample();
    // ch2 lists a block that does not exist, and v1 already owns p1.
    for b in blocks.iter_mut() {
        if b.get_str("block_id") == Ok("ch2") {
            b.get_document_mut("fields").unwrap().insert(
                "children",
                kids(&[("sequential", "missing"), ("problem", "p1")]),
            );
        }
    }
    let rows = build_rows(&course(), &structure(blocks), &HashMap::new()).unwrap();
    assert_eq!(rows.rows.iter().filter(|r| r.block_id == "p1").count(), 1);
    assert!(
        rows.warnings.iter().any(|w| w.contains("block@missing")),
        "{:?}",
        rows.warnings
    );
    assert!(
        rows.warnings
            .iter()
            .any(|w| w.contains("more than one parent")),
        "{:?}",
        rows.warnings
    );
}

#[test]
fn a_structure_without_its_root_is_an_error() {
    let blocks: Vec<Document> = sample()
        .into_iter()
        .filter(|b| b.get_str("block_type") != Ok("course"))
        .collect();
    let e = build_rows(&course(), &structure(blocks), &HashMap::new()).unwrap_err();
    assert!(e.to_string().contains("no root block course/course"), "{e}");
}

#[test]
fn a_deep_wide_course_is_handled_without_recursion() {
    // 10,000 blocks in one chain would overflow a recursive walk.
    let mut blocks = vec![block(
        "course",
        "course",
        doc! { "children": kids(&[("vertical", "b0")]) },
    )];
    for i in 0..10_000 {
        let next = format!("b{}", i + 1);
        let children = if i < 9_999 {
            kids(&[("vertical", &next)])
        } else {
            kids(&[])
        };
        blocks.push(block(
            "vertical",
            &format!("b{i}"),
            doc! { "children": children },
        ));
    }
    let rows = build_rows(&course(), &structure(blocks), &HashMap::new()).unwrap();
    assert_eq!(rows.rows.len(), 10_001);
    assert_eq!(rows.rows.last().unwrap().depth, Some(10_000));
}

#[test]
fn course_keys_parse() {
    let v = ObjectId::new();
    let c = CourseRef::parse("course-v1:edX+DemoX+Demo_Course", v).unwrap();
    assert_eq!(
        (c.org.as_str(), c.course.as_str(), c.run.as_str(), c.library),
        ("edX", "DemoX", "Demo_Course", false)
    );
    let l = CourseRef::parse("library-v1:edX+Lib1", v).unwrap();
    assert!(l.library);
    assert_eq!(
        l.module_location("problem", "x", false),
        "lib-block-v1:edX+Lib1+type@problem+block@x"
    );
    for bad in [
        "MITx/6.002x/2012_Fall",
        "course-v1:edX+DemoX",
        "course-v1:a++b",
        "ccx-v1:a+b+c+ccx@1",
    ] {
        assert!(CourseRef::parse(bad, v).is_err(), "{bad}");
    }
}

#[test]
fn dates_are_written_in_the_dialects_datetime_format() {
    assert_eq!(
        datetime_text(&date("2024-02-29T23:59:59.5Z")).as_deref(),
        Some("2024-02-29 23:59:59.500000")
    );
    assert_eq!(
        datetime_text(&Bson::String("2024-01-01T05:00:00+02:00".into())).as_deref(),
        Some("2024-01-01 03:00:00.000000")
    );
    assert_eq!(
        datetime_text(&Bson::String("2030-01-01T00:00:00".into())).as_deref(),
        Some("2030-01-01 00:00:00.000000")
    );
    assert_eq!(datetime_text(&Bson::String("not a date".into())), None);
    assert_eq!(datetime_text(&Bson::Int32(3)), None);
}

#[test]
fn the_endpoint_comes_from_the_drivers_uri_parser_without_credentials() {
    let config = |url: &str| crate::config::Config {
        mongodb: crate::config::MongodbConfig {
            url: url.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let endpoint = |url: &str| super::modulestore::endpoint(&config(url));
    assert_eq!(
        endpoint("mongodb://edx:s3cret@a:27017,b:27018/?authSource=admin"),
        "a:27017,b:27018/openedx"
    );
    assert_eq!(
        endpoint("mongodb+srv://u:p@cluster.example.com/"),
        "cluster.example.com/openedx"
    );
    assert!(!endpoint("mongodb://edx:s3cret@a/").contains("s3cret"));
}
