//! The built-in table list: Panorama's tables, the column order Panorama pins, and the
//! change columns that make some of them incremental (docs/configuration.md,
//! docs/incremental.md).

use super::TableConfig;

/// The tables extracted when the config lists none: Panorama's 30 (tutor-contrib-panorama
/// 22's `panorama_openedx_settings.yaml`), with the big per-learner table partitioned by
/// course as Panorama does. `optional`: the table belongs to an app or plugin a site may
/// not have (edx-enterprise, openedx-progress), so its absence is a notice, not a failure.
const DEFAULT_TABLES: &[(&str, &[&str], bool)] = &[
    ("auth_user", &[], false),
    ("auth_userprofile", &[], false),
    ("student_courseenrollment", &[], false),
    ("student_courseaccessrole", &[], false),
    ("course_overviews_courseoverview", &[], false),
    ("courseware_studentmodule", &["course_id"], false),
    ("grades_persistentcoursegrade", &[], false),
    ("student_manualenrollmentaudit", &[], false),
    ("student_courseenrollmentallowed", &[], false),
    ("certificates_generatedcertificate", &[], false),
    ("course_groups_cohortmembership", &[], false),
    ("course_groups_coursecohort", &[], false),
    ("course_groups_coursecohortssettings", &[], false),
    ("course_groups_courseusergroup", &[], false),
    ("course_groups_courseusergroup_users", &[], false),
    ("course_groups_courseusergrouppartitiongroup", &[], false),
    (
        "course_groups_unregisteredlearnercohortassignments",
        &[],
        false,
    ),
    ("submissions_studentitem", &[], false),
    ("submissions_submission", &[], false),
    ("submissions_score", &[], false),
    ("submissions_scoresummary", &[], false),
    ("submissions_scoreannotation", &[], false),
    ("submissions_teamsubmission", &[], false),
    ("student_anonymoususerid", &[], false),
    ("completion_blockcompletion", &[], false),
    ("enterprise_enterprisecustomer", &[], true),
    ("enterprise_enterprisecustomeruser", &[], true),
    ("enterprise_pendingenterprisecustomeruser", &[], true),
    ("site_configuration_siteconfiguration", &[], false),
    ("openedx_progress_coursecompletionsummary", &[], true),
];

pub fn default_tables() -> Vec<TableConfig> {
    DEFAULT_TABLES
        .iter()
        .map(|(name, partition_by, optional)| TableConfig {
            name: name.to_string(),
            partition_by: partition_by.iter().map(|c| c.to_string()).collect(),
            optional: *optional,
            ..TableConfig::default()
        })
        .collect()
}

