-- edlake: synthetic Open edX schema for the local MariaDB/MySQL stand-in.
--
-- Columns, types, nullability, primary keys, UNIQUE and secondary KEYs follow
-- shared/reference/openedx-data.md section 3 (a fully migrated devstack
-- database), in the order the reference lists them. Three course_groups
-- tables that the reference does not describe are modelled on the Django
-- models. Differences from a real Open edX database, on purpose:
--   * no FOREIGN KEY constraints (bulk loads stay simple); the index Django
--     creates for a ForeignKey column is kept where no other index covers it;
--   * every table is utf8mb4 / utf8mb4_unicode_ci (Tutor >= 18.1 default);
--   * split_modulestore_django_splitmodulestorecourseindex.course_id is
--     utf8mb4_bin, as in the real table.
-- Applied by scripts/seed.py (DROP + CREATE); statements are separated by a
-- ';' at the end of a line, which seed.py relies on.

SET NAMES utf8mb4;

-- ---------------------------------------------------------------- auth_user
DROP TABLE IF EXISTS `auth_user`;
CREATE TABLE `auth_user` (
  `id` int NOT NULL AUTO_INCREMENT,
  `password` varchar(128) NOT NULL,
  `last_login` datetime(6) NULL DEFAULT NULL,
  `is_superuser` tinyint(1) NOT NULL,
  `is_staff` tinyint(1) NOT NULL,
  `username` varchar(150) NOT NULL,
  `first_name` varchar(150) NOT NULL,
  `last_name` varchar(150) NOT NULL,
  `email` varchar(254) NOT NULL,
  `is_active` tinyint(1) NOT NULL,
  `date_joined` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `username` (`username`),
  UNIQUE KEY `email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- --------------------------------------------------------- auth_userprofile
DROP TABLE IF EXISTS `auth_userprofile`;
CREATE TABLE `auth_userprofile` (
  `id` int NOT NULL AUTO_INCREMENT,
  `user_id` int NOT NULL,
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
  `goals` longtext NULL,
  `country` varchar(2) NULL DEFAULT NULL,
  `state` varchar(2) NULL DEFAULT NULL,
  `bio` varchar(3000) NULL DEFAULT NULL,
  `phone_number` varchar(50) NULL DEFAULT NULL,
  `profile_image_uploaded_at` datetime(6) NULL DEFAULT NULL,
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
DROP TABLE IF EXISTS `certificates_generatedcertificate`;
CREATE TABLE `certificates_generatedcertificate` (
  `id` int NOT NULL AUTO_INCREMENT,
  `user_id` int NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `verify_uuid` varchar(32) NOT NULL,
  `download_uuid` varchar(32) NOT NULL,
  `key` varchar(32) NOT NULL,
  `download_url` varchar(128) NOT NULL,
  `grade` varchar(5) NOT NULL,
  `distinction` tinyint(1) NOT NULL,
  `status` varchar(32) NOT NULL,
  `mode` varchar(32) NOT NULL,
  `name` varchar(255) NOT NULL,
  `created_date` datetime(6) NOT NULL,
  `modified_date` datetime(6) NOT NULL,
  `error_reason` varchar(512) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `certificates_generatedc_user_id_course_id_07c2d5b8_uniq` (`user_id`, `course_id`),
  KEY `certificates_generatedcertificate_verify_uuid_97405316` (`verify_uuid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- --------------------------------------------- grades_persistentcoursegrade
DROP TABLE IF EXISTS `grades_persistentcoursegrade`;
CREATE TABLE `grades_persistentcoursegrade` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `user_id` int NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `course_version` varchar(255) NOT NULL,
  `course_edited_timestamp` datetime(6) NULL DEFAULT NULL,
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
DROP TABLE IF EXISTS `grades_persistentsubsectiongrade`;
CREATE TABLE `grades_persistentsubsectiongrade` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `user_id` int NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `course_version` varchar(255) NOT NULL,
  `usage_key` varchar(255) NOT NULL,
  `subtree_edited_timestamp` datetime(6) NULL DEFAULT NULL,
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
DROP TABLE IF EXISTS `course_overviews_courseoverview`;
CREATE TABLE `course_overviews_courseoverview` (
  `id` varchar(255) NOT NULL,
  `_location` varchar(255) NOT NULL,
  `entrance_exam_id` varchar(255) NOT NULL,
  `external_id` varchar(128) NULL DEFAULT NULL,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `start` datetime(6) NULL DEFAULT NULL,
  `end` datetime(6) NULL DEFAULT NULL,
  `enrollment_start` datetime(6) NULL DEFAULT NULL,
  `enrollment_end` datetime(6) NULL DEFAULT NULL,
  `announcement` datetime(6) NULL DEFAULT NULL,
  `certificate_available_date` datetime(6) NULL DEFAULT NULL,
  `start_date` datetime(6) NULL DEFAULT NULL,
  `end_date` datetime(6) NULL DEFAULT NULL,
  `version` int NOT NULL,
  `max_student_enrollments_allowed` int NULL DEFAULT NULL,
  `display_number_with_default` longtext NOT NULL,
  `display_org_with_default` longtext NOT NULL,
  `org` longtext NOT NULL,
  `course_image_url` longtext NOT NULL,
  `banner_image_url` longtext NOT NULL,
  `cert_name_short` longtext NOT NULL,
  `cert_name_long` longtext NOT NULL,
  `_pre_requisite_courses_json` longtext NOT NULL,
  `display_name` longtext NULL,
  `advertised_start` longtext NULL,
  `social_sharing_url` longtext NULL,
  `end_of_course_survey_url` longtext NULL,
  `certificates_display_behavior` longtext NULL,
  `enrollment_domain` longtext NULL,
  `catalog_visibility` longtext NULL,
  `course_video_url` longtext NULL,
  `effort` longtext NULL,
  `short_description` longtext NULL,
  `marketing_url` longtext NULL,
  `language` longtext NULL,
  `proctoring_escalation_email` longtext NULL,
  `proctoring_provider` longtext NULL,
  `certificates_show_before_end` tinyint(1) NOT NULL,
  `cert_html_view_enabled` tinyint(1) NOT NULL,
  `has_any_active_web_certificate` tinyint(1) NOT NULL,
  `mobile_available` tinyint(1) NOT NULL,
  `visible_to_staff_only` tinyint(1) NOT NULL,
  `invitation_only` tinyint(1) NOT NULL,
  `self_paced` tinyint(1) NOT NULL,
  `eligible_for_financial_aid` tinyint(1) NOT NULL,
  `allow_proctoring_opt_out` tinyint(1) NOT NULL,
  `enable_proctored_exams` tinyint(1) NOT NULL,
  `entrance_exam_enabled` tinyint(1) NOT NULL,
  `force_on_flexible_peer_openassessments` tinyint(1) NOT NULL,
  `has_highlights` tinyint(1) NULL DEFAULT NULL,
  `lowest_passing_grade` decimal(5,2) NULL DEFAULT NULL,
  `days_early_for_beta` double NULL DEFAULT NULL,
  `entrance_exam_minimum_score_pct` double NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ------------------------------------------------- student_courseaccessrole
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
