//! What the lake needs to know about a package table beyond its header: each column's MySQL
//! type (the files are text; the views and Parquet type them as a self-hosted site's
//! columns are typed, from edx-platform's models), which tables hold one row per learner,
//! and the columns never exported.

/// Tables the exporter writes per course although they describe learners: the lake keeps
/// one row per learner (the newest package's), keyed by this column.
pub fn learner_key(table: &str) -> Option<&'static str> {
    match table {
        "auth_user" => Some("id"),
        "auth_userprofile" | "user_id_map" => Some("user_id"),
        _ => None,
    }
}

/// Columns never written to the lake, whatever the file holds (the exporter writes
/// `auth_user.password` as `''`; edlake never exports password hashes).
pub fn never_exported(table: &str, column: &str) -> bool {
    table == "auth_user" && column == "password"
}

/// The MySQL COLUMN_TYPE of a package column, as Open edX's models define it.
pub fn column_type(table: &str, column: &str) -> &'static str {
    match (table, column) {
        ("auth_userprofile", "year_of_birth") => "int(11)",
        ("auth_user", "date_of_birth") => "date",
        (
            "student_courseaccessrole" | "user_api_usercoursetag",
            "key" | "value" | "role" | "org",
        ) => "varchar(255)",
        (_, "id" | "user_id" | "student_id") => "int(11)",
        (_, "is_staff" | "is_active" | "is_superuser" | "show_country" | "distinction") => {
            "tinyint(1)"
        }
        (
            _,
            "created"
            | "modified"
            | "date_joined"
            | "last_login"
            | "created_date"
            | "modified_date"
            | "passed_timestamp"
            | "first_attempted"
            | "profile_image_uploaded_at",
        ) => "datetime(6)",
        (
            _,
            "grade" | "max_grade" | "percent_grade" | "earned_all" | "possible_all"
            | "earned_graded" | "possible_graded",
        ) if !(table == "certificates_generatedcertificate" && column == "grade") => "double",
        (
            _,
            "email_tag_filter_strategy"
            | "display_tag_filter_strategy"
            | "consecutive_days_visit_count",
        ) => "int(11)",
        (
            _,
            "username"
            | "email"
            | "course_id"
            | "module_id"
            | "module_type"
            | "mode"
            | "status"
            | "name"
            | "first_name"
            | "last_name"
            | "hash_id"
            | "anonymous_user_id"
            | "usage_key"
            | "letter_grade"
            | "grading_policy_hash"
            | "download_url"
            | "verify_uuid"
            | "download_uuid"
            | "key"
            | "error_reason"
            | "grade"
            | "country"
            | "gender"
            | "level_of_education"
            | "language"
            | "city"
            | "state"
            | "done",
        ) => "varchar(255)",
        _ => "longtext",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{sql_type, SqlType};

    #[test]
    fn types_follow_the_models() {
        let t = |table, column| sql_type(column_type(table, column));
        assert_eq!(t("courseware_studentmodule", "grade"), SqlType::Double);
        assert_eq!(
            t("certificates_generatedcertificate", "grade"),
            SqlType::Varchar
        );
        assert_eq!(t("auth_user", "is_active"), SqlType::Boolean);
        assert_eq!(t("auth_user", "date_joined"), SqlType::Timestamp);
        assert_eq!(t("auth_user", "date_of_birth"), SqlType::Date);
        assert_eq!(t("auth_userprofile", "user_id"), SqlType::Bigint);
        assert_eq!(t("auth_userprofile", "meta"), SqlType::Varchar);
        assert_eq!(learner_key("auth_userprofile"), Some("user_id"));
        assert_eq!(learner_key("student_courseenrollment"), None);
        assert!(never_exported("auth_user", "password"));
    }
}