/// The columns Panorama pins for its tables, in its order (tutor-contrib-panorama 21.2.1,
/// `panorama_openedx_settings.yaml`; 22.0.2 adds openedx_progress_coursecompletionsummary,
/// whose list is not in our copy, so it follows the table). A built-in table without
/// `columns` exports these first, in this order, then every other column in physical
/// order: a site whose migration history ordered the columns otherwise (a fresh install
/// from squashed migrations, as edx-enterprise's) still writes Panorama's layout. Names
/// the database lacks (`allow_certificate`, long removed) are skipped.
pub fn panorama_column_order(table: &str) -> Option<&'static [&'static str]> {
    Some(match table {
        "auth_user" => &[
            "id",
            "password",
            "last_login",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
        ],
        "auth_userprofile" => &[
            "id",
            "name",
            "meta",
            "courseware",
            "language",
            "location",
            "year_of_birth",
            "gender",
            "level_of_education",
            "mailing_address",
            "city",
            "country",
            "goals",
            "allow_certificate",
            "bio",
            "profile_image_uploaded_at",
            "user_id",
        ],
        "student_courseenrollment" => {
            &["id", "course_id", "created", "is_active", "mode", "user_id"]
        }
        "student_courseaccessrole" => &["id", "org", "course_id", "role", "user_id"],
        "course_overviews_courseoverview" => &[
            "created",
            "modified",
            "version",
            "id",
            "_location",
            "display_name",
            "display_number_with_default",
            "display_org_with_default",
            "start",
            "end",
            "advertised_start",
            "course_image_url",
            "social_sharing_url",
            "end_of_course_survey_url",
            "certificates_display_behavior",
            "certificates_show_before_end",
            "cert_html_view_enabled",
            "has_any_active_web_certificate",
            "cert_name_short",
            "cert_name_long",
            "lowest_passing_grade",
            "days_early_for_beta",
            "mobile_available",
            "visible_to_staff_only",
            "_pre_requisite_courses_json",
            "enrollment_start",
            "enrollment_end",
            "enrollment_domain",
            "invitation_only",
            "max_student_enrollments_allowed",
            "announcement",
            "catalog_visibility",
            "course_video_url",
            "effort",
            "short_description",
            "org",
            "self_paced",
            "marketing_url",
            "eligible_for_financial_aid",
            "language",
            "certificate_available_date",
        ],
        "courseware_studentmodule" => &[
            "id",
            "module_type",
            "module_id",
            "course_id",
            "state",
            "grade",
            "max_grade",
            "done",
            "created",
            "modified",
            "student_id",
        ],
        "grades_persistentcoursegrade" => &[
            "created",
            "modified",
            "id",
            "user_id",
            "course_id",
            "course_edited_timestamp",
            "course_version",
            "grading_policy_hash",
            "percent_grade",
            "letter_grade",
            "passed_timestamp",
        ],
        "student_manualenrollmentaudit" => &[
            "id",
            "enrolled_email",
            "time_stamp",
            "state_transition",
            "reason",
            "enrolled_by_id",
            "enrollment_id",
            "role",
        ],
        "student_courseenrollmentallowed" => &[
            "id",
            "email",
            "course_id",
            "auto_enroll",
            "created",
            "user_id",
        ],
        "certificates_generatedcertificate" => &[
            "id",
            "course_id",
            "verify_uuid",
            "download_uuid",
            "download_url",
            "grade",
            "key",
            "distinction",
            "status",
            "mode",
            "name",
            "created_date",
            "modified_date",
            "error_reason",
            "user_id",
        ],
        "course_groups_cohortmembership" => &["id", "course_id", "course_user_group_id", "user_id"],
        "course_groups_coursecohort" => &["id", "assignment_type", "course_user_group_id"],
        "course_groups_coursecohortssettings" => &[
            "id",
            "is_cohorted",
            "course_id",
            "cohorted_discussions",
            "always_cohort_inline_discussions",
        ],
        "course_groups_courseusergroup" => &["id", "name", "course_id", "group_type"],
        "course_groups_courseusergroup_users" => &["id", "courseusergroup_id", "user_id"],
        "course_groups_courseusergrouppartitiongroup" => &[
            "id",
            "partition_id",
            "group_id",
            "created_at",
            "updated_at",
            "course_user_group_id",
        ],
        "course_groups_unregisteredlearnercohortassignments" => {
            &["id", "email", "course_id", "course_user_group_id"]
        }
        "submissions_studentitem" => &["id", "student_id", "course_id", "item_id", "item_type"],
        "submissions_submission" => &[
            "id",
            "uuid",
            "attempt_number",
            "submitted_at",
            "created_at",
            "raw_answer",
            "student_item_id",
            "status",
            "team_submission_id",
        ],
        "submissions_score" => &[
            "id",
            "points_earned",
            "points_possible",
            "created_at",
            "reset",
            "student_item_id",
            "submission_id",
        ],
        "submissions_scoresummary" => &["id", "highest_id", "latest_id", "student_item_id"],
        "submissions_scoreannotation" => {
            &["id", "annotation_type", "creator", "reason", "score_id"]
        }
        "submissions_teamsubmission" => &[
            "id",
            "created",
            "modified",
            "uuid",
            "attempt_number",
            "submitted_at",
            "course_id",
            "item_id",
            "team_id",
            "status",
            "submitted_by_id",
        ],
        "student_anonymoususerid" => &["id", "anonymous_user_id", "course_id", "user_id"],
        "completion_blockcompletion" => &[
            "created",
            "modified",
            "id",
            "course_key",
            "block_key",
            "block_type",
            "completion",
            "user_id",
        ],
        "enterprise_enterprisecustomer" => &[
            "created",
            "modified",
            "uuid",
            "name",
            "active",
            "site_id",
            "enable_data_sharing_consent",
            "enforce_data_sharing_consent",
            "enable_audit_enrollment",
            "enable_audit_data_reporting",
            "replace_sensitive_sso_username",
            "hide_course_original_price",
            "slug",
            "country",
            "enable_autocohorting",
            "customer_type_id",
            "enable_portal_code_management_screen",
            "enable_learner_portal",
            "enable_portal_reporting_config_screen",
            "contact_email",
            "enable_portal_subscription_management_screen",
            "enable_slug_login",
            "enable_portal_saml_configuration_screen",
            "default_contract_discount",
            "enable_analytics_screen",
            "enable_integrated_customer_learner_portal_search",
            "default_language",
            "enable_portal_lms_configurations_screen",
            "sender_alias",
            "reply_to",
            "hide_labor_market_data",
            "enable_universal_link",
            "enable_browse_and_request",
        ],
        "enterprise_enterprisecustomeruser" => &[
            "id",
            "created",
            "modified",
            "user_id",
            "enterprise_customer_id",
            "active",
            "linked",
            "invite_key_id",
            "should_inactivate_other_customers",
        ],
        "enterprise_pendingenterprisecustomeruser" => &[
            "id",
            "created",
            "modified",
            "user_email",
            "enterprise_customer_id",
        ],
        "site_configuration_siteconfiguration" => &["id", "site_id", "enabled", "site_values"],
        _ => return None,
    })
}

/// Open edX tables whose change column is reliable (docs/incremental.md has the evidence
/// for each): a Django `auto_now` timestamp that every save of the row updates, or the
/// creation time of rows that are never updated.
pub fn known_change_column(table: &str) -> Option<&'static str> {
    match table {
        "courseware_studentmodule"
        | "grades_persistentcoursegrade"
        | "grades_persistentsubsectiongrade"
        | "course_overviews_courseoverview"
        // model_utils TimeStampedModel: `modified` is auto_now, and the apps write these
        // rows through save() or update_or_create(), never QuerySet.update().
        | "completion_blockcompletion"
        | "submissions_teamsubmission"
        | "enterprise_enterprisecustomer"
        | "openedx_progress_coursecompletionsummary" => Some("modified"),
        "certificates_generatedcertificate" => Some("modified_date"),
        // Scores are append-only: a new score (or a reset) is a new row.
        "submissions_score" => Some("created_at"),
        _ => None,
    }
}
