-- edlake: the Open edX tables edlake extracts by default, as a current release
-- (Verawood, Tutor 22) creates them, for the local MariaDB/MySQL stand-in.
--
-- Each table says where it comes from: the Django model and the migrations that
-- give its physical column order (a fresh install runs squashed migrations where
-- an app has them). Sources read: openedx/edx-platform's models and migrations
-- as the code search index holds them (master; the repository is too big to
-- mirror here, so no release tag was checked out),
-- openedx/edx-submissions v4.0.1, openedx/completion master (4.x),
-- openedx/edx-enterprise v8.8.0, aulasneo/openedx-progress (the plugin behind
-- Panorama 22's openedx_progress_coursecompletionsummary), and the column lists
-- tutor-contrib-panorama pins, which were taken from migrated databases.
-- Types are MySQL 8 (Tutor's server): Django's UUIDField is char(32) there
-- (edx-submissions 0006 turns it into MariaDB's native uuid only on MariaDB);
-- PositiveIntegerField is int unsigned (Django's CHECK (>= 0) is left out);
-- jsonfield's JSONField is longtext. Differences from a real Open edX database,
-- on purpose:
--   * no FOREIGN KEY constraints (bulk loads stay simple); the index Django
--     creates for a ForeignKey column is kept where no other index covers it;
--   * every table is utf8mb4 / utf8mb4_unicode_ci (Tutor >= 18.1 default);
--   * split_modulestore_django_splitmodulestorecourseindex.course_id is
--     utf8mb4_bin, as in the real table.
-- Applied by scripts/seed.py (DROP + CREATE); statements are separated by a
-- ';' at the end of a line, which seed.py relies on.

SET NAMES utf8mb4;

-- ---------------------------------------------------------------- auth_user
-- Source: django.contrib.auth.models.User (AbstractUser field order, auth migrations
-- 0001..0012), plus the UNIQUE email edx-platform adds; the order Panorama pins.
DROP TABLE IF EXISTS `auth_user`;
CREATE TABLE `auth_user` (
  `id` int NOT NULL AUTO_INCREMENT,
  `password` varchar(128) NOT NULL,
  `last_login` datetime(6) NULL DEFAULT NULL,
  `is_superuser` tinyint(1) NOT NULL,
  `username` varchar(150) NOT NULL,
  `first_name` varchar(150) NOT NULL,
  `last_name` varchar(150) NOT NULL,
  `email` varchar(254) NOT NULL,
  `is_staff` tinyint(1) NOT NULL,
  `is_active` tinyint(1) NOT NULL,
  `date_joined` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `username` (`username`),
  UNIQUE KEY `email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- --------------------------------------------------------- auth_userprofile
-- Source: openedx/edx-platform common/djangoapps/student/models/user.py UserProfile;
-- order from migration 0001_squashed_0031 (its CreateModel, the same order Panorama pins),
-- then phone_number (0030, an AddField inside the squash) and state (a later AddField);
-- allow_certificate, which Panorama still lists, is gone from a migrated database.
DROP TABLE IF EXISTS `auth_userprofile`;
CREATE TABLE `auth_userprofile` (
  `id` int NOT NULL AUTO_INCREMENT,
  `name` varchar(255) NOT NULL,
  `meta` longtext NOT NULL,
  `courseware` varchar(255) NOT NULL,
  `language` varchar(255) NOT NULL,
  `location` varchar(255) NOT NULL,
  `year_of_birth` int NULL DEFAULT NULL,
  `gender` varchar(6) NULL DEFAULT NULL,
  `level_of_education` varchar(6) NULL DEFAULT NULL,
  `mailing_address` longtext NULL,
  `city` longtext NULL,
  `country` varchar(2) NULL DEFAULT NULL,
  `goals` longtext NULL,
  `bio` varchar(3000) NULL DEFAULT NULL,
  `profile_image_uploaded_at` datetime(6) NULL DEFAULT NULL,
  `user_id` int NOT NULL,
  `phone_number` varchar(50) NULL DEFAULT NULL,
  `state` varchar(2) NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `user_id` (`user_id`),
  KEY `auth_userprofile_name_50909f10` (`name`),
  KEY `auth_userprofile_language_8948d814` (`language`),
  KEY `auth_userprofile_location_ca92e4f6` (`location`),
  KEY `auth_userprofile_year_of_birth_6559b9a5` (`year_of_birth`),
  KEY `auth_userprofile_gender_44a122fb` (`gender`),
  KEY `auth_userprofile_level_of_education_93927e04` (`level_of_education`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- -------------------------------------------------- student_courseenrollment
-- Source: openedx/edx-platform common/djangoapps/student/models/course_enrollment.py
-- CourseEnrollment; order of migration 0001_squashed_0031 (course is a ForeignKey to
-- CourseOverview without a constraint: column course_id). No modified column.
DROP TABLE IF EXISTS `student_courseenrollment`;
CREATE TABLE `student_courseenrollment` (
  `id` int NOT NULL AUTO_INCREMENT,
  `course_id` varchar(255) NOT NULL,
  `created` datetime(6) NULL DEFAULT NULL,
  `is_active` tinyint(1) NOT NULL,
  `mode` varchar(100) NOT NULL,
  `user_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `student_courseenrollment_user_id_course_id_5d34a47f_uniq` (`user_id`, `course_id`),
  KEY `student_courseenrollment_course_id_a6f93be8` (`course_id`),
  KEY `student_courseenrollment_created_79829893` (`created`),
  KEY `student_courseenrollment_user_id_4263a8e2` (`user_id`),
  KEY `student_cou_user_id_b19dcd_idx` (`user_id`, `created` DESC)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- -------------------------------------------------- courseware_studentmodule
-- Source: openedx/edx-platform lms/djangoapps/courseware/models.py StudentModule
-- (BigAutoField id; student FK last, as Panorama pins it).
DROP TABLE IF EXISTS `courseware_studentmodule`;
CREATE TABLE `courseware_studentmodule` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `module_type` varchar(32) NOT NULL,
  `module_id` varchar(255) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `state` longtext NULL,
  `grade` double NULL DEFAULT NULL,
  `max_grade` double NULL DEFAULT NULL,
  `done` varchar(8) NOT NULL,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `student_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `courseware_studentmodule_student_id_module_id_course_id_uniq` (`student_id`, `module_id`, `course_id`),
  KEY `courseware_studentmodule_module_type_f4f8863f` (`module_type`),
  KEY `courseware_studentmodule_course_id_0637cb49` (`course_id`),
  KEY `courseware_studentmodule_grade_adac1ba7` (`grade`),
  KEY `courseware_studentmodule_created_9976b4ad` (`created`),
  KEY `courseware_studentmodule_modified_f6a0b0cc` (`modified`),
  KEY `courseware_stats` (`module_id`, `grade`, `student_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------------ certificates_generatedcertificate
-- Source: openedx/edx-platform lms/djangoapps/certificates/models.py GeneratedCertificate;
-- order of migration 0001_initial (user FK last), as Panorama pins it.
DROP TABLE IF EXISTS `certificates_generatedcertificate`;
CREATE TABLE `certificates_generatedcertificate` (
  `id` int NOT NULL AUTO_INCREMENT,
  `course_id` varchar(255) NOT NULL,
  `verify_uuid` varchar(32) NOT NULL,
  `download_uuid` varchar(32) NOT NULL,
  `download_url` varchar(128) NOT NULL,
  `grade` varchar(5) NOT NULL,
  `key` varchar(32) NOT NULL,
  `distinction` tinyint(1) NOT NULL,
  `status` varchar(32) NOT NULL,
  `mode` varchar(32) NOT NULL,
  `name` varchar(255) NOT NULL,
  `created_date` datetime(6) NOT NULL,
  `modified_date` datetime(6) NOT NULL,
  `error_reason` varchar(512) NOT NULL,
  `user_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `certificates_generatedc_user_id_course_id_07c2d5b8_uniq` (`user_id`, `course_id`),
  KEY `certificates_generatedcertificate_verify_uuid_97405316` (`verify_uuid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- --------------------------------------------- grades_persistentcoursegrade
-- Source: openedx/edx-platform lms/djangoapps/grades/models.py PersistentCourseGrade
-- (TimeStampedModel, explicit UnsignedBigIntAutoField id: created, modified come first).
DROP TABLE IF EXISTS `grades_persistentcoursegrade`;
CREATE TABLE `grades_persistentcoursegrade` (
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `course_edited_timestamp` datetime(6) NULL DEFAULT NULL,
  `course_version` varchar(255) NOT NULL,
  `grading_policy_hash` varchar(255) NOT NULL,
  `percent_grade` double NOT NULL,
  `letter_grade` varchar(255) NOT NULL,
  `passed_timestamp` datetime(6) NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `grades_persistentcoursegrade_course_id_user_id_d7b585c9_uniq` (`course_id`, `user_id`),
  KEY `grades_persistentcoursegrade_passed_timestamp_course_id_idx` (`passed_timestamp`, `course_id`),
  KEY `grades_persistentcoursegrade_modified_course_id_idx` (`modified`, `course_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ----------------------------------------- grades_persistentsubsectiongrade
-- Source: openedx/edx-platform lms/djangoapps/grades/models.py PersistentSubsectionGrade
-- (not a default table; kept for the questions in scripts/lake-questions.sql);
-- visible_blocks is a ForeignKey to VisibleBlocks.hashed with db_column visible_blocks_hash;
-- first_attempted was added by a later migration.
DROP TABLE IF EXISTS `grades_persistentsubsectiongrade`;
CREATE TABLE `grades_persistentsubsectiongrade` (
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `usage_key` varchar(255) NOT NULL,
  `subtree_edited_timestamp` datetime(6) NULL DEFAULT NULL,
  `course_version` varchar(255) NOT NULL,
  `earned_all` double NOT NULL,
  `possible_all` double NOT NULL,
  `earned_graded` double NOT NULL,
  `possible_graded` double NOT NULL,
  `visible_blocks_hash` varchar(100) NOT NULL,
  `first_attempted` datetime(6) NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `grades_persistentsubsect_course_id_user_id_usage_key_uniq` (`course_id`, `user_id`, `usage_key`),
  KEY `grades_persistentsubsectiongrade_modified_course_usage_idx` (`modified`, `course_id`, `usage_key`),
  KEY `grades_persistentsubsectiongrade_first_attempted_idx` (`first_attempted`, `course_id`, `user_id`),
  KEY `grades_persistentsubsectiongrade_visible_blocks_hash_idx` (`visible_blocks_hash`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------------ course_overviews_courseoverview
-- Source: openedx/edx-platform openedx/core/djangoapps/content/course_overviews/models.py
-- CourseOverview. The first 41 columns in the order Panorama pins (0001_initial ..
-- 0014_courseoverview_certificate_available_date), then the AddFields of 0018 (end_date,
-- start_date), 0023 (banner_image_url), 0024 (has_highlights), 0025_auto_20210702_1602
-- (proctoring), 0026 (entrance exam), 0027_auto_20221102_1109 (external_id) and
-- 0028_flex_peer_ora_course_setting (Quince).
DROP TABLE IF EXISTS `course_overviews_courseoverview`;
CREATE TABLE `course_overviews_courseoverview` (
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `version` int NOT NULL,
  `id` varchar(255) NOT NULL,
  `_location` varchar(255) NOT NULL,
  `display_name` longtext NULL,
  `display_number_with_default` longtext NOT NULL,
  `display_org_with_default` longtext NOT NULL,
  `start` datetime(6) NULL DEFAULT NULL,
  `end` datetime(6) NULL DEFAULT NULL,
  `advertised_start` longtext NULL,
  `course_image_url` longtext NOT NULL,
  `social_sharing_url` longtext NULL,
  `end_of_course_survey_url` longtext NULL,
  `certificates_display_behavior` longtext NULL,
  `certificates_show_before_end` tinyint(1) NOT NULL,
  `cert_html_view_enabled` tinyint(1) NOT NULL,
  `has_any_active_web_certificate` tinyint(1) NOT NULL,
  `cert_name_short` longtext NOT NULL,
  `cert_name_long` longtext NOT NULL,
  `lowest_passing_grade` decimal(5,2) NULL DEFAULT NULL,
  `days_early_for_beta` double NULL DEFAULT NULL,
  `mobile_available` tinyint(1) NOT NULL,
  `visible_to_staff_only` tinyint(1) NOT NULL,
  `_pre_requisite_courses_json` longtext NOT NULL,
  `enrollment_start` datetime(6) NULL DEFAULT NULL,
  `enrollment_end` datetime(6) NULL DEFAULT NULL,
  `enrollment_domain` longtext NULL,
  `invitation_only` tinyint(1) NOT NULL,
  `max_student_enrollments_allowed` int NULL DEFAULT NULL,
  `announcement` datetime(6) NULL DEFAULT NULL,
  `catalog_visibility` longtext NULL,
  `course_video_url` longtext NULL,
  `effort` longtext NULL,
  `short_description` longtext NULL,
  `org` longtext NOT NULL,
  `self_paced` tinyint(1) NOT NULL,
  `marketing_url` longtext NULL,
  `eligible_for_financial_aid` tinyint(1) NOT NULL,
  `language` longtext NULL,
  `certificate_available_date` datetime(6) NULL DEFAULT NULL,
  `end_date` datetime(6) NULL DEFAULT NULL,
  `start_date` datetime(6) NULL DEFAULT NULL,
  `banner_image_url` longtext NOT NULL,
  `has_highlights` tinyint(1) NULL DEFAULT NULL,
  `allow_proctoring_opt_out` tinyint(1) NOT NULL,
  `enable_proctored_exams` tinyint(1) NOT NULL,
  `proctoring_escalation_email` longtext NULL,
  `proctoring_provider` longtext NULL,
  `entrance_exam_enabled` tinyint(1) NOT NULL,
  `entrance_exam_id` varchar(255) NOT NULL,
  `entrance_exam_minimum_score_pct` double NOT NULL,
  `external_id` varchar(128) NULL DEFAULT NULL,
  `force_on_flexible_peer_openassessments` tinyint(1) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------------------- student_courseaccessrole
-- Source: openedx/edx-platform common/djangoapps/student/models/user.py CourseAccessRole;
-- migration 0001_squashed_0031.
DROP TABLE IF EXISTS `student_courseaccessrole`;
CREATE TABLE `student_courseaccessrole` (
  `id` int NOT NULL AUTO_INCREMENT,
  `org` varchar(64) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `role` varchar(64) NOT NULL,
  `user_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `student_courseaccessrole_user_id_org_course_id_role_uniq` (`user_id`, `org`, `course_id`, `role`),
  KEY `student_courseaccessrole_org_6d2dbb7a` (`org`),
  KEY `student_courseaccessrole_course_id_60fb355e` (`course_id`),
  KEY `student_courseaccessrole_role_1ac888ea` (`role`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- -------------------------------------------------- student_anonymoususerid
-- Source: openedx/edx-platform common/djangoapps/student/models/user.py AnonymousUserId;
-- migration 0001_squashed_0031. anonymous_user_id is 32 hex (shake_128, md5 before).
DROP TABLE IF EXISTS `student_anonymoususerid`;
CREATE TABLE `student_anonymoususerid` (
  `id` int NOT NULL AUTO_INCREMENT,
  `anonymous_user_id` varchar(32) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `user_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `anonymous_user_id` (`anonymous_user_id`),
  KEY `student_anonymoususerid_course_id_99cc6a18` (`course_id`),
  KEY `student_anonymoususerid_user_id_0fb2ad5c` (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- -------------------------------------------- student_manualenrollmentaudit
-- Source: openedx/edx-platform common/djangoapps/student/models/course_enrollment.py
-- ManualEnrollmentAudit; migration 0001_squashed_0031 (role added by 0015, in the squash).
DROP TABLE IF EXISTS `student_manualenrollmentaudit`;
CREATE TABLE `student_manualenrollmentaudit` (
  `id` int NOT NULL AUTO_INCREMENT,
  `enrolled_email` varchar(255) NOT NULL,
  `time_stamp` datetime(6) NULL DEFAULT NULL,
  `state_transition` varchar(255) NOT NULL,
  `reason` longtext NULL,
  `enrolled_by_id` int NULL DEFAULT NULL,
  `enrollment_id` int NULL DEFAULT NULL,
  `role` varchar(64) NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `student_manualenrollmentaudit_enrolled_email_bfb7ec2b` (`enrolled_email`),
  KEY `student_manualenrollmentaudit_enrolled_by_id_b4c2c4f5` (`enrolled_by_id`),
  KEY `student_manualenrollmentaudit_enrollment_id_a0bc2b0e` (`enrollment_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------------ student_courseenrollmentallowed
-- Source: openedx/edx-platform common/djangoapps/student/models/course_enrollment.py
-- CourseEnrollmentAllowed; migration 0001_squashed_0031 (user FK added by 0014).
DROP TABLE IF EXISTS `student_courseenrollmentallowed`;
CREATE TABLE `student_courseenrollmentallowed` (
  `id` int NOT NULL AUTO_INCREMENT,
  `email` varchar(255) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `auto_enroll` tinyint(1) NOT NULL,
  `created` datetime(6) NULL DEFAULT NULL,
  `user_id` int NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `student_courseenrollmentallowed_email_course_id_1e23ed5e_uniq` (`email`, `course_id`),
  KEY `student_courseenrollmentallowed_email_969706a0` (`email`),
  KEY `student_courseenrollmentallowed_course_id_67eff667` (`course_id`),
  KEY `student_courseenrollmentallowed_created_b2066658` (`created`),
  KEY `student_courseenrollmentallowed_user_id_5875cce6` (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- -------------------------------------------- course_groups_courseusergroup
-- Source: openedx/edx-platform openedx/core/djangoapps/course_groups/models.py
-- CourseUserGroup (and, below, CourseCohort, CohortMembership, CourseCohortsSettings,
-- the users M2M table, CourseUserGroupPartitionGroup, UnregisteredLearnerCohortAssignments);
-- the column orders are the ones Panorama pins.
DROP TABLE IF EXISTS `course_groups_courseusergroup`;
CREATE TABLE `course_groups_courseusergroup` (
  `id` int NOT NULL AUTO_INCREMENT,
  `name` varchar(255) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `group_type` varchar(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `course_groups_courseusergroup_name_course_id_b767231e_uniq` (`name`, `course_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ---------------------------------------------- course_groups_coursecohort
DROP TABLE IF EXISTS `course_groups_coursecohort`;
CREATE TABLE `course_groups_coursecohort` (
  `id` int NOT NULL AUTO_INCREMENT,
  `assignment_type` varchar(20) NOT NULL,
  `course_user_group_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `course_user_group_id` (`course_user_group_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------------ course_groups_cohortmembership
DROP TABLE IF EXISTS `course_groups_cohortmembership`;
CREATE TABLE `course_groups_cohortmembership` (
  `id` int NOT NULL AUTO_INCREMENT,
  `course_id` varchar(255) NOT NULL,
  `course_user_group_id` int NOT NULL,
  `user_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `course_groups_cohortmembership_user_id_course_id_c247eb7c_uniq` (`user_id`, `course_id`),
  KEY `course_groups_cohortmembership_course_user_group_id_6ea50b45` (`course_user_group_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------- course_groups_coursecohortssettings
DROP TABLE IF EXISTS `course_groups_coursecohortssettings`;
CREATE TABLE `course_groups_coursecohortssettings` (
  `id` int NOT NULL AUTO_INCREMENT,
  `is_cohorted` tinyint(1) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `cohorted_discussions` longtext NULL,
  `always_cohort_inline_discussions` tinyint(1) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `course_id` (`course_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ----------------------------- course_groups_courseusergroup_users (M2M)
-- Not in the reference: Django's auto-created table for CourseUserGroup.users.
DROP TABLE IF EXISTS `course_groups_courseusergroup_users`;
CREATE TABLE `course_groups_courseusergroup_users` (
  `id` int NOT NULL AUTO_INCREMENT,
  `courseusergroup_id` int NOT NULL,
  `user_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `course_groups_courseuser_courseusergroup_id_user_id_uniq` (`courseusergroup_id`, `user_id`),
  KEY `course_groups_courseusergroup_users_user_id_4ebcf3bf` (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ---------------------------- course_groups_courseusergrouppartitiongroup
-- Not in the reference: links a cohort to a user-partition group.
DROP TABLE IF EXISTS `course_groups_courseusergrouppartitiongroup`;
CREATE TABLE `course_groups_courseusergrouppartitiongroup` (
  `id` int NOT NULL AUTO_INCREMENT,
  `partition_id` int NOT NULL,
  `group_id` int NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  `course_user_group_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `course_user_group_id` (`course_user_group_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ---------------------- course_groups_unregisteredlearnercohortassignments
-- Not in the reference: cohort pre-assignment by e-mail (PII: email).
DROP TABLE IF EXISTS `course_groups_unregisteredlearnercohortassignments`;
CREATE TABLE `course_groups_unregisteredlearnercohortassignments` (
  `id` int NOT NULL AUTO_INCREMENT,
  `email` varchar(255) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `course_user_group_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `course_groups_unregisteredl_course_id_email_81a9d1db_uniq` (`course_id`, `email`),
  KEY `course_groups_unregisteredl_course_user_group_id_c1c8a247` (`course_user_group_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ---------------------- split_modulestore_django_splitmodulestorecourseindex
-- Source: openedx/edx-platform common/djangoapps/split_modulestore_django/models.py
-- SplitModulestoreCourseIndex (Nutmeg+); read by course_structures, not a default table.
DROP TABLE IF EXISTS `split_modulestore_django_splitmodulestorecourseindex`;
CREATE TABLE `split_modulestore_django_splitmodulestorecourseindex` (
  `id` int NOT NULL AUTO_INCREMENT,
  `objectid` varchar(24) NOT NULL,
  `course_id` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `org` varchar(255) NOT NULL,
  `draft_version` varchar(24) NOT NULL,
  `published_version` varchar(24) NOT NULL,
  `library_version` varchar(24) NOT NULL,
  `wiki_slug` varchar(255) NOT NULL,
  `base_store` varchar(20) NOT NULL,
  `edited_on` datetime(6) NOT NULL,
  `last_update` datetime(6) NOT NULL,
  `edited_by_id` int NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `objectid` (`objectid`),
  UNIQUE KEY `course_id` (`course_id`),
  KEY `split_modulestore_django_splitmodulestorecourseindex_org_idx` (`org`),
  KEY `split_modulestore_django_sp_wiki_slug_8a3c5d9e` (`wiki_slug`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ---------------------------------------------------- submissions_studentitem
-- Source: openedx/edx-submissions v4.0.1 submissions/models.py StudentItem; migration
-- 0001_squashed_0005_CreateTeamModel. student_id is the anonymous user id
-- (AnonymizedUserIDField: varchar(255), indexed).
DROP TABLE IF EXISTS `submissions_studentitem`;
CREATE TABLE `submissions_studentitem` (
  `id` int NOT NULL AUTO_INCREMENT,
  `student_id` varchar(255) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `item_id` varchar(255) NOT NULL,
  `item_type` varchar(100) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `submissions_studentitem_course_id_student_id_ite_5b02ecf8_uniq` (`course_id`, `student_id`, `item_id`),
  KEY `submissions_studentitem_student_id_3070e6a0` (`student_id`),
  KEY `submissions_studentitem_course_id_05ee1ba7` (`course_id`),
  KEY `submissions_studentitem_item_id_6c409784` (`item_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------------------- submissions_teamsubmission
-- Source: openedx/edx-submissions v4.0.1 submissions/models.py TeamSubmission
-- (model_utils TimeStampedModel); migration 0001_squashed_0005_CreateTeamModel.
DROP TABLE IF EXISTS `submissions_teamsubmission`;
CREATE TABLE `submissions_teamsubmission` (
  `id` int NOT NULL AUTO_INCREMENT,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `uuid` char(32) NOT NULL,
  `attempt_number` int unsigned NOT NULL,
  `submitted_at` datetime(6) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `item_id` varchar(255) NOT NULL,
  `team_id` varchar(255) NOT NULL,
  `status` varchar(1) NOT NULL,
  `submitted_by_id` int NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `submissions_teamsubmission_uuid_4d1aee73` (`uuid`),
  KEY `submissions_teamsubmission_submitted_at_74a22b0e` (`submitted_at`),
  KEY `submissions_teamsubmission_course_id_68c6908d` (`course_id`),
  KEY `submissions_teamsubmission_item_id_2bdcb26c` (`item_id`),
  KEY `submissions_teamsubmission_team_id_5fb6e2d7` (`team_id`),
  KEY `submissions_teamsubmission_submitted_by_id_5a27162a` (`submitted_by_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ----------------------------------------------------- submissions_submission
-- Source: openedx/edx-submissions v4.0.1 submissions/models.py Submission; migrations
-- 0001_squashed_0005_CreateTeamModel and 0003_ensure_ascii. The model's `answer`
-- (jsonfield, ensure_ascii) is stored in column raw_answer; status 'A' active, 'D'
-- soft-deleted (an update without any timestamp: no change column).
DROP TABLE IF EXISTS `submissions_submission`;
CREATE TABLE `submissions_submission` (
  `id` int NOT NULL AUTO_INCREMENT,
  `uuid` char(32) NOT NULL,
  `attempt_number` int unsigned NOT NULL,
  `submitted_at` datetime(6) NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `raw_answer` longtext NOT NULL,
  `student_item_id` int NOT NULL,
  `status` varchar(1) NOT NULL,
  `team_submission_id` int NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `submissions_submission_uuid_210428ab` (`uuid`),
  KEY `submissions_submission_submitted_at_9653124d` (`submitted_at`),
  KEY `submissions_submission_created_at_01c4bf22` (`created_at`),
  KEY `submissions_submission_student_item_id_9d087470` (`student_item_id`),
  KEY `submissions_submission_team_submission_id_40e6bc97` (`team_submission_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ---------------------------------------------------------- submissions_score
-- Source: openedx/edx-submissions v4.0.1 submissions/models.py Score; migration
-- 0001_squashed_0005_CreateTeamModel. Append-only: set_score and reset_score create rows.
DROP TABLE IF EXISTS `submissions_score`;
CREATE TABLE `submissions_score` (
  `id` int NOT NULL AUTO_INCREMENT,
  `points_earned` int unsigned NOT NULL,
  `points_possible` int unsigned NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `reset` tinyint(1) NOT NULL,
  `student_item_id` int NOT NULL,
  `submission_id` int NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `submissions_score_created_at_b65f0390` (`created_at`),
  KEY `submissions_score_student_item_id_de4f5954` (`student_item_id`),
  KEY `submissions_score_submission_id_ba095829` (`submission_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- --------------------------------------------------- submissions_scoresummary
-- Source: openedx/edx-submissions v4.0.1 submissions/models.py ScoreSummary (updated in
-- place: highest/latest move); migration 0001_squashed_0005_CreateTeamModel.
DROP TABLE IF EXISTS `submissions_scoresummary`;
CREATE TABLE `submissions_scoresummary` (
  `id` int NOT NULL AUTO_INCREMENT,
  `highest_id` int NOT NULL,
  `latest_id` int NOT NULL,
  `student_item_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `student_item_id` (`student_item_id`),
  KEY `submissions_scoresummary_highest_id_7fd91b8c` (`highest_id`),
  KEY `submissions_scoresummary_latest_id_2b352506` (`latest_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------------------ submissions_scoreannotation
-- Source: openedx/edx-submissions v4.0.1 submissions/models.py ScoreAnnotation; migration
-- 0001_squashed_0005_CreateTeamModel. creator is an anonymous user id.
DROP TABLE IF EXISTS `submissions_scoreannotation`;
CREATE TABLE `submissions_scoreannotation` (
  `id` int NOT NULL AUTO_INCREMENT,
  `annotation_type` varchar(255) NOT NULL,
  `creator` varchar(255) NOT NULL,
  `reason` longtext NOT NULL,
  `score_id` int NOT NULL,
  PRIMARY KEY (`id`),
  KEY `submissions_scoreannotation_annotation_type_117a2607` (`annotation_type`),
  KEY `submissions_scoreannotation_creator_5cc126c0` (`creator`),
  KEY `submissions_scoreannotation_score_id_2dda6e02` (`score_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------------------- completion_blockcompletion
-- Source: openedx/completion completion/models.py BlockCompletion (TimeStampedModel with
-- an explicit BigAutoField id, so created and modified come first); migrations
-- 0001_squashed_0003_learning_context (context_key in column course_key) and
-- 0004_rename_indexes. submit_completion saves with update_fields {completion, modified}.
DROP TABLE IF EXISTS `completion_blockcompletion`;
CREATE TABLE `completion_blockcompletion` (
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `id` bigint NOT NULL AUTO_INCREMENT,
  `course_key` varchar(255) NOT NULL,
  `block_key` varchar(255) NOT NULL,
  `block_type` varchar(64) NOT NULL,
  `completion` double NOT NULL,
  `user_id` int NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `completion_blockcompl_course_key_block_key_us_b15bac54_uniq` (`course_key`, `block_key`, `user_id`),
  KEY `completion__course__c6e6ad_idx` (`course_key`, `block_type`, `user_id`),
  KEY `completion__user_id_861fe5_idx` (`user_id`, `course_key`, `modified`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------------- enterprise_enterprisecustomer
-- Source: openedx/edx-enterprise v8.8.0 enterprise/models.py EnterpriseCustomer
-- (TimeStampedModel, uuid primary key). Physical order replayed from the migrations a
-- fresh install runs: 0001_squashed_0092_auto_20200312_1650's CreateModel, then the
-- AddFields of 0110 .. 0249 (AlterField keeps a column in place). A database migrated
-- through the unsquashed history orders the first columns as Panorama pins them;
-- edlake exports Panorama's order either way (src/config/tables.rs).
DROP TABLE IF EXISTS `enterprise_enterprisecustomer`;
CREATE TABLE `enterprise_enterprisecustomer` (
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `uuid` char(32) NOT NULL,
  `name` varchar(255) NOT NULL,
  `slug` varchar(30) NOT NULL,
  `active` tinyint(1) NOT NULL,
  `country` varchar(2) NULL DEFAULT NULL,
  `hide_course_original_price` tinyint(1) NOT NULL,
  `enable_data_sharing_consent` tinyint(1) NOT NULL,
  `enforce_data_sharing_consent` varchar(25) NOT NULL,
  `enable_audit_enrollment` tinyint(1) NOT NULL,
  `enable_audit_data_reporting` tinyint(1) NOT NULL,
  `replace_sensitive_sso_username` tinyint(1) NOT NULL,
  `enable_autocohorting` tinyint(1) NOT NULL,
  `enable_portal_code_management_screen` tinyint(1) NOT NULL,
  `enable_portal_reporting_config_screen` tinyint(1) NOT NULL,
  `enable_portal_subscription_management_screen` tinyint(1) NOT NULL,
  `enable_learner_portal` tinyint(1) NOT NULL,
  `contact_email` varchar(254) NULL DEFAULT NULL,
  `customer_type_id` int NOT NULL,
  `site_id` int NOT NULL,
  `enable_slug_login` tinyint(1) NOT NULL,
  `enable_portal_saml_configuration_screen` tinyint(1) NOT NULL,
  `default_contract_discount` decimal(8,5) NULL DEFAULT NULL,
  `enable_analytics_screen` tinyint(1) NOT NULL,
  `enable_integrated_customer_learner_portal_search` tinyint(1) NOT NULL,
  `default_language` varchar(25) NULL DEFAULT NULL,
  `enable_portal_lms_configurations_screen` tinyint(1) NOT NULL,
  `sender_alias` varchar(255) NULL DEFAULT NULL,
  `reply_to` varchar(254) NULL DEFAULT NULL,
  `hide_labor_market_data` tinyint(1) NOT NULL,
  `enable_universal_link` tinyint(1) NOT NULL,
  `enable_browse_and_request` tinyint(1) NOT NULL,
  `enable_learner_portal_offers` tinyint(1) NOT NULL,
  `enable_portal_learner_credit_management_screen` tinyint(1) NOT NULL,
  `enable_executive_education_2U_fulfillment` tinyint(1) NOT NULL,
  `auth_org_id` varchar(80) NULL DEFAULT NULL,
  `enable_generation_of_api_credentials` tinyint(1) NOT NULL,
  `enable_pathways` tinyint(1) NOT NULL,
  `enable_programs` tinyint(1) NOT NULL,
  `enable_demo_data_for_analytics_and_lpr` tinyint(1) NOT NULL,
  `enable_academies` tinyint(1) NOT NULL,
  `enable_one_academy` tinyint(1) NOT NULL,
  `disable_expiry_messaging_for_learner_credit` tinyint(1) NOT NULL,
  `enable_learner_portal_sidebar_message` tinyint(1) NOT NULL,
  `learner_portal_sidebar_content` longtext NOT NULL,
  `show_videos_in_learner_portal_search_results` tinyint(1) NOT NULL,
  `enable_learner_credit_message_box` tinyint(1) NOT NULL,
  `enable_credit_and_industry_pathways` tinyint(1) NOT NULL,
  `enable_people_management` tinyint(1) NOT NULL,
  PRIMARY KEY (`uuid`),
  UNIQUE KEY `slug` (`slug`),
  KEY `enterprise_enterprisecustomer_customer_type_id_4b1ee315` (`customer_type_id`),
  KEY `enterprise_enterprisecustomer_site_id_947ed084` (`site_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- --------------------------------------- enterprise_enterprisecustomeruser
-- Source: openedx/edx-enterprise v8.8.0 enterprise/models.py EnterpriseCustomerUser
-- (TimeStampedModel); 0001_squashed_0092's CreateModel, then 0146 (invite_key), 0152,
-- 0155, 0229 (user_fk; 0230 indexes it, 0231 makes it a ForeignKey in SQL). Rows are
-- also changed by QuerySet.update(active=False) and bulk_update, which leave `modified`
-- alone: no reliable change column.
DROP TABLE IF EXISTS `enterprise_enterprisecustomeruser`;
CREATE TABLE `enterprise_enterprisecustomeruser` (
  `id` int NOT NULL AUTO_INCREMENT,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `user_id` int unsigned NOT NULL,
  `active` tinyint(1) NOT NULL,
  `linked` tinyint(1) NOT NULL,
  `enterprise_customer_id` char(32) NOT NULL,
  `invite_key_id` char(32) NULL DEFAULT NULL,
  `should_inactivate_other_customers` tinyint(1) NOT NULL,
  `is_relinkable` tinyint(1) NOT NULL,
  `user_fk` int NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `enterprise_enterprisecus_enterprise_customer_id__ffddc29f_uniq` (`enterprise_customer_id`, `user_id`),
  KEY `enterprise_enterprisecustomeruser_user_id_aa8d772f` (`user_id`),
  KEY `enterprise_enterprisecustomeruser_invite_key_id_aa7ac9e2` (`invite_key_id`),
  KEY `idx_enterprise_user_fk` (`user_fk`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- --------------------------------- enterprise_pendingenterprisecustomeruser
-- Source: openedx/edx-enterprise v8.8.0 enterprise/models.py PendingEnterpriseCustomerUser
-- (TimeStampedModel); 0001_squashed_0092, then unique_constraints_pending_users (the
-- UNIQUE on user_email becomes UNIQUE (user_email, enterprise_customer)). Rows are
-- deleted once the learner registers.
DROP TABLE IF EXISTS `enterprise_pendingenterprisecustomeruser`;
CREATE TABLE `enterprise_pendingenterprisecustomeruser` (
  `id` int NOT NULL AUTO_INCREMENT,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `user_email` varchar(254) NOT NULL,
  `enterprise_customer_id` char(32) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `unique user and EnterpriseCustomer` (`user_email`, `enterprise_customer_id`),
  KEY `enterprise__user_em_f98d36_idx` (`user_email`, `enterprise_customer_id`),
  KEY `enterprise__user_em_488930_idx` (`user_email`),
  KEY `enterprise_pendingenterpri_enterprise_customer_id_07a7a2b5` (`enterprise_customer_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------- site_configuration_siteconfiguration
-- Source: openedx/edx-platform openedx/core/djangoapps/site_configuration/models.py
-- SiteConfiguration; 0001_initial (id, values, site), 0002 (enabled), 0004
-- (site_values), 0007 (values removed). site_values is the site's settings JSON, where
-- operators keep API keys: edlake does not export it by default (docs/privacy.md).
DROP TABLE IF EXISTS `site_configuration_siteconfiguration`;
CREATE TABLE `site_configuration_siteconfiguration` (
  `id` int NOT NULL AUTO_INCREMENT,
  `site_id` int NOT NULL,
  `enabled` tinyint(1) NOT NULL,
  `site_values` longtext NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `site_id` (`site_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- --------------------------------- openedx_progress_coursecompletionsummary
-- Source: aulasneo/openedx-progress openedx_progress/models.py CourseCompletionSummary
-- (TimeStampedModel); migration 0001_initial. The plugin Panorama 22 (tutor-contrib-
-- panorama 22.0.2) installs; written by services.upsert_completion_summary through
-- update_or_create, so `modified` moves with every recomputation.
DROP TABLE IF EXISTS `openedx_progress_coursecompletionsummary`;
CREATE TABLE `openedx_progress_coursecompletionsummary` (
  `id` int NOT NULL AUTO_INCREMENT,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `user_id` int unsigned NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `complete_count` int unsigned NOT NULL,
  `incomplete_count` int unsigned NOT NULL,
  `locked_count` int unsigned NOT NULL,
  `percent_complete` decimal(6,5) NULL DEFAULT NULL,
  `computed_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `op_unique_course_user_summary` (`course_id`, `user_id`),
  KEY `openedx_progress_coursecompletionsummary_user_id_8f5b0a4e` (`user_id`),
  KEY `openedx_progress_coursecompletionsummary_course_id_1c1d2a77` (`course_id`),
  KEY `openedx_progress_coursecompletionsummary_computed_at_5e1f0c2b` (`computed_at`),
  KEY `op_course_user_idx` (`course_id`, `user_id`),
  KEY `op_course_computed_idx` (`course_id`, `computed_at`),
  KEY `op_user_computed_idx` (`user_id`, `computed_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
